/**
 * The one hook through which the server reports what it does: requests in,
 * messages out, errors, rate limiting, slow consumers, refused upgrades and
 * participant lifecycle. Metrics and the console listen here; the core calls
 * it with one line at each place and never depends on who listens.
 */
import type { StateValue } from 'xstate';
import { MessageType } from '../../protocol/index.js';
import { MESSAGING_TOOLKIT } from '../../protocol/messaging.js';

/** What a relayed message was: a `send`, a `broadcast`, or a presence push. */
export type DeliveryKind = 'direct' | 'broadcast' | 'presence';

/** What a request was: a messaging relay, a presence change, or anything else. */
export type RequestKind = DeliveryKind | 'other';

/** What an observer can read of one participant session; the fields are live. */
export interface ObservedSession {
  readonly id: string;
  readonly name: string;
  readonly role: string;
  readonly attributes: Readonly<Record<string, unknown>>;
  /** Whether messaging is enabled. */
  readonly enabled: boolean;
  /** Whether the connection dropped and the session waits for its client to resume it. */
  readonly detached: boolean;
  readonly room: { readonly name: string };
}

/**
 * Listener of server events. Every method is called synchronously on the hot
 * path, so implementations must be cheap and must not throw.
 */
export interface ServerObserver {
  /** A complete request arrived (after rate limiting) in `room`; `bytes` is its data size. */
  requestReceived(kind: RequestKind, bytes: number, room: string): void;
  /** One encoded message of `bytes` wire bytes went out to `recipients` connections. */
  messageDelivered(kind: DeliveryKind, bytes: number, recipients: number): void;
  /** An error response with protocol code `code` (e.g. 1002) was sent. */
  errorResponse(code: number): void;
  /** A participant went over a rate limit and reading from it was paused (nothing is refused). */
  rateLimited(): void;
  /** A connection was cut because its outgoing buffer went over the limit. */
  slowConsumerCut(): void;
  /** A websocket upgrade (or a join right after it) was refused. */
  upgradeRefused(status: number, reason: string): void;
  /** A log line a client caused was not written: its source or the server was over its log rate. */
  logLineSuppressed(): void;
  /** A participant joined `room`. */
  participantJoined(room: string, participantId: string): void;
  /** A participant left `room` (closed, dropped or kicked). */
  participantLeft(room: string, participantId: string): void;
  /** A resumable participant's connection dropped: it stays in `room`, detached, for the recovery window. */
  participantDetached(room: string, participantId: string): void;
  /** A detached (or still attached) resumable participant resumed on a new connection; `replayed` messages were sent again. */
  participantResumed(room: string, participantId: string, replayed: number): void;
  /** A participant enabled messaging. */
  messagingEnabled(room: string, participantId: string): void;
  /** A participant disabled messaging (or left while enabled). */
  messagingDisabled(room: string, participantId: string): void;
  /** A participant's attributes changed; `changed` holds the keys set. */
  attributesChanged(room: string, participantId: string, changed: Readonly<Record<string, unknown>>): void;
  /**
   * A participant's `participant-session` actor took `event` (`xstate.init` when it starts)
   * and is now in `state`. Lifecycle only: never called per relayed message.
   */
  sessionTransition(session: ObservedSession, event: string, state: StateValue): void;
}

const ignore = (): void => {};

/** An observer that ignores everything: the default. */
export const noopObserver: ServerObserver = Object.freeze({
  requestReceived: ignore,
  messageDelivered: ignore,
  errorResponse: ignore,
  rateLimited: ignore,
  slowConsumerCut: ignore,
  upgradeRefused: ignore,
  logLineSuppressed: ignore,
  participantJoined: ignore,
  participantLeft: ignore,
  participantDetached: ignore,
  participantResumed: ignore,
  messagingEnabled: ignore,
  messagingDisabled: ignore,
  attributesChanged: ignore,
  sessionTransition: ignore,
});

/**
 * One observer that forwards every event to each of `observers` in order.
 * Observers may implement only some methods; the rest are ignored.
 *
 * @example
 * ```ts
 * const observer = combineObservers(metrics.observer, console.observer);
 * createRoomServer({ secret, observer });
 * ```
 */
export function combineObservers(...observers: Partial<ServerObserver>[]): ServerObserver {
  const combined = {} as Record<keyof ServerObserver, (...args: never[]) => void>;
  for (const name of Object.keys(noopObserver) as (keyof ServerObserver)[]) {
    const listeners = observers.map((observer) => observer[name]?.bind(observer)).filter((listener) => listener !== undefined) as ((...args: unknown[]) => void)[];
    combined[name] =
      listeners.length === 0 ? ignore : listeners.length === 1 ? listeners[0] : (...args: unknown[]) => {
        for (const listener of listeners) listener(...args);
      };
  }
  return combined as unknown as ServerObserver;
}

/** Messaging tools by the kind of request they are. */
const TOOL_KINDS: Readonly<Record<string, RequestKind>> = { send: 'direct', broadcast: 'broadcast', enable: 'presence', disable: 'presence' };

/** The kind of a request from its type and envelope header. */
export function requestKind(type: string, header: Readonly<Record<string, unknown>>): RequestKind {
  if (type === MessageType.SetAttributes) return 'presence';
  if (type === MessageType.InvokeTool && header.toolkit === MESSAGING_TOOLKIT && typeof header.tool === 'string') {
    return Object.hasOwn(TOOL_KINDS, header.tool) ? TOOL_KINDS[header.tool] : 'other';
  }
  return 'other';
}
