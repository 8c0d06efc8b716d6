/**
 * `RoomClient`: one participant's connection to a room, shaped like the
 * official TypeScript SDK's. It owns the connection and messaging actors,
 * the outbox and the RxJS pipeline that connects them to the websocket.
 *
 * @packageDocumentation
 */
import { Observable, Subject, filter, firstValueFrom, map, take } from 'rxjs';
import { createActor, type ActorOptions, type AnyActorLogic } from 'xstate';
import {
  connectionMachine,
  messagingMachine,
  type AttemptFailure,
  type ConnectionEnd,
  type ConnectionEvent,
  type ConnectionStateName,
  type MessagingEvent,
  type RoomInfo,
} from '../../machines/index.js';
import { ValidationError, describeValue } from '../errors.js';
import { CONNECTION_CLOSE_CODES, closedError } from './errors.js';
import { topStateName } from './state-name.js';
import { openLink } from './link.js';
import { MessagingClient } from './messaging-client.js';
import { CONNECTION_ENV, DEFAULT_URL, fromEnvironment } from './environment.js';
import { emitted, select } from './observe.js';
import { Outbox } from './outbox.js';
import { PresenceActors } from './presence-actors.js';
import { LocalParticipant, RemoteParticipant } from './participants.js';
import { runPipeline, type ClientLogger, type ConnectionActor, type MessagingActor } from './pipeline.js';
import { resolveWebSocket, type WebSocketConstructor } from './websocket.js';
import { roomUrl } from '../protocol/room-url.js';
import type { RoomMessage } from './wire.js';
import { ResumeSession, type ResumeOutcome } from './resume.js';

/**
 * Options of {@link RoomClient}. `url`, `room` and `token` fall back on the
 * environment in Node, as the official client's do: `ROOMSTATE_URL`,
 * `MESHAGENT_ROOM_URL`, `MESHAGENT_API_URL`; `ROOMSTATE_ROOM`,
 * `MESHAGENT_ROOM`; `ROOMSTATE_TOKEN`, `MESHAGENT_TOKEN`.
 */
export interface RoomClientOptions {
  /**
   * The server's base URL, e.g. `ws://127.0.0.1:8080` (http(s) is turned into ws(s)).
   * @defaultValue `ROOMSTATE_URL`, else `MESHAGENT_ROOM_URL`, else `MESHAGENT_API_URL`, else `ws://127.0.0.1:8080`
   */
  url?: string;
  /**
   * The room name; the client connects to `<url>/rooms/<room>`.
   * @defaultValue `ROOMSTATE_ROOM`, else `MESHAGENT_ROOM` (one is required)
   */
  room?: string;
  /**
   * The participant token (sent as `?token=`, as the official 0.39.9 client does).
   * @defaultValue `ROOMSTATE_TOKEN`, else `MESHAGENT_TOKEN` (one is required)
   */
  token?: string;
  /**
   * An XState inspector (e.g. `createBrowserInspector().inspect` from
   * `@statelyai/inspect`), passed to every actor the client creates.
   */
  inspect?: ActorOptions<AnyActorLogic>['inspect'];
  /**
   * The websocket constructor.
   * @defaultValue `globalThis.WebSocket` (the Node entry point defaults to `ws`)
   */
  WebSocket?: WebSocketConstructor;
  /**
   * Longest time in ms to keep reconnecting after the connection fails;
   * `null` for no limit, 0 to never reconnect.
   * @defaultValue null
   */
  reconnectTimeout?: number | null;
  /**
   * Longest time in ms from `start()` to the first successful connection,
   * over all attempts; then `start()` rejects with
   * {@link ConnectTimeoutError}, which says why the last attempt failed.
   * `null` for no limit. Reconnecting after a first success is governed by
   * `reconnectTimeout` instead.
   * @defaultValue 30000
   */
  connectTimeout?: number | null;
  /**
   * Time in ms allowed for one connection attempt, from opening the socket
   * to receiving both `room_ready` and `connected`.
   * @defaultValue 30000
   */
  handshakeTimeout?: number;
  /**
   * Time in ms allowed between asking to enable messaging and the server's
   * `messaging.enabled`.
   * @defaultValue 30000
   */
  enableTimeout?: number;
  /**
   * Delay before reconnect attempt `attempt` (0 for the first).
   * @defaultValue 500 ms doubling per attempt, capped at 30 s
   */
  retryDelay?: (attempt: number) => number;
  /**
   * Most sends and broadcasts written and awaiting the server's answer at
   * once; later ones wait in the outbox, in order, and go out as answers
   * arrive. Bounds what a burst puts in the socket's buffer; a burst of any
   * size is paced, never refused.
   * @defaultValue 256
   */
  sendWindow?: number;
  /**
   * Where warnings (undecodable frames, failed one-way requests) go.
   * @defaultValue console
   */
  logger?: ClientLogger;
  /**
   * Whether to come back as the same participant after a dropped connection
   * (the resume extension, docs/PROTOCOL.md#extension-resumable-participants):
   * the server keeps the session for its recovery window and replays what
   * was sent meanwhile; every message reaches the app once, in order, and
   * no send is lost or doubled. Servers without the extension ignore the
   * ask, and the client reconnects as a new participant, as with `false`.
   * A client that never reconnects (`reconnectTimeout: 0`) never asks: the
   * server would only hold its messages for a resume that cannot come.
   * @defaultValue true, unless `reconnectTimeout` is 0
   */
  resume?: boolean;
}

