/**
 * What a websocket's `error` event says about why it failed, in words a user
 * can act on: a refused connection, a DNS failure, a TLS failure, or an HTTP
 * status (with the server's reason where the runtime exposes it). Browsers
 * hide all of this, so every field is optional. Imports nothing from Node.
 *
 * @packageDocumentation
 */
import type { WebSocketLikeEventMap } from './websocket.js';
import { upgradeRefusedStatus } from '../ws-internals.js';

/** An upgrade refused with an HTTP status, as the Node websocket reports it (see `NodeWebSocket`). */
export interface UpgradeRefusal {
  /** The HTTP status code. */
  readonly statusCode: number;
  /** The server's reason: the JSON body's `error`, else the status line's text. */
  readonly statusReason: string;
}

/** What a socket error event told about the failure. */
export interface SocketFailure {
  readonly httpStatus?: number;
  /** The server's refusal reason, for an HTTP status. */
  readonly httpReason?: string;
  /** The network failure, e.g. "connection refused (ECONNREFUSED 127.0.0.1:9)". */
  readonly error?: string;
}


const NETWORK_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'DNS lookup failed',
  EAI_AGAIN: 'DNS lookup failed',
};

// Node's TLS verification codes (CERT_HAS_EXPIRED, DEPTH_ZERO_SELF_SIGNED_CERT, ...) and OpenSSL's ERR_SSL_*.
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/;

function describeCode(code: string, message: string): string | undefined {
  const detail = message.includes(code) ? message : `${code}: ${message}`;
  const known = NETWORK_CODES[code];
  if (known !== undefined) return `${known} (${detail})`;
  if (TLS_CODE.test(code)) return `TLS failed (${detail})`;
  return undefined;
}

/** Reads an `error` event; returns only what it could tell. */
export function socketFailureOf(event: WebSocketLikeEventMap['error']): SocketFailure {
  const error = event.error as (Error & { code?: unknown } & Partial<UpgradeRefusal>) | undefined;
  if (error !== undefined && typeof error.statusCode === 'number') {
    return { httpStatus: error.statusCode, httpReason: typeof error.statusReason === 'string' ? error.statusReason : '' };
  }
  const messages = [event.message, error instanceof Error ? error.message : undefined];
  for (const text of messages) {
    // `ws` without an 'unexpected-response' listener reports a refused upgrade in its message only.
    const status = typeof text === 'string' ? upgradeRefusedStatus(text) : undefined;
    if (status !== undefined) return { httpStatus: status };
  }
  if (error instanceof Error && typeof error.code === 'string') {
    const described = describeCode(error.code, error.message);
    if (described !== undefined) return { error: described };
  }
  return {};
}
