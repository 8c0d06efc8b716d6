/**
 * Websocket close codes and reasons of the room protocol, and which endings
 * are final (no reconnect): what the server closes with, what clients act on.
 * See docs/PROTOCOL.md#close-codes. Free of I/O.
 */

/** The close codes a room connection ends with. */
export const CloseCode = {
  /** Orderly, final close: clients do not reconnect. */
  Normal: 1000,
  /** The peer is going away (a page closing): from a client, a leave like {@link CloseCode.Normal}. */
  GoingAway: 1001,
  /** Repeated framing violations (`maxProtocolErrors`). */
  ProtocolError: 1002,
  /** A text frame arrived; the protocol is binary only. */
  UnsupportedData: 1003,
  /** No close frame: the connection dropped (reported locally, never sent). */
  Abnormal: 1006,
  /** Policy: slow consumer over its outgoing buffer limit, or a partial message that stalled. */
  PolicyViolation: 1008,
  /** An exception escaped while handling this connection's input (a server bug). */
  InternalError: 1011,
  /** The server is going away (shutdown): clients reconnect. */
  ServiceRestart: 1012,
  /** The token's `exp` passed: reconnect with a fresh token. */
  TokenExpired: 4001,
} as const;

/** One of the {@link CloseCode} values. */
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** The reasons the server closes with, by close. */
export const CloseReason = {
  /** With {@link CloseCode.ServiceRestart}, by default. */
  ShuttingDown: 'server shutting down',
  /** With {@link CloseCode.UnsupportedData}. */
  TextFrame: 'text frames are not supported; the protocol is binary',
  /** With {@link CloseCode.ProtocolError}. */
  TooManyProtocolErrors: 'too many protocol errors',
  /** With {@link CloseCode.PolicyViolation}: the outgoing buffer stayed over `maxBufferedBytes`. */
  SlowConsumer: 'slow consumer: outgoing buffer limit exceeded',
  /** With {@link CloseCode.PolicyViolation}: a message's packets stopped coming. */
  PartialMessageTimeout: 'partial message timed out',
  /** With {@link CloseCode.InternalError}. */
  InternalError: 'internal server error',
  /** With {@link CloseCode.TokenExpired}. */
  TokenExpired: 'token expired',
  /** With {@link CloseCode.Normal}: a resumable session moved to a newer connection (or its resume failed for good). */
  Resumed: 'the session was resumed on another connection',
} as const;

/**
 * Whether `code` may be sent in a close frame (RFC 6455 7.4): 1000-1014
 * except 1004 (reserved) and 1005, 1006 (reported locally, never sent), or
 * 3000-4999 (registered and private codes). 1015 is reported, never sent.
 */
export function isSendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

/** Whether a client's close is its leave (1000, or 1001 from a closing page), not a drop. */
export function isLeaveClose(code: number): boolean {
  return code === CloseCode.Normal || code === CloseCode.GoingAway;
}

/** HTTP statuses at the upgrade that no client retries: the token or the room name is wrong. */
export const FINAL_UPGRADE_STATUSES: readonly number[] = [403, 404];

/**
 * Whether a websocket ending is final, so a client must not reconnect: an
 * orderly close (1000), or an upgrade refused with 403 or 404. Anything else
 * (another close code, 429, 503, a network failure) is retried with backoff.
 */
export function isFinalClose(close: { readonly code: number; readonly httpStatus?: number }): boolean {
  return close.code === CloseCode.Normal || (close.httpStatus !== undefined && FINAL_UPGRADE_STATUSES.includes(close.httpStatus));
}
