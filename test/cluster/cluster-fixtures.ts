/**
 * Fixtures of the cluster tests: nodes on one test Redis, connecting to a
 * given node, and waiting for a condition with a generous deadline.
 */
import { randomUUID } from 'node:crypto';
import type { MintTokenOptions } from '../../src/auth/token.js';
import type { RoomServerOptions } from '../../src/server/index.js';
import type { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

/** Deadline of one cross-node wait; generous, the box is loaded. */
export const CLUSTER_WAIT_MS = 20_000;
/** {@link waitUntil} options with that deadline. */
export const CLUSTER_WAIT = { timeoutMs: CLUSTER_WAIT_MS } as const;
/** Lease and heartbeat of test nodes: small, so a dead node is cleared quickly. */
export const TEST_LEASE = { leaseMs: 1500, heartbeatIntervalMs: 250 } as const;

/** Where test nodes find Redis: one server's URL, or a Redis Cluster's node URLs. */
export type TestRedisTarget = string | { readonly cluster: readonly string[] };

/** Starts `count` nodes on `redis`, sharing a fresh key prefix (so tests never see each other's state). */
export async function startNodes(redis: TestRedisTarget, count: number, options: Partial<RoomServerOptions> = {}): Promise<TestServer[]> {
  const keyPrefix = `test-${randomUUID()}`;
  const where = typeof redis === 'string' ? { url: redis } : { cluster: redis.cluster };
  return Promise.all(
    Array.from({ length: count }, () => startServer({ limits: { maxParticipantsPerRoom: 4 }, ...options, redis: { ...where, keyPrefix, ...TEST_LEASE } })),
  );
}

/** Connects a raw client named `name` to `room` on `node`. */
export function connectTo(node: TestServer, room: string, name: string, token: Partial<Omit<MintTokenOptions, 'room' | 'name'>> = {}): Promise<RawClient> {
  return node.connect(room, name, { token, timeoutMs: CLUSTER_WAIT_MS });
}

/** The JSON of `GET /` on a node. */
export async function httpStatus(node: { httpUrl: string }): Promise<Record<string, unknown>> {
  const response = await fetch(`${node.httpUrl}/`);
  return (await response.json()) as Record<string, unknown>;
}
