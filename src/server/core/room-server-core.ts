/**
 * The room server core: admits verified participants into rooms and runs
 * their sessions. Transport-agnostic; a binding feeds it frames.
 */
import type { Logger } from 'pino';
import type { VerifiedToken } from '../../auth/token.js';
import type { RoomServerLimits } from './limits.js';
import type { CoreContext, ParticipantConnection } from './context.js';
import { FairScheduler } from './fair-scheduler.js';
import { FrameEncoder } from './frame-encoder.js';
import { IdentityLimits } from './identity-limits.js';
import { MessagingStreamRelay } from './messaging-streams.js';
import { ParticipantSession } from './participant-session.js';
import { InMemoryRoomDirectory, isRefusal, type AdmissionRefusal, type DirectoryStats, type Room, type RoomDirectory } from './room-directory.js';
import { noopObserver, type ServerObserver } from './observer.js';
import { monotonicClock, realTimers, systemWallClock, type Clock, type Timers } from './token-bucket.js';
import { TurnQueue, flushTurnQueues } from './turn-queue.js';
import { ResumableSessions, newResumeKey } from './resumable-sessions.js';
import { ResumeRefusal } from '../../protocol/resume.js';
import type { PresenceSource } from './context.js';
import type { RestoredSession, SessionJournals } from './session-journal.js';

/** Options of a {@link RoomServerCore}. */
export interface RoomServerCoreOptions {
  /** Resolved limits. */
  limits: RoomServerLimits;
  /** Logger (use a silent one for none). */
  logger: Logger;
  /**
   * Whether broadcasts reach their enabled sender.
   * @defaultValue false
   */
  broadcastToSender?: boolean;
  /**
   * Membership and fan-out.
   * @defaultValue a new {@link InMemoryRoomDirectory} with the limits' capacities
   */
  directory?: RoomDirectory;
  /**
   * Generator of participant and session ids.
   * @defaultValue `crypto.randomUUID`
   */
  createId?: () => string;
  /**
   * Millisecond clock for rate limits.
   * @defaultValue `performance.now`
   */
  clock?: Clock;
  /**
   * Wall clock in milliseconds since the epoch, against which a session's token `exp` is checked.
   * @defaultValue `Date.now`
   */
  wallClock?: Clock;
  /**
   * Timers for rate-limit pauses and timeouts (with {@link RoomServerCoreOptions.clock}, a test can drive time).
   * @defaultValue Node's timers, unref'd
   */
  timers?: Timers;
  /**
   * This node's id in a cluster: resume keys carry it, so a resume that lands on another node is forwarded here.
   * @defaultValue none (one node)
   */
  nodeId?: string;
  /**
   * Where resumable sessions are journaled, so that another node can take
   * one over when this one dies (a cluster's Redis).
   * @defaultValue none: sessions die with the process
   */
  journals?: SessionJournals;
  /**
   * Listener of requests, deliveries, errors and lifecycle (metrics, console).
   * @defaultValue {@link noopObserver}
   */
  observer?: ServerObserver;
}

/** A place reserved in a room for one participant, by {@link RoomServerCore.admit}. */
export interface Admission {
  /** The room. */
  readonly room: Room;
  /** The participant id the place is reserved for. */
  readonly id: string;
  /** The token name, counted against the per-identity limits. */
  readonly identity: string;
}

/** A verified participant joining a room. */
export interface JoinRequest {
  /** The place reserved by {@link RoomServerCore.admit}. */
  admission: Admission;
  /** The room URL reported in `room_ready`. */
  roomUrl: string;
  /** The verified token. */
  token: VerifiedToken;
  /** The connection to write to. */
  connection: ParticipantConnection;
  /**
   * Set when the client asked for a resume key: the session gets one and
   * holds what it is sent; `refusal` says why the resume it asked for (if
   * any) was refused.
   */
  resume?: { refusal?: ResumeRefusal };
}

/** A client resuming a session (see {@link RoomServerCore.resume}). */
export interface ResumeRequest {
  /** The verified token of the new connection: its name must be the session's. */
  token: VerifiedToken;
  /** Session messages the client received. */
  received: number;
  /** The room URL reported in `room_ready`. */
  roomUrl: string;
  /** The new connection. */
  connection: ParticipantConnection;
}

/** A session taken over from a node that died, restored here (see {@link RoomServerCore.restore}). */
export interface RestoreRequest {
  /** The room's place the directory already holds for the participant. */
  room: Room;
  /** The resume key the client came with (the session keeps it). */
  key: string;
  restored: RestoredSession;
  /** The verified token of the new connection. */
  token: VerifiedToken;
  /** The room URL reported in `room_ready`. */
  roomUrl: string;
  /** The new connection. */
  connection: ParticipantConnection;
}

/**
 * Rooms, sessions and request handling, without I/O.
 *
 * @example
 * ```ts
 * const core = new RoomServerCore({ limits: resolveLimits(), logger });
 * const admission = await core.admit(roomName, token.name);
 * if (isRefusal(admission)) return refuse(admission);
 * const session = core.join({ admission, roomUrl, token, connection });
 * if (!isRefusal(session)) socket.on('message', (frame) => session.receive(frame));
 * ```
 */
