/**
 * `consoleInspector`: an XState inspector that sends a roomstate client's
 * actors (connection, messaging, one presence actor per remote participant)
 * to a room server's live console over a websocket, so that the console
 * draws them as live statecharts beside the server's view. Browser-safe: no
 * Node built-ins; the websocket is the global one unless given.
 *
 * @packageDocumentation
 */
import type { InspectionEvent } from 'xstate';
import { CONSOLE_INSPECT_PATH, CONSOLE_TOKEN_PROTOCOL, type InspectMessage } from '../console/feed-protocol.js';

/** The websocket surface the inspector uses (browsers' `WebSocket`, `ws`). */
export interface InspectorSocket {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'close' | 'error', listener: () => void): void;
}

/** A websocket constructor. */
export type InspectorSocketConstructor = new (url: string, protocols?: string | string[]) => InspectorSocket;

/** Options of {@link consoleInspector}. */
export interface ConsoleInspectorOptions {
  /** The room server's base URL (`ws://host:port`, `http://host:port`, or the same with TLS). */
  url: string;
  /** An admin token (`roomstate token --admin` or `--inspect`). */
  token: string;
  /**
   * The name the console shows for this client.
   * @defaultValue ''
   */
  name?: string;
  /**
   * The websocket constructor.
   * @defaultValue the global `WebSocket` (in Node, `roomstate/inspect` passes `ws`)
   */
  WebSocket?: InspectorSocketConstructor;
  /**
   * First delay before reconnecting after the console connection dropped or
   * was refused, in ms; it doubles on each failure up to 30 s.
   * @defaultValue 1000
   */
  retryDelayMs?: number;
}

/** An inspector to pass as a client's `inspect` option; `close()` stops it. */
export interface ConsoleInspector {
  (event: InspectionEvent): void;
  /** Closes the console connection and stops reporting. */
  close(): void;
}

const OPEN = 1;
const MAX_RETRY_DELAY_MS = 30_000;

/** The websocket URL of the console's inspector endpoint under `base`. */
export function inspectUrl(base: string): string {
  const url = new URL(base.replace(/^http/, 'ws'));
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${CONSOLE_INSPECT_PATH}`;
  url.search = '';
  return url.toString();
}

/** Longest label or title the console takes. */
const MAX_TEXT = 200;
/** Longest attributes (as JSON) the console takes; larger ones are not shown. */
const MAX_ATTRIBUTES_JSON = 2000;

/**
 * What the console shows of an actor, read from its context by shape, not by
 * machine, so that any machine with these fields is shown alike: the label
 * (the local participant id, or a remote one's `id`), the title (a
 * participant's `attributes.name`, or a `name`) and the attributes.
 */
function describe(snapshot: unknown): Pick<Extract<InspectMessage, { type: 'snapshot' }>, 'label' | 'title' | 'attributes'> {
  const context = (snapshot as { context?: Record<string, unknown> } | undefined)?.context;
  const label = typeof context?.participantId === 'string' ? context.participantId : typeof context?.id === 'string' ? context.id : '';
  const attributes = context?.attributes;
  const plain = typeof attributes === 'object' && attributes !== null && !Array.isArray(attributes) ? (attributes as Record<string, unknown>) : undefined;
  const name = typeof plain?.name === 'string' ? plain.name : typeof context?.name === 'string' ? context.name : undefined;
  const fits = plain !== undefined && JSON.stringify(plain).length <= MAX_ATTRIBUTES_JSON;
  return {
    label: label.slice(0, MAX_TEXT),
    ...(name === undefined ? {} : { title: name.slice(0, MAX_TEXT) }),
    ...(fits ? { attributes: plain } : {}),
  };
}

/**
 * Creates an inspector that reports to the console of the server at `url`.
 *
 * @example
 * ```ts
 * import { consoleInspector } from 'roomstate/inspect';
 * const inspect = consoleInspector({ url: 'ws://127.0.0.1:8080', token: adminToken, name: 'web app' });
 * const room = new RoomClient({ url, room: 'lobby', token, inspect });
 * ```
 */
export function consoleInspector(options: ConsoleInspectorOptions): ConsoleInspector {
  const Socket = options.WebSocket ?? (globalThis as { WebSocket?: InspectorSocketConstructor }).WebSocket;
  if (Socket === undefined) throw new TypeError('consoleInspector: this runtime has no global WebSocket; pass the `WebSocket` option (in Node, import from "roomstate/inspect", which passes ws).');
  const url = inspectUrl(options.url);
  const hello: InspectMessage = { type: 'client', name: options.name ?? '' };
  // Per actor: its registration and its latest snapshot, re-sent after a reconnect.
  const actors = new Map<string, { actor: InspectMessage; snapshot: InspectMessage | undefined }>();
  let socket: InspectorSocket | undefined;
  let closed = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;

  const send = (message: InspectMessage): void => {
    if (socket?.readyState === OPEN) socket.send(JSON.stringify(message));
  };
  const connect = (): void => {
    const current = new Socket(url, [`${CONSOLE_TOKEN_PROTOCOL}${options.token}`]);
    socket = current;
    current.addEventListener('open', () => {
      failures = 0;
      send(hello);
      for (const { actor, snapshot } of actors.values()) {
        send(actor);
        if (snapshot !== undefined) send(snapshot);
      }
    });
    current.addEventListener('error', () => {});
    current.addEventListener('close', () => {
      if (closed || socket !== current) return;
      socket = undefined;
      const delay = Math.min(MAX_RETRY_DELAY_MS, (options.retryDelayMs ?? 1000) * 2 ** failures++);
      retry = setTimeout(connect, delay);
    });
  };

  const inspect = ((event: InspectionEvent) => {
    if (closed) return;
    if (socket === undefined && retry === undefined) connect();
    const ref = event.actorRef as { sessionId: string; logic?: { id?: unknown; root?: unknown } };
    if (event.type === '@xstate.actor') {
      // Only state machines have statecharts to draw.
      if (ref.logic?.root === undefined || typeof ref.logic.id !== 'string') return;
      const actor: InspectMessage = { type: 'actor', id: ref.sessionId, machine: ref.logic.id, label: '' };
      actors.set(ref.sessionId, { actor, snapshot: undefined });
      send(actor);
    } else if (event.type === '@xstate.snapshot') {
      const known = actors.get(ref.sessionId);
      if (known === undefined) return;
      const snapshot = event.snapshot as { value?: unknown; status?: string };
      const stopped = snapshot.status !== 'active';
      const message: InspectMessage = { type: 'snapshot', id: ref.sessionId, event: event.event.type.slice(0, MAX_TEXT), value: snapshot.value ?? null, stopped, ...describe(snapshot) };
      if (stopped) actors.delete(ref.sessionId);
      else known.snapshot = message;
      send(message);
    }
  }) as ConsoleInspector;
  inspect.close = () => {
    closed = true;
    clearTimeout(retry);
    socket?.close(1000, 'inspector closed');
    socket = undefined;
  };
  return inspect;
}
