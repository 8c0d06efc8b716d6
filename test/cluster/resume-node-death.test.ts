/**
 * Resumable participants whose node dies: two `roomstate serve` processes on
 * a real Redis (a server, and a 3-master Redis Cluster), a resuming client on node A behind a TCP proxy receiving
 * numbered direct messages and broadcasts from node B while it sends its
 * own; node A is SIGKILLed mid-stream and the client comes back on node B
 * (or on a restarted A, a new node): the same participant, everything
 * exactly once and in order both ways, every send promise resolved, and an
 * official client in the room sees it neither leave nor join, also after the
 * dead node's lease ran out and its participants were removed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OfficialPeer, clearMeshagentEnv } from '../helpers/official-client.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.js';
import { spawnCliServer, type SpawnedServer } from '../helpers/spawned-server.js';
import { waitUntil } from '../helpers/recorder.js';
import { uniqueRoom } from '../helpers/server.js';
import { ClientPool } from '../client/helpers/clients.js';
import { runCutScenario } from '../client/helpers/cut-scenario.js';
import { startTcpProxy, type TcpProxy } from '../client/helpers/tcp-proxy.js';
import { CLUSTER_WAIT, httpStatus } from './cluster-fixtures.js';

const SECRET = 'cluster-secret-0123456789abcdef';
/** Leases: a restarted node takes a while to start, and the dead one must not be reaped before the client resumes. */
const LEASE = { moved: '2s', restarted: '8s' } as const;

let redis: TestRedis;
let redisCluster: TestRedisCluster;
const servers: SpawnedServer[] = [];
const proxies: TcpProxy[] = [];
const pools: ClientPool[] = [];
const officials: OfficialPeer[] = [];

beforeAll(async () => {
  clearMeshagentEnv();
  [redis, redisCluster] = await Promise.all([startRedis(), startRedisCluster()]);
}, 120_000);
afterEach(async () => {
  for (const peer of officials.splice(0)) await peer.leave();
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
afterAll(async () => {
  await Promise.all([redis?.dispose(), redisCluster?.dispose()]);
});

type Backend = 'server' | 'cluster';

function node(backend: Backend, lease: string, port?: number): Promise<SpawnedServer> {
  const target = backend === 'server' ? ['--redis', redis.url] : ['--redis-cluster', redisCluster.urls.join(',')];
  return spawnCliServer({ secret: SECRET, ...(port === undefined ? {} : { port }), args: [...target, '--redis-lease', lease] }).then((server) => (servers.push(server), server));
}

function portOf(server: SpawnedServer): number {
  return Number(new URL(server.url).port);
}

function poolOn(url: string): ClientPool {
  const pool = new ClientPool({ url, secret: SECRET });
  pools.push(pool);
  return pool;
}

/** Nodes holding a lease, as node `server` reports. */
async function clusterNodes(server: SpawnedServer): Promise<number> {
  const status = await httpStatus({ httpUrl: server.url.replace(/^ws/, 'http') });
  return (status.cluster as { nodes: number } | undefined)?.nodes ?? -1;
}

describe.each([
  ['on the other node', false, 'server'],
  ['on a restarted node in its place', true, 'server'],
  ['on the other node, on a Redis Cluster', false, 'cluster'],
] as const)('a resumable participant whose node is SIGKILLed mid-stream resumes %s', (_label, restart, backend) => {
  it('as the same participant: exactly once and in order both ways, every send resolved, no flap before or after the dead node is reaped', async () => {
    const lease = restart ? LEASE.restarted : LEASE.moved;
    const [a, b] = await Promise.all([node(backend, lease), node(backend, lease)]);
    const proxy = await startTcpProxy(portOf(a));
    proxies.push(proxy);
    const room = uniqueRoom();
    const receiver = await poolOn(proxy.url).enabled(room, 'receiver', { retryDelay: () => 50 });
    const sender = await poolOn(b.url).enabled(room, 'sender');
    const broadcaster = await poolOn(b.url).enabled(room, 'broadcaster');
    const official = await OfficialPeer.connect({ baseUrl: b.url, room, name: 'observer', secret: SECRET });
    officials.push(official);
    await official.enable();
    const receiverId = receiver.localParticipant.id;
    let restarted: Promise<SpawnedServer> | undefined;
    await runCutScenario(
      {
        receiver,
        sender,
        broadcaster,
        official,
        proxy,
        cut: () => {
          if (restart) {
            // Refused until the new process listens on the dead one's port.
            proxy.pause();
            a.child.kill('SIGKILL');
            restarted = new Promise<void>((resolve) => a.child.once('exit', () => resolve())).then(() => node(backend, lease, portOf(a)));
            void restarted.then(() => proxy.resume());
          } else {
            proxy.retarget(portOf(b));
            a.child.kill('SIGKILL');
          }
        },
      },
      { direct: 3000, broadcasts: 300, cuts: 1, backPerStep: 100 },
    );
    expect(receiver.localParticipant.id).toBe(receiverId);
    // The dead node's lease runs out and it is reaped: the receiver, taken over, stays.
    const survivor = restart ? await restarted! : b;
    const alive = restart ? 2 : 1;
    await waitUntil(async () => (await clusterNodes(survivor)) === alive, { what: 'the dead node to be reaped', timeoutMs: 60_000, intervalMs: 200 });
    await receiver.messaging.broadcastMessage({ type: 'after-reap', message: {} });
    await official.messages.waitFor((m) => m.type === 'after-reap', CLUSTER_WAIT);
    const flaps = official.pushes.items.filter((m) => (m.type === 'participant.disabled' || m.type === 'participant.enabled') && (m.message as { id?: string }).id === receiverId);
    expect(flaps).toEqual([]);
    expect(sender.messaging.getParticipants().map((p) => p.id)).toContain(receiverId);
  }, 240_000);
});
