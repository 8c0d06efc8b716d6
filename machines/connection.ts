/**
 * The connection statechart: one room connection over successive
 * websockets. `idle` until started, `connecting` until the first success
 * (attempts with backoff, within an overall `connectTimeout`), `connected`
 * once both `room_ready` and `connected` have arrived, `reconnecting`
 * (backoff 0.5 s doubling to 30 s, an optional overall `reconnectTimeout`)
 * after an established connection failed, and the final `closed`.
 *
 * A websocket ending the runtime marks `final` (the protocol's rule: an
 * orderly close, or an upgrade refused with 403/404) ends the connection;
 * anything else retries. The machine knows no close codes: the runtime
 * decides which endings are final, and passes in the codes the machine
 * reports for endings it decides itself (`closeCodes`). The machine also holds the local participant's
 * identity: its id (new on every connection, unless the runtime resumed the
 * session) and its attributes, which it re-sends whole after a reconnect
 * (after a resume only those set while offline: the server kept the rest).
 *
 * Pure: imports only `xstate`. Effects leave as emitted events the runtime
 * listens to with `actor.on()`: `socket.open`, `socket.close`,
 * `attributes.send`, and the notifications `connection.established`,
 * `connection.attempt_failed`, `connection.lost`, `connection.ended`.
 *
 * @packageDocumentation
 */
import { assign, emit, setup } from 'xstate';

/** First reconnect delay, doubled after every failed attempt. */
export const RECONNECT_BASE_DELAY_MS = 500;
/** Longest reconnect delay. */
export const RECONNECT_MAX_DELAY_MS = 30_000;
/** Default time allowed for one attempt, from opening the socket to `connected`. */
export const HANDSHAKE_TIMEOUT_MS = 30_000;
/** Default time allowed from `connection.start` to the first successful connection, over all attempts. */
export const CONNECT_TIMEOUT_MS = 30_000;
/** Longest delay a timer can take (setTimeout's limit); stands for "never". */
export const NEVER_MS = 2_147_483_647;

/** The info `room_ready` carries. */
export interface RoomInfo {
  readonly roomName: string | undefined;
  readonly roomUrl: string | undefined;
  readonly sessionId: string | undefined;
}

/**
 * How a websocket ended: its close code and reason, the HTTP status if the
 * upgrade was refused (`reason` is then the server's refusal reason, when the
 * runtime can read it), and what failed below the websocket, when known.
 */
export interface TransportClose {
  readonly code: number;
  readonly reason: string;
  readonly httpStatus?: number;
  /** The network failure, e.g. "connection refused (ECONNREFUSED)"; absent when unknown (browsers hide it). */
  readonly error?: string;
}

/** One attempt to connect failed. `attempt` counts the failures since the last success, from 1. */
export interface AttemptFailure extends TransportClose {
  readonly attempt: number;
  /** Whether a connection had been established before (false while connecting for the first time). */
  readonly established: boolean;
}

/**
 * Why the connection ended for good.
 * - `user`: `close()` was called.
 * - `server`: the server closed the connection for good (a `final` close without an HTTP status).
 * - `refused`: the upgrade was answered with HTTP 403 or 404.
 * - `connect_timeout`: no connection succeeded within `connectTimeout` of `start()`.
 * - `timeout`: reconnecting took longer than `reconnectTimeout`.
 * - `lost`: the connection failed and reconnecting is disabled (`reconnectTimeout` 0).
 *
 * `code` and `reason` are those of the last websocket (`closeCodes.user` and ''
 * for `user`; `closeCodes.abandoned` and '' when no attempt had ended yet).
 */
export interface ConnectionEnd {
  readonly kind: 'user' | 'server' | 'refused' | 'connect_timeout' | 'timeout' | 'lost';
  readonly code: number;
  readonly reason: string;
  readonly httpStatus?: number;
  /** The network failure of the last attempt, when known (see {@link TransportClose.error}). */
  readonly error?: string;
  /** The configured reconnect timeout, for `timeout`. */
  readonly reconnectTimeout?: number;
  /** The configured connect timeout, for `connect_timeout`. */
  readonly connectTimeout?: number;
}

