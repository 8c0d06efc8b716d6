/**
 * Options of the room server. Limits live in the core (core/limits.ts) and
 * are re-exported here.
 */
import type { SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { RedisClusterOptions } from './cluster/cluster-options.js';
import type { RoomServerLimits } from './core/limits.js';
import type { ServerObserver } from './core/observer.js';
import type { Clock, Timers } from './core/token-bucket.js';

export { DEFAULT_LIMITS, resolveLimits } from './core/limits.js';
export type { RoomServerLimits } from './core/limits.js';

/**
 * Defaults of the server's own options (limits have theirs in
 * `DEFAULT_LIMITS`): the server, `roomstate serve` and the docs take them
 * from here.
 */
export const SERVER_DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 8080,
  heartbeatIntervalMs: 30_000,
  closeTimeoutMs: 1000,
  /** How long `close()` waits for clients before it terminates them. */
  shutdownTimeoutMs: 5000,
});

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
   * ping, and read nothing of what the server sends it since (its ping may
   * wait behind megabytes of presence in a big room), is terminated, so a
   * dead peer is gone within two intervals.
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
   * Joins this server to a cluster: a Redis URL (`redis://host:6379`) or
   * {@link RedisClusterOptions}. Every server with the same secret and Redis
   * serves one set of rooms. Absent = rooms live in this process only.
   */
  redis?: string | RedisClusterOptions;
  /**
   * Listener of what the server does (requests, deliveries, errors, lifecycle);
   * combine several with `combineObservers`.
   * @defaultValue an observer that ignores everything
   */
  observer?: ServerObserver;
  /**
   * Millisecond clock of the rate limits (tests drive it by hand).
   * @defaultValue `performance.now`
   */
  clock?: Clock;
  /**
   * Wall clock (ms since the epoch) that ends a session at its token's `exp`
   * with 4001 "token expired" (tests drive it by hand; the upgrade's check is jose's own).
   * @defaultValue `Date.now`
   */
  wallClock?: Clock;
  /**
   * Timers of the core's timeouts and rate-limit pauses (tests run them by hand).
   * @defaultValue Node's timers, unref'd
   */
  timers?: Timers;
  /**
   * Prometheus metrics (prom-client, in a registry of this server's own):
   * `true` serves `GET /metrics` on the server's port; `{ port }` serves it on
   * a separate plain-HTTP port instead (0 picks a free one), on `host` (default:
   * the server's host). The CLI turns metrics on; see docs/operations.md#metrics.
   * @defaultValue false
   */
  metrics?: boolean | RoomServerMetricsOptions;
  /**
   * Serve `wss://` and `https://` directly with this certificate and key (PEM).
   * Any other `tls.createSecureContext` option (e.g. `ca`, `passphrase`) may be added.
   * @defaultValue undefined (plain `ws://` and `http://`)
   */
  tls?: RoomServerTlsOptions;
  /**
   * The public base URL clients reach this server at (e.g. `wss://rooms.example.com`
   * behind a TLS proxy): `room_url` in `room_ready` is `<publicUrl>/rooms/<room>`.
   * @defaultValue built from the request's Host header, with `wss://` when `tls` is set
   */
  publicUrl?: string;
  /**
   * Serve the live console at `/console` (rooms, participants, their
   * statecharts, inspected clients); it needs an admin token
   * (`mintAdminToken`, `roomstate token --admin`).
   * @defaultValue false
   */
  console?: boolean;
}

/** Where metrics are served when not on the server's own port. */
export interface RoomServerMetricsOptions {
  /** Port of a separate plain-HTTP metrics listener; 0 picks a free one. */
  port?: number;
  /**
   * Interface of the separate listener.
   * @defaultValue the server's `host`
   */
  host?: string;
}

/** Certificate and key (PEM strings or buffers) and other TLS context options. */
export interface RoomServerTlsOptions extends SecureContextOptions {
  /** The certificate chain, PEM. */
  cert: string | Buffer;
  /** The private key, PEM. */
  key: string | Buffer;
}
