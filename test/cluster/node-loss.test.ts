/**
 * A roomstate node SIGKILLed under traffic, with `roomstate serve` processes
 * on one Redis server and on a real 3-master Redis Cluster: sends to the
 * dead node's participants are never answered OK (1008 while they are still
 * listed, 1003 once they are known gone), the survivors see them leave, and
 * the official client sees the same.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/token.js';
import { ErrorCode, PARTICIPANT_NOT_FOUND_TEXT } from '../../src/protocol/index.js';
import { NODE_UNREACHABLE_TEXT } from '../../src/server/cluster/cluster-room.js';
import { OfficialPeer, clearMeshagentEnv, installProcessGuard, type ProcessGuard } from '../helpers/official-client.js';
import { connectRaw, type RawClient } from '../helpers/raw-client.js';
import { startRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { spawnCliServer, type SpawnedServer } from '../helpers/spawned-server.js';
import { CLUSTER_WAIT, CLUSTER_WAIT_MS } from './cluster-fixtures.js';

const SECRET = 'cluster-secret-0123456789abcdef';

let redis: TestRedis;
let cluster: TestRedisCluster;
let guard: ProcessGuard;
const servers: SpawnedServer[] = [];
const clients: { close(): Promise<unknown> }[] = [];

beforeAll(async () => {
  clearMeshagentEnv();
  guard = installProcessGuard();
  [redis, cluster] = await Promise.all([startRedis(), startRedisCluster()]);
}, 120_000);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(servers.splice(0).map((server) => server.close()));
  expect(guard.errors).toEqual([]);
});

afterAll(async () => {
  await Promise.all([redis?.dispose(), cluster?.dispose()]);
  guard?.dispose();
});

async function rawPeer(server: SpawnedServer, room: string, name: string): Promise<RawClient> {
  const peer = await connectRaw(server.url, room, await mintToken({ secret: SECRET, room, name }), { timeoutMs: CLUSTER_WAIT_MS });
  clients.push(peer);
  await peer.invoke('enable', {});
  await peer.waitForPush('messaging.enabled', undefined, CLUSTER_WAIT_MS);
  return peer;
}

describe.each([
  ['one Redis server', () => ['--redis', redis.url]],
  ['a Redis Cluster', () => ['--redis-cluster', cluster.urls.join(',')]],
])('a SIGKILLed roomstate node, on %s', (_label, backend) => {
  it('answers sends to its participants with errors, never OK, until every node knows they are gone', async () => {
    const [a, b, c] = await Promise.all(
      [0, 1, 2].map(() => spawnCliServer({ secret: SECRET, args: [...backend(), '--redis-lease', '1.5s'] }).then((server) => (servers.push(server), server))),
    );
    const room = `loss-${randomUUID()}`;
    const alice = await rawPeer(a, room, 'alice');
    const bob = await rawPeer(b, room, 'bob');
    const carol = await OfficialPeer.connect({ baseUrl: c.url, room, name: 'carol', secret: SECRET });
    clients.push({ close: () => carol.leave() });
    await carol.enable(CLUSTER_WAIT);
    await carol.participantByName('bob', CLUSTER_WAIT);
    await alice.waitForPush('participant.enabled', (p) => p.from === bob.participantId, CLUSTER_WAIT_MS);
    expect(await alice.invoke('send', { to_participant_id: bob.participantId, type: 'chat', message_json: '"before"' })).toEqual({ type: 'empty' });
    await bob.waitForPush('chat', undefined, CLUSTER_WAIT_MS);

    const exited = new Promise((resolve) => b.child.once('exit', resolve));
    b.child.kill('SIGKILL');
    await exited;
    // Until node a learns that bob is gone, each send is refused as undeliverable; then as not found.
    const replies: unknown[] = [];
    for (;;) {
      const reply = await alice.invoke('send', { to_participant_id: bob.participantId, type: 'chat', message_json: '"after"' });
      replies.push(reply);
      if (reply.type !== 'error' || reply.code === ErrorCode.NotFound || replies.length > 10_000) break;
    }
    const unreachable = { type: 'error', text: NODE_UNREACHABLE_TEXT, code: ErrorCode.OperationFailed };
    const gone = { type: 'error', text: PARTICIPANT_NOT_FOUND_TEXT, code: ErrorCode.NotFound };
    expect(replies.at(-1)).toEqual(gone);
    expect(replies.slice(0, -1).every((reply) => JSON.stringify(reply) === JSON.stringify(unreachable))).toBe(true);
    await carol.participantGone('bob', CLUSTER_WAIT);
    expect(carol.presentNames()).toEqual(['alice']);
  });
});