/**
 * The close codes the machine reports for endings it decides itself; the
 * runtime passes the protocol's (roomstate's client: 1000 and 1006).
 */
export interface ConnectionCloseCodes {
  /** The code of a `connection.close` (the runtime closes the websocket with it). */
  readonly user: number;
  /** The code of an attempt the machine gave up on (handshake timeout), or of an end before any attempt ended. */
  readonly abandoned: number;
}

/** Input of the connection machine. */
export interface ConnectionInput {
  /** The close codes to report for endings the machine decides itself. */
  closeCodes: ConnectionCloseCodes;
  /**
   * Longest time in ms to keep reconnecting after a failure; `null` for no
   * limit, 0 to never reconnect.
   * @defaultValue null
   */
  reconnectTimeout?: number | null;
  /**
   * Longest time in ms from `connection.start` to the first successful
   * connection, over all attempts; `null` for no limit.
   * @defaultValue 30000
   */
  connectTimeout?: number | null;
  /**
   * Time in ms allowed for one attempt's handshake (the `handshakeTimeout`
   * delay). In the input rather than `.provide()`d, so every client shares
   * one machine definition.
   * @defaultValue 30000
   */
  handshakeTimeout?: number;
}

/** What the connection machine knows. */
export interface ConnectionContext {
  readonly closeCodes: ConnectionCloseCodes;
  /** Failed attempts since the last successful connection; sets the backoff. */
  readonly attempt: number;
  /** Whether any connection has ever been established. */
  readonly established: boolean;
  readonly reconnectTimeout: number | null;
  readonly connectTimeout: number | null;
  /** The `handshakeTimeout` delay, in ms. */
  readonly handshakeTimeout: number;
  /** `room_ready` of the current attempt. */
  readonly pendingRoom: RoomInfo | undefined;
  /** Whether `room_ready` of the current attempt said the session was resumed. */
  readonly pendingResumed: boolean;
  /** `connected` of the current attempt. */
  readonly pendingJoin: { participantId: string; attributes: Record<string, unknown> } | undefined;
  /** The room of the current (or last) connection. */
  readonly room: RoomInfo | undefined;
  /** The local participant's id on the current (or last) connection; '' before the first. */
  readonly participantId: string;
  /** Whether the current (or last) connection resumed the previous session (same participant, nothing missed). */
  readonly resumed: boolean;
  /** The local participant's attributes: the server's, with local values on top. */
  readonly attributes: Readonly<Record<string, unknown>>;
  /** Attributes set locally (sent on the first connection; the whole set is re-sent on reconnects). */
  readonly localAttributes: Readonly<Record<string, unknown>>;
  /** Attributes set while not connected since the last connection (all a resumed session needs sent). */
  readonly offlineAttributes: Readonly<Record<string, unknown>>;
  /** How the last websocket ended. */
  readonly lastClose: TransportClose | undefined;
  /** Why the connection ended, once `closed`. */
  readonly end: ConnectionEnd | undefined;
}

/** Events the connection machine accepts. */
export type ConnectionEvent =
  | { type: 'connection.start' }
  | { type: 'connection.close' }
  | { type: 'attributes.set'; attributes: Readonly<Record<string, unknown>> }
  | { type: 'transport.opened' }
  /** A websocket ended; `final` when the protocol forbids reconnecting after it. */
  | ({ type: 'transport.closed'; final: boolean } & TransportClose)
  /** `resumed`: the server re-attached this socket to the previous session (the resume extension). */
  | ({ type: 'room.ready_received'; resumed?: boolean } & RoomInfo)
  | { type: 'room.joined'; participantId: string; attributes: Record<string, unknown> };

