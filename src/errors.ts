/**
 * roomstate's error hierarchy. Every error carries a stable `code` that callers
 * can switch on; messages are one sentence that quotes the bad value.
 *
 * @packageDocumentation
 */

/** Stable error codes used across the codec, server, client and CLI. */
export const RoomStateErrorCode = {
  /** A frame or packet could not be decoded. */
  Codec: 'ROOM_ERR_CODEC',
  /** A value did not have the expected shape. */
  Validation: 'ROOM_ERR_VALIDATION',
  /** A token was missing, malformed, expired or for another room. */
  Auth: 'ROOM_ERR_AUTH',
  /** The server answered a request with an `error` response. */
  Server: 'ROOM_ERR_SERVER',
  /** The addressed participant is unknown, gone or has messaging disabled. */
  ParticipantNotFound: 'ROOM_ERR_PARTICIPANT_NOT_FOUND',
  /** The room connection closed for good while the operation was pending. */
  Closed: 'ROOM_ERR_CLOSED',
  /** Messaging was disabled while the operation was pending. */
  MessagingDisabled: 'ROOM_ERR_MESSAGING_DISABLED',
  /** A configured limit was exceeded. */
  Limit: 'ROOM_ERR_LIMIT',
  /** An operation did not complete in time. */
  Timeout: 'ROOM_ERR_TIMEOUT',
  /** The cluster's Redis could not be reached. */
  ClusterUnavailable: 'ROOM_ERR_CLUSTER_UNAVAILABLE',
  /** An agent rejected a turn (`turn.start.rejected`); the protocol's code is on the error. */
  AgentTurnRejected: 'ROOM_ERR_AGENT_TURN_REJECTED',
  /** An agent turn ended as cancelled (interrupted). */
  AgentTurnCancelled: 'ROOM_ERR_AGENT_TURN_CANCELLED',
  /** An agent turn ended with an error other than cancelled. */
  AgentTurnFailed: 'ROOM_ERR_AGENT_TURN_FAILED',
  /** The agent left the room (or the room closed) before the turn ended. */
  AgentLeft: 'ROOM_ERR_AGENT_LEFT',
  /** An agent rejected a steer (`turn.steer.rejected`), or the turn ended before answering it. */
  AgentSteerRejected: 'ROOM_ERR_AGENT_STEER_REJECTED',
} as const;

/** One of the {@link RoomStateErrorCode} values. */
export type RoomStateErrorCode = (typeof RoomStateErrorCode)[keyof typeof RoomStateErrorCode];

/** Base class of every error roomstate throws on purpose. */
export class RoomStateError extends Error {
  /** A stable, machine-readable code (`ROOM_ERR_*`). */
  readonly code: RoomStateErrorCode;

  constructor(code: RoomStateErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RoomStateError';
    this.code = code;
  }
}

/** A frame, packet or envelope could not be decoded. */
export class CodecError extends RoomStateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(RoomStateErrorCode.Codec, message, options);
    this.name = 'CodecError';
  }
}

/** A value did not match what the protocol expects; `field` names where. */
export class ValidationError extends RoomStateError {
  /** Dotted path of the offending field, e.g. `arguments.json.to_participant_id`. */
  readonly field: string;

  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super(RoomStateErrorCode.Validation, message, options);
    this.name = 'ValidationError';
    this.field = field;
  }
}

/**
 * The server answered a request with an `error` response. `protocolCode` is
 * the numeric MeshAgent error code (see {@link ErrorCode}) when present.
 */
export class RoomServerError extends RoomStateError {
  /** The numeric protocol error code, e.g. 1003. */
  readonly protocolCode: number | undefined;

  constructor(message: string, protocolCode?: number, code: RoomStateErrorCode = RoomStateErrorCode.Server) {
    super(code, message);
    this.name = 'RoomServerError';
    this.protocolCode = protocolCode;
  }
}

/** Describes a value for an error message: short, quoted, never huge. */
export function describeValue(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (value === undefined) text = 'undefined';
  else if (value instanceof Uint8Array) text = `${value.byteLength} bytes`;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
