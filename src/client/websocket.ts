/**
 * The websocket the client needs, reduced to the WHATWG `WebSocket` surface
 * that both browsers and the `ws` package implement, plus the room URL.
 * Imports nothing from Node.
 *
 * @packageDocumentation
 */
import { ValidationError } from '../errors.js';

/** The events the client listens to. */
export interface WebSocketLikeEventMap {
  open: unknown;
  message: { data: unknown };
  close: { code: number; reason: string };
  error: { message?: string; error?: unknown };
}

/** The part of a WHATWG `WebSocket` the client uses. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener<K extends keyof WebSocketLikeEventMap>(type: K, listener: (event: WebSocketLikeEventMap[K]) => void): void;
  removeEventListener<K extends keyof WebSocketLikeEventMap>(type: K, listener: (event: WebSocketLikeEventMap[K]) => void): void;
}

/**
 * A websocket constructor: the global `WebSocket` in a browser, the `ws`
 * package's `WebSocket` in Node.
 */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** WHATWG ready states. */
export const ReadyState = { Connecting: 0, Open: 1, Closing: 2, Closed: 3 } as const;

/**
 * The constructor to use: the one given, else `globalThis.WebSocket`.
 * Throws a {@link ValidationError} when there is neither (Node 20 has no
 * global `WebSocket`: import the client from `roomstate`, or
 * `roomstate/client/node`, or pass `WebSocket` from `ws`).
 */
export function resolveWebSocket(given: WebSocketConstructor | undefined): WebSocketConstructor {
  if (given !== undefined) return given;
  const global = (globalThis as { WebSocket?: unknown }).WebSocket;
  if (typeof global === 'function') return global as WebSocketConstructor;
  throw new ValidationError(
    'WebSocket',
    'no WebSocket constructor: this runtime has no global WebSocket; pass the `WebSocket` option (in Node, the WebSocket class of the `ws` package) or use the Node entry point.',
  );
}