/** Events the connection machine emits: effects for the runtime and notifications. */
export type ConnectionEmitted =
  | { type: 'socket.open'; attempt: number }
  | { type: 'socket.close' }
  | { type: 'attributes.send'; attributes: Readonly<Record<string, unknown>> }
  | { type: 'connection.established'; participantId: string; reconnected: boolean; resumed: boolean }
  | ({ type: 'connection.attempt_failed' } & AttemptFailure)
  | ({ type: 'connection.lost' } & TransportClose)
  | { type: 'connection.ended'; end: ConnectionEnd };

/** How the current attempt ended: the websocket's close, or the handshake timeout. */
function closeOf(context: ConnectionContext, event: ConnectionEvent): TransportClose {
  if (event.type !== 'transport.closed') return { code: context.closeCodes.abandoned, reason: 'the handshake timed out' };
  const { code, reason, httpStatus, error } = event;
  return { code, reason, ...(httpStatus === undefined ? {} : { httpStatus }), ...(error === undefined ? {} : { error }) };
}

/** What an attempt records on its way to `connected`. */
const handshakeSteps = {
  'transport.opened': {},
  'room.ready_received': { actions: 'recordRoom' },
  'room.joined': { actions: 'recordJoin' },
} as const;

/** An attempt failed for good: the connection ends. */
const attemptEnds = { target: '#connection.closed', actions: ['recordClose', 'announceAttemptFailed', 'endByClose'] } as const;
/** An attempt failed: back off, then try again. */
const attemptRetries = { target: 'waiting', actions: ['recordClose', 'announceAttemptFailed', 'countFailure'] } as const;
/** A failed attempt's socket still open (the handshake timed out) is closed before retrying. */
const attemptAbandoned = { target: 'waiting', actions: ['closeSocket', ...attemptRetries.actions] } as const;
/** Commands while not connected: closing ends it; attributes are kept for the next connection. */
const offlineCommands = {
  'connection.close': { target: '#connection.closed', actions: 'endByUser' },
  'attributes.set': { actions: ['setLocalAttributes', 'recordOfflineAttributes'] },
} as const;
/** Waiting out the backoff before the next attempt. */
const backoff = { after: { retryDelay: { target: 'attempting' } } } as const;

/** The last websocket's close, or "nothing came back" when no attempt has ended yet. */
function lastCloseOf(context: ConnectionContext): TransportClose {
  return context.lastClose ?? { code: context.closeCodes.abandoned, reason: '' };
}

/** The end recorded when the user closes the room. */
function userEnd(context: ConnectionContext): ConnectionEnd {
  return { kind: 'user', code: context.closeCodes.user, reason: '' };
}

/**
 * The room connection.
 *
 * @example
 * ```ts
 * const actor = createActor(connectionMachine, { input: { closeCodes: { user: 1000, abandoned: 1006 }, reconnectTimeout: 60_000 } });
 * actor.on('socket.open', () => openWebSocket());
 * actor.start();
 * actor.send({ type: 'connection.start' });
 * ```
 */
