/**
 * Options of a cluster node (the `redis` option of `createRoomServer`), with
 * their defaults.
 */

/** How a server joins a cluster over Redis. */
export interface RedisClusterOptions {
  /** The Redis 7 server, e.g. `redis://127.0.0.1:6379` (`rediss://` for TLS). */
  url: string;
  /**
   * How long a node's lease lives without a heartbeat. When it runs out, the
   * node counts as dead: another node removes its participants everywhere and
   * announces `participant.disabled` for each. A killed node's participants
   * are gone everywhere within `leaseMs + heartbeatIntervalMs`.
   * @defaultValue 5000
   */
  leaseMs?: number;
  /**
   * How often a node renews its lease and looks for expired ones.
   * @defaultValue 1500
   */
  heartbeatIntervalMs?: number;
  /**
   * Prefix of every Redis key and channel, so several clusters can share one Redis.
   * @defaultValue 'roomstate'
   */
  keyPrefix?: string;
}

/** {@link RedisClusterOptions} with every default filled in. */
export type ResolvedClusterOptions = Required<RedisClusterOptions>;

/** Default lease and heartbeat: a killed node is cleared within 6.5 s. */
export const DEFAULT_CLUSTER_OPTIONS = Object.freeze({ leaseMs: 5000, heartbeatIntervalMs: 1500, keyPrefix: 'roomstate' });

/** Fills in defaults and rejects nonsense values. */
export function resolveClusterOptions(options: string | RedisClusterOptions): ResolvedClusterOptions {
  const given = typeof options === 'string' ? { url: options } : options;
  const resolved = { ...DEFAULT_CLUSTER_OPTIONS, ...given };
  if (!/^rediss?:\/\//.test(resolved.url)) {
    throw new TypeError(`redis: ${JSON.stringify(resolved.url)} is not a Redis URL; expected redis://host:port or rediss://host:port.`);
  }
  if (!(resolved.heartbeatIntervalMs > 0) || !(resolved.leaseMs > resolved.heartbeatIntervalMs)) {
    throw new RangeError(`redis: leaseMs (${resolved.leaseMs}) must be greater than heartbeatIntervalMs (${resolved.heartbeatIntervalMs}), both positive.`);
  }
  return resolved;
}
