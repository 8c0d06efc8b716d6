/**
 * Typed errors of the room client. Each extends {@link RoomStateError} and
 * carries a stable `code`.
 *
 * @packageDocumentation
 */
import type { ConnectionCloseCodes, ConnectionEnd, MessagingFailure, TransportClose } from '../../machines/index.js';
import { CloseCode } from '../protocol/close-codes.js';
import { PARTICIPANT_NOT_FOUND_TEXT } from '../protocol/error-codes.js';
import { RoomStateError, RoomStateErrorCode } from '../errors.js';
import { ErrorCode } from '../protocol/error-codes.js';

/**
 * The addressed participant is unknown, gone, or has messaging disabled. The
 * message is exactly "the participant was not found", the text the official
 * SDKs compare.
 */
export class ParticipantNotFoundError extends RoomStateError {
  /** The id the message was addressed to. */
  readonly participantId: string;
  /** The protocol's numeric code of this error, 1003 (as on {@link RoomServerError}). */
  readonly protocolCode = ErrorCode.NotFound;

  constructor(participantId: string, options?: { cause?: unknown }) {
    super(RoomStateErrorCode.ParticipantNotFound, PARTICIPANT_NOT_FOUND_TEXT, options);
    this.name = 'ParticipantNotFoundError';
    this.participantId = participantId;
  }
}

/** The close codes the client's connection machine reports for endings it decides itself. */
export const CONNECTION_CLOSE_CODES: ConnectionCloseCodes = { user: CloseCode.Normal, abandoned: CloseCode.Abnormal };

/** The end recorded when the user closes the room. */
export const USER_END: ConnectionEnd = { kind: 'user', code: CloseCode.Normal, reason: '' };

/** What went wrong with one websocket, in words: the network failure, the HTTP refusal, or the close. */
export function describeClose(close: TransportClose): string {
  if (close.httpStatus !== undefined) return `HTTP ${close.httpStatus}${close.reason ? `: ${close.reason}` : ''}`;
  if (close.error !== undefined) return close.error;
  if (close.code === CloseCode.Abnormal && !close.reason) return 'no answer from the server';
  return `code ${close.code}${close.reason ? `: ${close.reason}` : ''}`;
}

function describeEnd(end: ConnectionEnd): string {
  switch (end.kind) {
    case 'user':
      return 'the room client was closed';
    case 'server':
      return `the server closed the room connection with code ${end.code}${end.reason ? ` (${end.reason})` : ''}`;
    case 'refused':
      return `the server refused the websocket upgrade with ${describeClose(end)}${end.reason ? '' : '; check the token and the room name'}`;
    case 'connect_timeout':
      return `could not connect to the room within ${(end.connectTimeout ?? 0) / 1000}s (last attempt: ${describeClose(end)})`;
    case 'timeout':
      return `room reconnect timed out after ${(end.reconnectTimeout ?? 0) / 1000}s (last attempt: ${describeClose(end)})`;
    case 'lost':
      return `the room connection failed (${describeClose(end)}) and reconnecting is disabled`;
  }
}

/**
 * The room connection ended for good (closed by the user or the server,
 * refused at the upgrade, or out of connect or reconnect time) while an
 * operation was pending or before it started. `end` says how, with the
 * close code and reason.
 */
export class RoomClosedError extends RoomStateError {
  /** How the connection ended. */
  readonly end: ConnectionEnd;

  constructor(end: ConnectionEnd | undefined, operation: string, code: RoomStateErrorCode = RoomStateErrorCode.Closed) {
    const known = end ?? USER_END;
    super(code, `${describeEnd(known)} before ${operation}.`);
    this.name = 'RoomClosedError';
    this.end = known;
  }
}

/**
 * No connection succeeded within `connectTimeout` of `start()`. A
 * {@link RoomClosedError} with code `ROOM_ERR_TIMEOUT`; `end.kind` is
 * `connect_timeout` and the message says why the last attempt failed
 * (connection refused, DNS, TLS, an HTTP status, no answer).
 */
export class ConnectTimeoutError extends RoomClosedError {
  constructor(end: ConnectionEnd, operation: string) {
    super(end, operation, RoomStateErrorCode.Timeout);
    this.name = 'ConnectTimeoutError';
  }
}

/** The error for an operation cut short by the end of the connection: {@link ConnectTimeoutError} or {@link RoomClosedError}. */
export function closedError(end: ConnectionEnd | undefined, operation: string): RoomClosedError {
  return end?.kind === 'connect_timeout' ? new ConnectTimeoutError(end, operation) : new RoomClosedError(end, operation);
}

/**
 * Messaging was disabled (by the user, or because enabling failed) while a
 * send was queued, or an `enable()` was pending. `failure` is set when
 * enabling failed.
 */
export class MessagingDisabledError extends RoomStateError {
  /** Why enabling failed, when it did. */
  readonly failure: MessagingFailure | undefined;

  constructor(message: string, failure?: MessagingFailure) {
    super(RoomStateErrorCode.MessagingDisabled, message);
    this.name = 'MessagingDisabledError';
    this.failure = failure;
  }
}