/** Default of {@link RoomClientOptions.sendWindow}. */
export const SEND_WINDOW = 256;

/** The name `connectionState$` reports for a connection snapshot. */
export function connectionStateName(snapshot: ReturnType<ConnectionActor['getSnapshot']>): ConnectionStateName {
  return topStateName<ConnectionStateName>(snapshot);
}

// The messaging machine per custom enable timeout: provided once per value, shared by every client that
// uses it; without one, the machine itself (which holds the default).
const messagingMachines = new Map<number, typeof messagingMachine>();

function messagingMachineWith(enableTimeout: number | undefined): typeof messagingMachine {
  if (enableTimeout === undefined) return messagingMachine;
  let machine = messagingMachines.get(enableTimeout);
  if (machine === undefined) messagingMachines.set(enableTimeout, (machine = messagingMachine.provide({ delays: { enableTimeout } })));
  return machine;
}

/** The url, room and token to use: the options', else the environment's. */
function resolveTarget(options: RoomClientOptions): { url: string; room: string; token: string } {
  const url = options.url ?? fromEnvironment(CONNECTION_ENV.url) ?? DEFAULT_URL;
  const room = options.room ?? fromEnvironment(CONNECTION_ENV.room);
  if (room === undefined) throw new ValidationError('room', `no room: pass the room option or set ${CONNECTION_ENV.room.join(' or ')}.`);
  const token = options.token ?? fromEnvironment(CONNECTION_ENV.token);
  if (token === undefined) throw new ValidationError('token', `no token: pass the token option or set ${CONNECTION_ENV.token.join(' or ')}.`);
  if (typeof token !== 'string' || token.length === 0) {
    throw new ValidationError('token', `token must be a non-empty string, got ${describeValue(token)}.`);
  }
  return { url, room, token };
}

function validateOptions(options: RoomClientOptions): void {
  const timeout = options.reconnectTimeout;
  if (timeout !== undefined && timeout !== null && !(Number.isFinite(timeout) && timeout >= 0)) {
    throw new ValidationError('reconnectTimeout', `reconnectTimeout must be null or a non-negative number of ms, got ${describeValue(timeout)}.`);
  }
  const connect = options.connectTimeout;
  if (connect !== undefined && connect !== null && !(Number.isFinite(connect) && connect > 0)) {
    throw new ValidationError('connectTimeout', `connectTimeout must be null or a positive number of ms, got ${describeValue(connect)}.`);
  }
  const window = options.sendWindow;
  if (window !== undefined && !(Number.isInteger(window) && window > 0)) {
    throw new ValidationError('sendWindow', `sendWindow must be a positive integer, got ${describeValue(window)}.`);
  }
  for (const field of ['handshakeTimeout', 'enableTimeout'] as const) {
    const value = options[field];
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
      throw new ValidationError(field, `${field} must be a positive number of ms, got ${describeValue(value)}.`);
    }
  }
}

function resolveRecipient(messaging: MessagingActor, to: unknown): string | undefined {
  if (to instanceof RemoteParticipant) {
    // As the official client: a participant object no longer present is not found.
    return to.online && messaging.getSnapshot().context.participants.get(to.id) !== undefined ? to.id : undefined;
  }
  if (typeof to === 'string') return to || undefined;
  if (to !== null && typeof to === 'object' && typeof (to as { id?: unknown }).id === 'string') return (to as { id: string }).id || undefined;
  return undefined;
}

