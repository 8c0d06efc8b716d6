/**
 * Options of the room server. Limits live in the core (core/limits.ts) and
 * are re-exported here.
 */
import type { Logger } from 'pino';
import type { RoomServerLimits } from './core/limits.js';
import type { ServerObserver } from './core/observer.js';

export { DEFAULT_LIMITS, resolveLimits } from './core/limits.js';
export type { RoomServerLimits } from './core/limits.js';

/** Options of {@link createRoomServer}. */
export interface RoomServerOptions {
  /** The HS256 secret participant tokens are signed with. */
  secret: string;
  /**
   * Interface to listen on.
   * @defaultValue '127.0.0.1'
   */
  host?: string;
  /**
   * Port to listen on; 0 picks a free one.
   * @defaultValue 8080
   */
  port?: number;
  /**
   * A pino logger, or `false` for none.
   * @defaultValue false
   */
  logger?: Logger | false;
  /**
   * Whether a broadcast also reaches its (enabled) sender.
   * @defaultValue false
   */
  broadcastToSender?: boolean;
  /**
   * Interval of server pings; a peer that did not pong since the previous
   * ping is terminated, so a dead peer is gone within two intervals.
   * @defaultValue 30000
   */
  heartbeatIntervalMs?: number;
  /**
   * Allowed `Origin` header values (browser CSWSH protection). A request that
   * carries an Origin not in the list is refused with HTTP 403 "origin not
   * allowed"; requests without an Origin (non-browser clients) pass.
   * Absent = every origin allowed.
   */
  allowedOrigins?: string[];
  /** Resource limits; see {@link RoomServerLimits} for the defaults. */
  limits?: Partial<RoomServerLimits>;
  /**
   * Negotiate permessage-deflate with clients that ask for it.
   * @defaultValue false
   */
  perMessageDeflate?: boolean;
  /**
   * How long a connection closed by the server (slow consumer, protocol
   * violation) may take to finish the close handshake before it is terminated.
   * @defaultValue 1000
   */
  closeTimeoutMs?: number;
  /**
   * Listener of what the server does (requests, deliveries, errors, lifecycle);
   * combine several with `combineObservers`.
   * @defaultValue an observer that ignores everything
   */
  observer?: ServerObserver;
}
