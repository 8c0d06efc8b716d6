/**
 * Extension: resumable participants (docs/PROTOCOL.md#extension-resumable-participants).
 * A client asks for a resume key on the websocket URL's query; the server
 * answers in an extra `room_ready` field. After a dropped connection the
 * client reconnects with the key and the number of messages it received;
 * the server re-attaches the socket to the same participant session and
 * replays what the client missed. Official clients never ask, and nothing
 * changes for them. Free of I/O.
 */
import { CodecError, describeValue } from '../errors.js';

/** Query parameter of a first connection that asks for a resume key (value `1`). */
export const RESUME_REQUEST_PARAMETER = 'roomstate_request_key';
/** Query parameter of a reconnect: the key the server gave. */
export const RESUME_KEY_PARAMETER = 'roomstate_resume';
/** Query parameter of a reconnect: how many session messages the client received (after `connected`). */
export const RESUME_RECEIVED_PARAMETER = 'roomstate_received';
/** The `room_ready` header field that carries the server's answer. */
export const RESUME_FIELD = 'roomstate_resume';

/** Why a resume attempt was refused; the client then joined as a new participant. */
export const ResumeRefusal = {
  /** No detached session has that key (it never existed, or it ended: window, limit, close, restart). */
  Unknown: 'unknown_session',
  /** The session ended while detached: the recovery window passed. */
  Expired: 'window_expired',
  /** The session ended while detached: its buffered messages went over `maxRecoveryBytes` / `maxRecoveryMessages`. */
  Overflow: 'buffer_overflow',
  /** The messages the client missed are no longer all held. */
  Gap: 'messages_lost',
  /** The key belongs to another token name or room. */
  Mismatch: 'identity_mismatch',
  /** The query's received count is not a count this session could have. */
  BadCount: 'bad_received_count',
} as const;

/** One of the {@link ResumeRefusal} reasons. */
export type ResumeRefusal = (typeof ResumeRefusal)[keyof typeof ResumeRefusal];

/** What a client asks for on its websocket URL. */
export type ResumeAsk =
  | { readonly kind: 'request' }
  | { readonly kind: 'resume'; readonly key: string; readonly received: number };

/**
 * The server's answer in `room_ready`. `key` is the session's key (new or
 * the same). On a resume: `resumed`, and when true the count of messages
 * replayed next and the highest request id the session had handled (the
 * client re-sends its unanswered requests above it); when false, `reason`.
 */
export interface ResumeAnswer {
  readonly key: string;
  readonly resumed?: boolean;
  readonly replayed?: number;
  readonly lastRequestId?: number;
  readonly reason?: string;
}

/** Longest resume key the server reads (its own are 36 characters). */
export const MAX_RESUME_KEY_LENGTH = 128;

/** The query parameters for `ask`, to add to the room URL. */
export function resumeQuery(ask: ResumeAsk): Record<string, string> {
  if (ask.kind === 'request') return { [RESUME_REQUEST_PARAMETER]: '1' };
  return { [RESUME_KEY_PARAMETER]: ask.key, [RESUME_RECEIVED_PARAMETER]: String(ask.received) };
}

/**
 * What the query asks for; undefined when it asks nothing (official
 * clients). A malformed resume (bad count, oversized key) is a fresh
 * request whose answer names the problem, never an upgrade refusal.
 */
export function parseResumeAsk(query: URLSearchParams): (ResumeAsk & { readonly malformed?: ResumeRefusal }) | undefined {
  const key = query.get(RESUME_KEY_PARAMETER);
  if (key !== null) {
    const text = query.get(RESUME_RECEIVED_PARAMETER) ?? '';
    const received = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
    if (key.length === 0 || key.length > MAX_RESUME_KEY_LENGTH) return { kind: 'request', malformed: ResumeRefusal.Unknown };
    if (!Number.isSafeInteger(received)) return { kind: 'request', malformed: ResumeRefusal.BadCount };
    return { kind: 'resume', key, received };
  }
  return query.get(RESUME_REQUEST_PARAMETER) === null ? undefined : { kind: 'request' };
}

/** The `room_ready` field for `answer`. */
export function resumeAnswerField(answer: ResumeAnswer): Record<string, unknown> {
  const field: Record<string, unknown> = { key: answer.key };
  if (answer.resumed !== undefined) field.resumed = answer.resumed;
  if (answer.replayed !== undefined) field.replayed = answer.replayed;
  if (answer.lastRequestId !== undefined) field.last_request_id = answer.lastRequestId;
  if (answer.reason !== undefined) field.reason = answer.reason;
  return field;
}

/** Reads the server's answer from a `room_ready` header; undefined when absent. Throws {@link CodecError} naming the field. */
export function decodeResumeAnswer(header: Record<string, unknown>): ResumeAnswer | undefined {
  const field = header[RESUME_FIELD];
  if (field === undefined) return undefined;
  if (field === null || typeof field !== 'object' || Array.isArray(field)) throw new CodecError(`room_ready.${RESUME_FIELD}: expected an object, got ${describeValue(field)}.`);
  const value = field as Record<string, unknown>;
  if (typeof value.key !== 'string' || value.key.length === 0) throw new CodecError(`room_ready.${RESUME_FIELD}.key: expected a non-empty string, got ${describeValue(value.key)}.`);
  const count = (name: string): number | undefined => {
    const v = value[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < -1) throw new CodecError(`room_ready.${RESUME_FIELD}.${name}: expected an integer, got ${describeValue(v)}.`);
    return v;
  };
  const answer: { key: string; resumed?: boolean; replayed?: number; lastRequestId?: number; reason?: string } = { key: value.key };
  if (typeof value.resumed === 'boolean') answer.resumed = value.resumed;
  const replayed = count('replayed');
  if (replayed !== undefined) answer.replayed = replayed;
  const last = count('last_request_id');
  if (last !== undefined) answer.lastRequestId = last;
  if (typeof value.reason === 'string') answer.reason = value.reason;
  return answer;
}
