/**
 * Why an agent turn (or a steer) did not end cleanly. Each error extends
 * {@link RoomStateError} with a stable `code`; where the agent said why,
 * `agentCode` is the protocol's `error.code` (e.g. `unknown_model`,
 * `cancelled`, `turn_ended`).
 *
 * @packageDocumentation
 */
import { RoomStateError, RoomStateErrorCode } from '../errors.js';

/** Base of the turn errors: which thread, which turn (when the agent gave it an id). */
export class AgentTurnError extends RoomStateError {
  /** The thread the turn ran on. */
  readonly threadId: string;
  /** The agent's id of the turn; undefined when it never answered. */
  readonly turnId: string | undefined;
  /** The agent's `error.code`, when it sent one. */
  readonly agentCode: string | null | undefined;

  constructor(code: RoomStateErrorCode, message: string, details: { threadId: string; turnId?: string; agentCode?: string | null }) {
    super(code, message);
    this.name = 'AgentTurnError';
    this.threadId = details.threadId;
    this.turnId = details.turnId;
    this.agentCode = details.agentCode;
  }
}

/** The agent rejected the turn (`turn.start.rejected`); `agentCode` is its code, e.g. `unknown_model`. */
export class AgentTurnRejectedError extends AgentTurnError {
  constructor(message: string, details: { threadId: string; agentCode: string | null }) {
    super(RoomStateErrorCode.AgentTurnRejected, message, details);
    this.name = 'AgentTurnRejectedError';
  }
}

/** The turn ended as cancelled (`turn.ended` with code `cancelled`), usually after an interrupt. */
export class AgentTurnCancelledError extends AgentTurnError {
  constructor(message: string, details: { threadId: string; turnId?: string }) {
    super(RoomStateErrorCode.AgentTurnCancelled, message, { ...details, agentCode: 'cancelled' });
    this.name = 'AgentTurnCancelledError';
  }
}

/** The turn ended with another error (`turn.ended` with `error`). */
export class AgentTurnFailedError extends AgentTurnError {
  constructor(message: string, details: { threadId: string; turnId?: string; agentCode: string | null }) {
    super(RoomStateErrorCode.AgentTurnFailed, message, details);
    this.name = 'AgentTurnFailedError';
  }
}

/** The agent left the room (or the room connection closed) before the turn ended. */
export class AgentLeftError extends AgentTurnError {
  constructor(message: string, details: { threadId: string; turnId?: string }) {
    super(RoomStateErrorCode.AgentLeft, message, details);
    this.name = 'AgentLeftError';
  }
}

/** The agent did not answer the start, or the turn outlasted its timeout (`ROOM_ERR_TIMEOUT`). */
export class AgentTurnTimeoutError extends AgentTurnError {
  /** Which limit ran out: the agent's answer to the start, or the whole turn. */
  readonly limit: 'answer' | 'turn';

  constructor(message: string, details: { threadId: string; turnId?: string; limit: 'answer' | 'turn' }) {
    super(RoomStateErrorCode.Timeout, message, details);
    this.name = 'AgentTurnTimeoutError';
    this.limit = details.limit;
  }
}

/** The agent rejected a steer (`turn.steer.rejected`, `agentCode` e.g. `turn_not_in_progress`), or the turn ended first. */
export class AgentSteerRejectedError extends AgentTurnError {
  constructor(message: string, details: { threadId: string; turnId?: string; agentCode: string | null }) {
    super(RoomStateErrorCode.AgentSteerRejected, message, details);
    this.name = 'AgentSteerRejectedError';
  }
}
