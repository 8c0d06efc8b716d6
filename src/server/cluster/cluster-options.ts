/**
 * Options of a cluster node (the `redis` option of `createRoomServer`), with
 * their defaults.
 */
import { ValidationError } from '../../errors.js';

/** How a server joins a cluster over Redis: give `url` (one Redis server) or `cluster` (a Redis Cluster). */
export interface RedisClusterOptions {
  /** The Redis 7 server, e.g. `redis://127.0.0.1:6379` (`rediss://` for TLS). */
  url?: string;
  /**
   * Some nodes of a Redis 7 Cluster (the rest are discovered), e.g.
   * `['redis://10.0.0.1:7000', 'redis://10.0.0.2:7000']`. Each room's keys
   * and channels live in one hash slot; rooms spread over the masters.
   */
  cluster?: readonly string[];
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
  /**
   * The websocket URL other nodes reach this one at: a client resuming a
   * session of this node on another one is forwarded here.
   * @defaultValue the address the server listens on
   */
  nodeUrl?: string;
}

/** {@link RedisClusterOptions} with every default filled in: `url` for one server, or `cluster`. */
export type ResolvedClusterOptions = Required<Omit<RedisClusterOptions, 'url' | 'cluster' | 'nodeUrl'>> &
  ({ readonly url: string; readonly cluster?: undefined } | { readonly url?: undefined; readonly cluster: readonly string[] });

/** Default lease and heartbeat: a killed node is cleared within 6.5 s. */
export const DEFAULT_CLUSTER_OPTIONS = Object.freeze({ leaseMs: 5000, heartbeatIntervalMs: 1500, keyPrefix: 'roomstate' });

const REDIS_URL = /^rediss?:\/\/[^/]/;

/** Fills in defaults and rejects nonsense values. */
export function resolveClusterOptions(options: string | RedisClusterOptions): ResolvedClusterOptions {
  const given = typeof options === 'string' ? { url: options } : options;
  const resolved = { ...DEFAULT_CLUSTER_OPTIONS, ...given };
  if ((resolved.url === undefined) === (resolved.cluster === undefined)) {
    throw new ValidationError('redis', 'redis: give either url (one Redis server) or cluster (the nodes of a Redis Cluster), not both or neither.');
  }
  if (resolved.url !== undefined && !REDIS_URL.test(resolved.url)) {
    throw new ValidationError('redis', `redis: ${JSON.stringify(resolved.url)} is not a Redis URL; expected redis://host:port or rediss://host:port.`);
  }
  if (resolved.cluster !== undefined) {
    if (resolved.cluster.length === 0) throw new ValidationError('redis', 'redis: cluster needs at least one node URL, e.g. redis://127.0.0.1:7000.');
    const bad = resolved.cluster.find((url) => !REDIS_URL.test(url));
    if (bad !== undefined) throw new ValidationError('redis', `redis: cluster node ${JSON.stringify(bad)} is not a Redis URL; expected redis://host:port or rediss://host:port.`);
  }
  if (!(resolved.heartbeatIntervalMs > 0) || !(resolved.leaseMs > resolved.heartbeatIntervalMs)) {
    throw new ValidationError('redis', `redis: leaseMs (${resolved.leaseMs}) must be greater than heartbeatIntervalMs (${resolved.heartbeatIntervalMs}), both positive.`);
  }
  return resolved as ResolvedClusterOptions;
}

/** Where the options point, for messages: the URL, or the cluster's node URLs. */
export function describeRedis(options: ResolvedClusterOptions): string {
  return options.url ?? `the Redis Cluster at ${options.cluster.join(',')}`;
}
