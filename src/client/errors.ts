/**
 * Typed errors of the room client. Each extends {@link RoomStateError} and
 * carries a stable `code`.
 *
 * @packageDocumentation
 */
import type { ConnectionEnd, MessagingFailure } from '../../machines/index.js';
import { PARTICIPANT_NOT_FOUND_TEXT } from '../protocol/error-codes.js';
import { RoomStateError, RoomStateErrorCode } from '../errors.js';

/**
 * The addressed participant is unknown, gone, or has messaging disabled. The
 * message is exactly "the participant was not found", the text the official
 * SDKs compare.
 */
export class ParticipantNotFoundError extends RoomStateError {
  /** The id the message was addressed to. */
  readonly participantId: string;

  constructor(participantId: string, options?: { cause?: unknown }) {
    super(RoomStateErrorCode.ParticipantNotFound, PARTICIPANT_NOT_FOUND_TEXT, options);
    this.name = 'ParticipantNotFoundError';
    this.participantId = participantId;
  }
}

function describeEnd(end: ConnectionEnd): string {
  switch (end.kind) {
    case 'user':
      return 'the room client was closed';
    case 'server':
      return `the server closed the room connection with code 1000${end.reason ? ` (${end.reason})` : ''}`;
    case 'refused':
      return `the server refused the websocket upgrade with HTTP ${end.httpStatus}; check the token and the room name`;
    case 'timeout': {
      const seconds = (end.reconnectTimeout ?? 0) / 1000;
      return `room reconnect timed out after ${seconds}s${end.reason ? ` (${end.reason})` : ''}`;
    }
    case 'lost':
      return `the room connection was lost (code ${end.code ?? 1006}${end.reason ? `, ${end.reason}` : ''}) and reconnecting is disabled`;
  }
}

/**
 * The room connection ended for good (closed by the user or the server,
 * refused at the upgrade, or out of reconnect time) while an operation was
 * pending or before it started. `end` says how.
 */
export class RoomClosedError extends RoomStateError {
  /** How the connection ended. */
  readonly end: ConnectionEnd;

  constructor(end: ConnectionEnd, operation: string) {
    super(RoomStateErrorCode.Closed, `${describeEnd(end)} before ${operation}.`);
    this.name = 'RoomClosedError';
    this.end = end;
  }
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
