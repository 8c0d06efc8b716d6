/**
 * Resumable participants across two cluster nodes (a real Redis): the
 * resuming client lands on the other node after each cut, which forwards
 * it to the node that holds its session; senders and an official client
 * sit on both nodes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { uniqueRoom, type TestServer } from '../helpers/server.js';
import { OfficialPeer, clearMeshagentEnv } from '../helpers/official-client.js';
import { waitUntil } from '../helpers/recorder.js';
import { ClientPool, record } from '../client/helpers/clients.js';
import { startTcpProxy, type TcpProxy } from '../client/helpers/tcp-proxy.js';
import { runCutScenario } from '../client/helpers/cut-scenario.js';
import { CLUSTER_WAIT, startNodes } from './cluster-fixtures.js';

let redis: TestRedis;
let nodes: TestServer[];
const proxies = new Set<TcpProxy>();
const pools = new Set<ClientPool>();
const officials = new Set<OfficialPeer>();

beforeAll(async () => {
  redis = await startRedis();
  nodes = await startNodes(redis.url, 2, { limits: { maxParticipantsPerRoom: 10, messagesPerSecond: Infinity, bytesPerSecond: Infinity } });
});
afterEach(async () => {
  for (const peer of officials) await peer.leave();
  officials.clear();
  for (const pool of pools) await pool.close();
  pools.clear();
  for (const proxy of proxies) await proxy.close();
  proxies.clear();
});
afterAll(async () => {
  await Promise.all(nodes.map((node) => node.close()));
  await redis.dispose();
});

function poolOn(url: string): ClientPool {
  const pool = new ClientPool({ url, secret: nodes[0]!.secret });
  pools.add(pool);
  return pool;
}

const fast = { retryDelay: () => 20 };

describe('resumable participants on two nodes', () => {
  it('a resume that lands on the other node is forwarded to the session: same participant, what it missed, no flap', async () => {
    const [a, b] = nodes as [TestServer, TestServer];
    const proxy = await startTcpProxy(a.port);
    proxies.add(proxy);
    const room = uniqueRoom();
    const alice = await poolOn(proxy.url).enabled(room, 'alice', fast);
    const bob = await poolOn(b.url).enabled(room, 'bob');
    await waitUntil(() => bob.messaging.getParticipantByName('alice') !== null, { what: 'bob to see alice', ...CLUSTER_WAIT });
    await waitUntil(() => alice.messaging.getParticipantByName('bob') !== null, { what: 'alice to see bob', ...CLUSTER_WAIT });
    const aliceId = alice.localParticipant.id;
    const outcomes = record(alice.resumed$);
    const got = record(alice.messaging.messages$);
    const bobSeesLeave = record(bob.messaging.participantRemoved$);
    proxy.pause();
    proxy.drop();
    proxy.retarget(b.port);
    await waitUntil(() => alice.connectionState === 'reconnecting', { what: 'alice to reconnect' });
    await Promise.all([1, 2, 3].map((n) => bob.messaging.sendMessage({ to: aliceId, type: 'away', message: { n } })));
    proxy.resume();
    await outcomes.waitForCount(() => true, 1, CLUSTER_WAIT);
    expect(outcomes.items[0]).toEqual({ resumed: true, recovered: 3 });
    await got.waitForCount((m) => m.type === 'away', 3, CLUSTER_WAIT);
    expect(got.items.map((m) => m.message)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(alice.localParticipant.id).toBe(aliceId);
    const atBob = record(bob.messaging.messages$);
    await alice.messaging.sendMessage({ to: bob.localParticipant.id, type: 'back', message: {} });
    await atBob.waitFor((m) => m.type === 'back', CLUSTER_WAIT);
    expect(bobSeesLeave.items).toEqual([]);
  });

  it('thousands of direct messages and hundreds of broadcasts through five cuts, landing on alternate nodes: exactly once, in order, no flap', async () => {
    clearMeshagentEnv();
    const [a, b] = nodes as [TestServer, TestServer];
    const proxy = await startTcpProxy(a.port);
    proxies.add(proxy);
    const room = uniqueRoom();
    const receiver = await poolOn(proxy.url).enabled(room, 'receiver', fast);
    const sender = await poolOn(b.url).enabled(room, 'sender');
    const broadcaster = await poolOn(a.url).enabled(room, 'broadcaster');
    const official = await OfficialPeer.connect({ baseUrl: b.url, room, name: 'observer', secret: b.secret });
    officials.add(official);
    await official.enable();
    await runCutScenario(
      { receiver, sender, broadcaster, official, proxy, afterCut: (index) => proxy.retarget(index % 2 === 0 ? b.port : a.port) },
      { direct: 2000, broadcasts: 200, cuts: 5, backPerStep: 100 },
    );
  }, 240_000);
});
