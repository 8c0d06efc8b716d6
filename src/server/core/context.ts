/**
 * What the parts of the server core share: limits, the frame encoder, the
 * room directory, the logger and the observer.
 */
import type { Logger } from 'pino';
import type { RoomServerLimits } from './limits.js';
import type { FrameEncoder } from './frame-encoder.js';
import type { ServerObserver } from './observer.js';
import type { OutgoingMessage } from './outgoing-message.js';
import type { RoomDirectory } from './room-directory.js';
import type { Clock, Timers } from './token-bucket.js';
import type { FairScheduler } from './fair-scheduler.js';
import type { TurnQueue } from './turn-queue.js';

/**
 * The core's view of one participant's connection. The binding implements
 * it on a websocket; the core never sees the socket.
 */
export interface ParticipantConnection {
  /**
   * Queues one encoded message (all its frames, in order). Messages written in one tick
   * leave together; a connection that is closing drops them.
   */
  send(message: OutgoingMessage): void;
  /** Closes the connection with a websocket close code and a short reason. */
  close(code: number, reason: string): void;
  /**
   * Stops reading from the peer (rate-limit backpressure), so the transport
   * slows the sender. Frames already read may still arrive.
   */
  pause(): void;
  /** Reads from the peer again. */
  resume(): void;
}

/** A session whose presence changes wait for the end of the turn. */
export interface PresenceSource {
  /** Announces what is pending (coalesced) now. */
  flushPresence(): void;
}

/** Shared state of one server core. */
export interface CoreContext {
  readonly limits: RoomServerLimits;
  readonly encoder: FrameEncoder;
  readonly directory: RoomDirectory;
  readonly logger: Logger;
  readonly broadcastToSender: boolean;
  readonly clock: Clock;
  /** Milliseconds since the epoch (token expiry). */
  readonly wallClock: Clock;
  readonly timers: Timers;
  /** Where the core reports what it does (metrics, console). */
  readonly observer: ServerObserver;
  /** Shares handling time among identities when the loop is congested. */
  readonly scheduler: FairScheduler;
  /** Sessions with coalesced presence changes to announce at the end of the turn. */
  readonly presenceFlush: TurnQueue<PresenceSource>;
}