export class RoomServerCore {
  /** Shared state of every session. */
  readonly context: CoreContext;
  private readonly createId: () => string;
  private readonly identities: IdentityLimits;
  private readonly streams: MessagingStreamRelay;
  /** Resumable sessions of this node, by key. */
  private readonly resumable: ResumableSessions<ParticipantSession>;
  private readonly nodeId: string | undefined;
  private readonly journals: SessionJournals | undefined;

  constructor(options: RoomServerCoreOptions) {
    const { limits } = options;
    const clock = options.clock ?? monotonicClock;
    this.context = {
      limits,
      logger: options.logger,
      encoder: new FrameEncoder(),
      directory: options.directory ?? new InMemoryRoomDirectory(limits),
      broadcastToSender: options.broadcastToSender ?? false,
      clock,
      wallClock: options.wallClock ?? systemWallClock,
      timers: options.timers ?? realTimers,
      observer: options.observer ?? noopObserver,
      scheduler: new FairScheduler({ sliceMs: limits.fairnessSliceMs, clock, beforeDrain: flushTurnQueues }),
      // Each flush fans a push out to a room: bounded like a slice of handling, the rest next turn.
      presenceFlush: new TurnQueue<PresenceSource>((session) => session.flushPresence(), { budgetMs: limits.fairnessSliceMs, clock }),
    };
    this.createId = options.createId ?? (() => crypto.randomUUID());
    this.identities = new IdentityLimits(limits);
    this.streams = new MessagingStreamRelay(this.context.timers, this.createId);
    this.resumable = new ResumableSessions(this.context.timers, () => limits.recoveryWindowMs);
    this.nodeId = options.nodeId;
    this.journals = options.journals;
  }

  /**
   * The session that resume key `key` names in `roomName` for `identity`,
   * or why there is none (checked at the upgrade, before the socket is
   * accepted; the client then joins anew and is told the reason).
   */
  findResumable(key: string, roomName: string, token: VerifiedToken, received: number): ParticipantSession | ResumeRefusal {
    const session = this.resumable.find(key);
    if (typeof session === 'string') return session;
    if (session.room.name !== roomName) return ResumeRefusal.Mismatch;
    return session.resumeRefusal(token, received) ?? session;
  }

  /** Moves session `session` (from {@link findResumable}) onto a new connection and replays what its client missed; or says why not. */
  resume(session: ParticipantSession, request: ResumeRequest): ResumeRefusal | undefined {
    return session.resumeOn(request.connection, request.token, request.received, this.createId(), request.roomUrl);
  }

  /**
   * Reserves a place in `roomName` for a new participant of `identity` (a
   * token name), counted against the room limits across the whole directory
   * and against the per-identity limits, or says why not. A reservation is
   * either joined or released.
   */
  async admit(roomName: string, identity: string): Promise<Admission | AdmissionRefusal> {
    const refusal = this.identities.admission(identity, roomName);
    if (refusal) return refusal;
    // Counted before the await, so concurrent joins of one identity cannot overshoot.
    this.identities.add(identity, roomName);
    const id = this.createId();
    const room = await this.context.directory.reserve(roomName, id);
    if (isRefusal(room)) {
      this.identities.remove(identity, roomName);
      return room;
    }
    return { room, id, identity };
  }

  /** Gives back a place that was not joined (the handshake failed). */
  release(admission: Admission): void {
    this.identities.remove(admission.identity, admission.room.name);
    this.context.directory.leave(admission.room, admission);
  }

  /** Starts a participant's session in its reserved place: sends `room_ready` and `connected`. */
  join(request: JoinRequest): ParticipantSession {
    const { room, id, identity } = request.admission;
    const session = new ParticipantSession(this.context, {
      id,
      sessionId: this.createId(),
      roomName: room.name,
      roomUrl: request.roomUrl,
      token: request.token,
      connection: request.connection,
      streams: this.streams,
      onClosed: () => this.identities.remove(identity, room.name),
      ...(request.resume === undefined ? {} : { resume: { key: newResumeKey(this.nodeId), sessions: this.resumable, journals: this.journals, ...request.resume } }),
    });
    session.start(room);
    return session;
  }

  /**
   * Restores a session another node journaled before it died, as the same
   * participant: sends the resumed handshake, then what its client missed.
   */
  restore(request: RestoreRequest): ParticipantSession {
    const { room, restored, token } = request;
    this.identities.add(token.name, room.name);
    const session = new ParticipantSession(this.context, {
      id: restored.id,
      sessionId: this.createId(),
      roomName: room.name,
      roomUrl: request.roomUrl,
      token,
      connection: request.connection,
      streams: this.streams,
      onClosed: () => this.identities.remove(token.name, room.name),
      resume: { key: request.key, sessions: this.resumable, journals: this.journals, restored },
    });
    session.start(room);
    return session;
  }

  /** Ends the resumable sessions that wait detached (shutdown; the attached ones end with their connections). */
  endDetachedSessions(): void {
    this.resumable.endAll();
  }

  /** Room, participant and messaging-enabled counts. */
  stats(): DirectoryStats {
    return this.context.directory.stats();
  }
}

export { isRefusal };