export const connectionMachine = setup({
  types: {
    context: {} as ConnectionContext,
    events: {} as ConnectionEvent,
    input: {} as ConnectionInput,
    emitted: {} as ConnectionEmitted,
  },
  delays: {
    /** Backoff before the next attempt: 0.5 s doubling, capped at 30 s. */
    retryDelay: ({ context }) => Math.min(RECONNECT_MAX_DELAY_MS, RECONNECT_BASE_DELAY_MS * 2 ** context.attempt),
    /** Time allowed for one attempt. */
    handshakeTimeout: ({ context }) => context.handshakeTimeout,
    /** Overall limit on reconnecting; guarded by `hasReconnectTimeout`. */
    reconnectTimeout: ({ context }) => context.reconnectTimeout ?? NEVER_MS,
    /** Overall limit on connecting for the first time; guarded by `hasConnectTimeout`. */
    connectTimeout: ({ context }) => context.connectTimeout ?? NEVER_MS,
  },
  guards: {
    handshakeComplete: ({ context }) => context.pendingRoom !== undefined && context.pendingJoin !== undefined,
    isFinalClose: ({ event }) => event.type === 'transport.closed' && event.final,
    reconnectDisabled: ({ context }) => context.reconnectTimeout === 0,
    hasReconnectTimeout: ({ context }) => context.reconnectTimeout !== null && context.reconnectTimeout > 0,
    hasConnectTimeout: ({ context }) => context.connectTimeout !== null,
  },
  actions: {
    openSocket: emit(({ context }) => ({ type: 'socket.open' as const, attempt: context.attempt })),
    closeSocket: emit({ type: 'socket.close' as const }),
    recordRoom: assign({
      pendingRoom: ({ event }) =>
        event.type === 'room.ready_received' ? { roomName: event.roomName, roomUrl: event.roomUrl, sessionId: event.sessionId } : undefined,
      pendingResumed: ({ event }) => event.type === 'room.ready_received' && event.resumed === true,
    }),
    recordJoin: assign({
      pendingJoin: ({ event }) =>
        event.type === 'room.joined' ? { participantId: event.participantId, attributes: event.attributes } : undefined,
    }),
    clearHandshake: assign({ pendingRoom: undefined, pendingJoin: undefined, pendingResumed: false }),
    recordClose: assign({ lastClose: ({ context, event }) => closeOf(context, event) }),
    countFailure: assign({ attempt: ({ context }) => context.attempt + 1 }),
    /** Adopts the new participant id; merges the server's attributes under the local ones. */
    adoptSession: assign(({ context }) => {
      const join = context.pendingJoin!;
      const local = context.established ? context.attributes : context.localAttributes;
      return {
        room: context.pendingRoom,
        participantId: join.participantId,
        attributes: { ...join.attributes, ...local },
        resumed: context.established && context.pendingResumed,
        attempt: 0,
        lastClose: undefined,
      };
    }),
    /** First connection: the locally set attributes, if any; reconnects: the whole merged set; resumes: what was set offline. */
    sendAttributes: emit(({ context }) => ({
      type: 'attributes.send' as const,
      attributes: !context.established ? context.localAttributes : context.resumed ? context.offlineAttributes : context.attributes,
    })),
    announceEstablished: emit(({ context }) => ({
      type: 'connection.established' as const,
      participantId: context.participantId,
      reconnected: context.established,
      resumed: context.resumed,
    })),
    markEstablished: assign({ established: true, offlineAttributes: {} }),
    recordOfflineAttributes: assign({
      offlineAttributes: ({ context, event }) => (event.type === 'attributes.set' ? { ...context.offlineAttributes, ...event.attributes } : context.offlineAttributes),
    }),
    announceAttemptFailed: emit(({ context, event }) => ({
      type: 'connection.attempt_failed' as const,
      ...closeOf(context, event),
      attempt: context.attempt + 1,
      established: context.established,
    })),
    announceLost: emit(({ context, event }) => ({ type: 'connection.lost' as const, ...closeOf(context, event) })),
    setLocalAttributes: assign(({ context, event }) =>
      event.type === 'attributes.set'
        ? {
            localAttributes: { ...context.localAttributes, ...event.attributes },
            attributes: { ...context.attributes, ...event.attributes },
          }
        : {},
    ),
    sendChangedAttributes: emit(({ event }) => ({
      type: 'attributes.send' as const,
      attributes: event.type === 'attributes.set' ? event.attributes : {},
    })),
    endByUser: assign({ end: ({ context }) => userEnd(context) }),
    endByClose: assign({
      end: ({ context, event }) => {
        const close = closeOf(context, event);
        const final = event.type === 'transport.closed' && event.final;
        const kind: ConnectionEnd['kind'] = close.httpStatus !== undefined ? 'refused' : final ? 'server' : 'lost';
        return { kind, ...close };
      },
    }),
    endByTimeout: assign({
      end: ({ context }): ConnectionEnd => ({ kind: 'timeout', ...lastCloseOf(context), reconnectTimeout: context.reconnectTimeout ?? NEVER_MS }),
    }),
    endByConnectTimeout: assign({
      end: ({ context }): ConnectionEnd => ({ kind: 'connect_timeout', ...lastCloseOf(context), connectTimeout: context.connectTimeout ?? NEVER_MS }),
    }),
    announceEnded: emit(({ context }) => ({ type: 'connection.ended' as const, end: context.end ?? userEnd(context) })),
  },
}).createMachine({
  id: 'connection',
  context: ({ input }) => ({
    closeCodes: input.closeCodes,
    attempt: 0,
    established: false,
    reconnectTimeout: input.reconnectTimeout ?? null,
    connectTimeout: input.connectTimeout === undefined ? CONNECT_TIMEOUT_MS : input.connectTimeout,
    handshakeTimeout: input.handshakeTimeout ?? HANDSHAKE_TIMEOUT_MS,
    pendingRoom: undefined,
    pendingResumed: false,
    pendingJoin: undefined,
    room: undefined,
    participantId: '',
    attributes: {},
    localAttributes: {},
    offlineAttributes: {},
    resumed: false,
    lastClose: undefined,
    end: undefined,
  }),
  initial: 'idle',
  states: {
    idle: {
      on: {
        'connection.start': { target: 'connecting' },
        'connection.close': { target: 'closed', actions: 'endByUser' },
        'attributes.set': { actions: 'setLocalAttributes' },
      },
    },
    connecting: {
      initial: 'attempting',
      after: {
        connectTimeout: { guard: 'hasConnectTimeout', target: 'closed', actions: 'endByConnectTimeout' },
      },
      on: offlineCommands,
      states: {
        waiting: backoff,
        attempting: {
          entry: ['clearHandshake', 'openSocket'],
          always: { guard: 'handshakeComplete', target: '#connection.connected' },
          after: {
            handshakeTimeout: [{ guard: 'reconnectDisabled', ...attemptEnds }, attemptAbandoned],
          },
          on: {
            ...handshakeSteps,
            'transport.closed': [{ guard: 'isFinalClose', ...attemptEnds }, { guard: 'reconnectDisabled', ...attemptEnds }, attemptRetries],
          },
        },
      },
    },
    connected: {
      tags: ['online'],
      entry: ['adoptSession', 'clearHandshake', 'sendAttributes', 'announceEstablished', 'markEstablished'],
      on: {
        'transport.closed': [
          { guard: 'isFinalClose', target: 'closed', actions: 'endByClose' },
          { guard: 'reconnectDisabled', target: 'closed', actions: 'endByClose' },
          { target: 'reconnecting', actions: ['recordClose', 'announceLost'] },
        ],
        'connection.close': { target: 'closed', actions: 'endByUser' },
        'attributes.set': { actions: ['setLocalAttributes', 'sendChangedAttributes'] },
      },
    },
    reconnecting: {
      initial: 'waiting',
      after: {
        reconnectTimeout: { guard: 'hasReconnectTimeout', target: 'closed', actions: 'endByTimeout' },
      },
      on: offlineCommands,
      states: {
        waiting: backoff,
        attempting: {
          entry: ['clearHandshake', 'openSocket'],
          always: { guard: 'handshakeComplete', target: '#connection.connected' },
          after: { handshakeTimeout: attemptAbandoned },
          on: {
            ...handshakeSteps,
            'transport.closed': [{ guard: 'isFinalClose', ...attemptEnds }, attemptRetries],
          },
        },
      },
    },
    closed: {
      type: 'final',
      entry: ['closeSocket', 'announceEnded'],
    },
  },
});

/** The connection machine's type. */
export type ConnectionMachine = typeof connectionMachine;

/** The state names `connectionState$` reports. */
export type ConnectionStateName = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';
