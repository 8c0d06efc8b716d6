/**
 * The room server core: admits verified participants into rooms and runs
 * their sessions. Transport-agnostic; a binding feeds it frames.
 */
import type { Logger } from 'pino';
import type { VerifiedToken } from '../../auth/token.js';
import type { RoomServerLimits } from './limits.js';
import type { CoreContext, ParticipantConnection } from './context.js';
import { FrameEncoder } from './frame-encoder.js';
import { IdentityLimits } from './identity-limits.js';
import { PresenceEpochs } from './presence-json.js';
import { ParticipantSession } from './participant-session.js';
import { InMemoryRoomDirectory, isRefusal, type AdmissionRefusal, type RoomDirectory } from './room-directory.js';
import { noopObserver, type ServerObserver } from './observer.js';
import { monotonicClock, realTimers, type Clock, type Timers } from './token-bucket.js';

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
   * Timers for rate-limit pauses and timeouts (with {@link RoomServerCoreOptions.clock}, a test can drive time).
   * @defaultValue Node's timers, unref'd
   */
  timers?: Timers;
  /**
   * Listener of requests, deliveries, errors and lifecycle (metrics, console).
   * @defaultValue {@link noopObserver}
   */
  observer?: ServerObserver;
}

/** A verified participant asking to join a room. */
export interface JoinRequest {
  /** The URL-decoded room name. */
  roomName: string;
  /** The room URL reported in `room_ready`. */
  roomUrl: string;
  /** The verified token. */
  token: VerifiedToken;
  /** The connection to write to. */
  connection: ParticipantConnection;
}

/**
 * Rooms, sessions and request handling, without I/O.
 *
 * @example
 * ```ts
 * const core = new RoomServerCore({ limits: resolveLimits(), logger });
 * const session = core.join({ roomName, roomUrl, token, connection });
 * if (!isRefusal(session)) socket.on('message', (frame) => session.receive(frame));
 * ```
 */
export class RoomServerCore {
  /** Shared state of every session. */
  readonly context: CoreContext;
  private readonly createId: () => string;
  private readonly identities: IdentityLimits;

  constructor(options: RoomServerCoreOptions) {
    const { limits } = options;
    this.context = {
      limits,
      logger: options.logger,
      encoder: new FrameEncoder(),
      directory: options.directory ?? new InMemoryRoomDirectory(limits),
      broadcastToSender: options.broadcastToSender ?? false,
      clock: options.clock ?? monotonicClock,
      timers: options.timers ?? realTimers,
      presence: new PresenceEpochs(),
      observer: options.observer ?? noopObserver,
    };
    this.createId = options.createId ?? (() => crypto.randomUUID());
    this.identities = new IdentityLimits(limits);
  }

  /** Whether `identity` (a token name) could join `roomName` now. */
  admission(roomName: string, identity: string): AdmissionRefusal | undefined {
    return this.identities.admission(identity, roomName) ?? this.context.directory.admission(roomName);
  }

  /**
   * Adds a participant to its room and sends `room_ready` and `connected`.
   * Returns the session, or a refusal when the room or server is full.
   */
  join(request: JoinRequest): ParticipantSession | AdmissionRefusal {
    const identity = request.token.name;
    const refusal = this.identities.admission(identity, request.roomName);
    if (refusal) return refusal;
    const session = new ParticipantSession(this.context, {
      id: this.createId(),
      sessionId: this.createId(),
      roomName: request.roomName,
      roomUrl: request.roomUrl,
      token: request.token,
      connection: request.connection,
      onClosed: () => this.identities.remove(identity, request.roomName),
    });
    const room = this.context.directory.join(request.roomName, session);
    if (isRefusal(room)) return room;
    this.identities.add(identity, request.roomName);
    session.start(room);
    return session;
  }

  /** Room, participant and messaging-enabled counts. */
  stats(): { rooms: number; participants: number; enabled: number } {
    return this.context.directory.stats();
  }
}

export { isRefusal };