/**
 * A connection to one room.
 *
 * @example
 * ```ts
 * const room = new RoomClient({ url: 'ws://127.0.0.1:8080', room: 'myroom', token });
 * room.connectionState$.subscribe((state) => console.log('connection', state));
 * await room.start();
 * await room.messaging.enable();
 * await room.messaging.broadcastMessage({ type: 'announcement', message: { text: 'hello' } });
 * await room.close();
 * ```
 */
export class RoomClient {
  /** Messaging: sends, broadcasts, presence. */
  readonly messaging: MessagingClient;
  /** This client as a participant. */
  readonly localParticipant: LocalParticipant;
  // Made on first read: a process running many clients pays for no stream it does not use.
  private readonly streams: { state?: Observable<ConnectionStateName>; closeReason?: Observable<ConnectionEnd>; attemptFailed?: Observable<AttemptFailure> } = {};

  /** 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed', replayed. */
  get connectionState$(): Observable<ConnectionStateName> {
    return (this.streams.state ??= select(this.connection, connectionStateName));
  }

  /**
   * Why the connection ended for good (kind, close code and reason, HTTP
   * status and network failure when known): emits once, when the client
   * closes, replayed to late subscribers, then completes.
   */
  get closeReason$(): Observable<ConnectionEnd> {
    return (this.streams.closeReason ??= select(this.connection, (snapshot) => snapshot.context.end).pipe(
      filter((end): end is ConnectionEnd => end !== undefined),
      take(1),
    ));
  }

  /**
   * Every failed attempt to connect, while connecting for the first time
   * and while reconnecting: its close code and reason, HTTP status (with the
   * server's reason in Node) or network failure. Hot: only attempts after
   * subscribing.
   */
  get attemptFailed$(): Observable<AttemptFailure> {
    return (this.streams.attemptFailed ??= emitted(this.connection, 'connection.attempt_failed').pipe(map(({ type: _type, ...failure }) => failure)));
  }

  /**
   * Each reconnect's outcome with the resume extension: resumed as the same
   * participant (and how many missed messages were recovered), or not and
   * why (the window passed, the server's buffer overflowed, the server has
   * no such session or does not offer resuming), in which case the client
   * joined as a new participant. Hot; completes when the client closes.
   * Never emits with `resume: false`.
   */
  readonly resumed$: Observable<ResumeOutcome>;

  private readonly connection: ConnectionActor;
  private readonly messagingActor: MessagingActor;
  private readonly connectionCommands = new Subject<ConnectionEvent>();
  private readonly messagingCommands = new Subject<MessagingEvent>();
  private readonly messages = new Subject<RoomMessage>();
  private readonly controlMessages = new Subject<RoomMessage>();
  private readonly closing = new Set<Promise<void>>();
  private readonly finished: Promise<void>;
  private started: Promise<void> | undefined;

  constructor(options: RoomClientOptions = {}) {
    validateOptions(options);
    const target = resolveTarget(options);
    const WebSocket = resolveWebSocket(options.WebSocket);
    const url = roomUrl(target.url, target.room, target.token);
    const logger = options.logger ?? console;
    const retryDelay = options.retryDelay;
    // One machine definition for every client (a `.provide()`d copy costs ~25 KiB a client);
    // only a custom retryDelay, a function, needs its own. The machines hold every default.
    this.connection = createActor(retryDelay === undefined ? connectionMachine : connectionMachine.provide({ delays: { retryDelay: ({ context }) => retryDelay(context.attempt) } }), {
      input: {
        closeCodes: CONNECTION_CLOSE_CODES,
        ...(options.reconnectTimeout === undefined ? {} : { reconnectTimeout: options.reconnectTimeout }),
        ...(options.handshakeTimeout === undefined ? {} : { handshakeTimeout: options.handshakeTimeout }),
        ...(options.connectTimeout === undefined ? {} : { connectTimeout: options.connectTimeout }),
      },
      inspect: options.inspect,
    });
    this.messagingActor = createActor(messagingMachineWith(options.enableTimeout), { inspect: options.inspect });
    const messagingActor = this.messagingActor;
    const outbox = new Outbox({
      window: options.sendWindow ?? SEND_WINDOW,
      canSend: () => messagingActor.getSnapshot().hasTag('canSend'),
      refusal: () =>
        messagingActor.getSnapshot().status === 'active'
          ? undefined
          : closedError(this.connection.getSnapshot().context.end, 'the message was sent'),
      resolveTarget: (to) => resolveRecipient(messagingActor, to),
    });
    const presenceActors = new PresenceActors(options.inspect);
    const resume = options.resume === false || options.reconnectTimeout === 0 ? undefined : new ResumeSession();
    this.connection.start();
    this.messagingActor.start();
    const pipeline = runPipeline({
      connection: this.connection,
      messaging: this.messagingActor,
      openSocket: () => openLink({ WebSocket, url, onClosing: (closed) => this.track(closed), ...(resume === undefined ? {} : { resume }) }),
      connectionCommands: this.connectionCommands,
      messagingCommands: this.messagingCommands,
      outbox,
      presenceActors,
      messages: this.messages,
      controlMessages: this.controlMessages,
      logger,
      ...(resume === undefined ? {} : { resume }),
    });
    this.resumed$ = resume === undefined ? new Observable<ResumeOutcome>((subscriber) => void this.finished.then(() => subscriber.complete())) : resume.outcome$;
    this.localParticipant = new LocalParticipant(this.connection, (attributes) => this.connectionCommands.next({ type: 'attributes.set', attributes }));
    this.messaging = new MessagingClient({
      actor: this.messagingActor,
      connection: this.connection,
      command: (event) => this.messagingCommands.next(event),
      outbox,
      messages: this.messages.asObservable(),
      controlMessages: this.controlMessages.asObservable(),
      logger,
      presenceActors,
    });
    // Messaging reaches its final state right after the connection does, once
    // its last effects (clearing presence, rejecting the outbox) have run.
    this.finished = new Promise<void>((resolve) => {
      this.messagingActor.subscribe({
        complete: () => {
          // Deferred: this runs inside the actor's own notification.
          queueMicrotask(() => {
            pipeline.unsubscribe();
            this.messages.complete();
            this.controlMessages.complete();
            this.messaging.dispose();
            resolve();
          });
        },
      });
    });
  }

