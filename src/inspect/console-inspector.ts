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
   * Delay before reconnecting after the console connection dropped, in ms.
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

/** The websocket URL of the console's inspector endpoint under `base`. */
export function inspectUrl(base: string): string {
  const url = new URL(base.replace(/^http/, 'ws'));
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${CONSOLE_INSPECT_PATH}`;
  url.search = '';
  return url.toString();
}

/** What an actor is about: the local participant id (connection) or the remote one (presence). */
function labelOf(snapshot: unknown): string {
  const context = (snapshot as { context?: Record<string, unknown> } | undefined)?.context;
  if (typeof context?.participantId === 'string') return context.participantId;
  if (typeof context?.id === 'string') return context.id;
  return '';
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

  const send = (message: InspectMessage): void => {
    if (socket?.readyState === OPEN) socket.send(JSON.stringify(message));
  };
  const connect = (): void => {
    const current = new Socket(url, [`${CONSOLE_TOKEN_PROTOCOL}${options.token}`]);
    socket = current;
    current.addEventListener('open', () => {
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
      retry = setTimeout(connect, options.retryDelayMs ?? 1000);
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
      const message: InspectMessage = { type: 'snapshot', id: ref.sessionId, event: event.event.type, value: snapshot.value ?? null, label: labelOf(snapshot), stopped };
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
