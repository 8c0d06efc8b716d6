/**
 * The two Redis clients of a cluster node, for one Redis server or a Redis
 * Cluster: one for commands (Lua scripts, sharded publishes; auto-pipelined,
 * so a burst of relays is one write) and one for sharded subscriptions.
 * Both fail fast while Redis is away, so a relay is answered with an error
 * instead of waiting in a queue, and reconnect quickly once it is back.
 */
import { Cluster, Redis } from 'ioredis';
import type { ResolvedClusterOptions } from './cluster-options.js';

/** A client of either kind; the directory uses only what both offer. */
export type RedisClient = Redis | Cluster;

/** The longest pause between two reconnection attempts: Redis that is back is noticed within this. */
export const RECONNECT_MAX_MS = 250;

/** Reconnection delay after `attempt` failed tries. */
function reconnectDelay(attempt: number): number {
  return Math.min(attempt * 50, RECONNECT_MAX_MS);
}

/** Connection options of one Redis server connection. */
function serverOptions(name: string) {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: reconnectDelay,
    connectionName: name,
  };
}

function clusterNodes(urls: readonly string[]): { host: string; port: number }[] {
  return urls.map((url) => {
    const parsed = new URL(url);
    return { host: parsed.hostname, port: Number(parsed.port || 6379) };
  });
}

function clusterClient(options: ResolvedClusterOptions & { cluster: readonly string[] }, name: string, sharded: boolean): Cluster {
  const first = new URL(options.cluster[0]);
  return new Cluster(clusterNodes(options.cluster), {
    lazyConnect: true,
    enableOfflineQueue: false,
    enableAutoPipelining: !sharded,
    shardedSubscribers: sharded,
    clusterRetryStrategy: reconnectDelay,
    // A master that went away is retried often, so its slots serve again soon after it returns.
    clusterNodeRetryStrategy: reconnectDelay,
    retryDelayOnClusterDown: 100,
    retryDelayOnFailover: 100,
    maxRedirections: 4,
    slotsRefreshInterval: 1000,
    redisOptions: {
      ...serverOptions(name),
      username: first.username ? decodeURIComponent(first.username) : undefined,
      password: first.password ? decodeURIComponent(first.password) : undefined,
      tls: first.protocol === 'rediss:' ? {} : undefined,
    },
  });
}

/** Creates (without connecting) the command and subscriber clients of node `nodeId`. */
export function createRedisClients(options: ResolvedClusterOptions, nodeId: string): { commands: RedisClient; subscriber: RedisClient } {
  if (options.cluster !== undefined) {
    return {
      commands: clusterClient(options, `roomstate:${nodeId}`, false),
      subscriber: clusterClient(options, `roomstate-sub:${nodeId}`, true),
    };
  }
  return {
    commands: new Redis(options.url, { ...serverOptions(`roomstate:${nodeId}`), enableAutoPipelining: true }),
    subscriber: new Redis(options.url, serverOptions(`roomstate-sub:${nodeId}`)),
  };
}