  private track(closed: Promise<void>): void {
    this.closing.add(closed);
    void closed.then(() => this.closing.delete(closed));
  }

  /** The current connection state. */
  get connectionState(): ConnectionStateName {
    return connectionStateName(this.connection.getSnapshot());
  }

  /** True while connected. */
  get isConnected(): boolean {
    return this.connectionState === 'connected';
  }

  /** Whether the current (or last) connection resumed the previous session: same participant id, nothing missed. */
  get resumed(): boolean {
    return this.connection.getSnapshot().context.resumed;
  }

  /** True once the connection has ended for good. */
  get isClosed(): boolean {
    return this.connectionState === 'closed';
  }

  /** Why the connection ended for good (see {@link closeReason$}); undefined until closed. */
  get closeReason(): ConnectionEnd | undefined {
    return this.connection.getSnapshot().context.end;
  }

  /** What `room_ready` said on the current (or last) connection. */
  get roomInfo(): RoomInfo | undefined {
    return this.connection.getSnapshot().context.room;
  }

  /** The room name the server reported. */
  get roomName(): string | null {
    return this.roomInfo?.roomName ?? null;
  }

  /** The session id the server reported. */
  get sessionId(): string | null {
    return this.roomInfo?.sessionId ?? null;
  }

  /**
   * Connects and resolves once the room is ready (`room_ready` and
   * `connected` received). Failed attempts are retried with backoff, except
   * a close with 1000 or an HTTP 403/404, which reject with
   * {@link RoomClosedError} (in Node its message and `end.reason` carry the
   * server's reason, e.g. "invalid signature"). Rejects with
   * {@link ConnectTimeoutError} when no attempt succeeds within
   * `connectTimeout`. Calling it again returns the same promise.
   */
  start(): Promise<void> {
    this.started ??= (async () => {
      const settled = firstValueFrom(select(this.connection, (s) => s).pipe(filter((s) => s.status !== 'active' || s.matches('connected'))));
      this.connectionCommands.next({ type: 'connection.start' });
      const snapshot = await settled;
      if (snapshot.status !== 'active') throw closedError(snapshot.context.end, 'the room became ready');
    })();
    return this.started;
  }

  /**
   * Closes the room for good: the websocket closes with 1000, pending sends
   * reject with {@link RoomClosedError}. Resolves once the socket has closed.
   */
  async close(): Promise<void> {
    this.connectionCommands.next({ type: 'connection.close' });
    await this.finished;
    await Promise.all([...this.closing]);
  }

  /** Same as {@link close}, without waiting, as the official `dispose()`. */
  dispose(): void {
    void this.close();
  }

  /** Resolves once the connection has ended for good (by `close()`, the server, or giving up). */
  waitForClose(): Promise<void> {
    return this.finished;
  }
}
