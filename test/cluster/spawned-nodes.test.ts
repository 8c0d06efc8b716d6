/**
 * Nodes as users run them: three `roomstate serve --redis` processes of the
 * built bin on one real redis-server, official MeshAgent 0.39.9 clients on
 * different nodes, and a node killed with SIGKILL.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OfficialPeer, clearMeshagentEnv, installProcessGuard, type ProcessGuard } from '../helpers/official-client.js';
import { waitUntil } from '../helpers/recorder.js';
import { connectRaw } from '../helpers/raw-client.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { spawnCliServer, type SpawnedServer } from '../helpers/spawned-server.js';
import { mintToken } from '../../src/auth/token.js';
import { CLUSTER_WAIT, CLUSTER_WAIT_MS, httpStatus } from './cluster-fixtures.js';

const SECRET = 'cluster-secret-0123456789abcdef';
/** Small lease (heartbeat a third of it), so a killed node is cleared quickly. */
const LEASE = '1.5s';

let redis: TestRedis;
let guard: ProcessGuard;
const servers: SpawnedServer[] = [];
const peers: OfficialPeer[] = [];

function startNode(args: string[] = []): Promise<SpawnedServer> {
  return spawnCliServer({ secret: SECRET, args: ['--redis', redis.url, '--redis-lease', LEASE, ...args] }).then((server) => {
    servers.push(server);
    return server;
  });
}

function httpOf(server: SpawnedServer): { httpUrl: string } {
  return { httpUrl: server.url.replace('ws://', 'http://') };
}

async function join(server: SpawnedServer, room: string, name: string): Promise<OfficialPeer> {
  const peer = await OfficialPeer.connect({ baseUrl: server.url, room, name, secret: SECRET });
  peers.push(peer);
  await peer.enable(CLUSTER_WAIT);
  return peer;
}

beforeAll(async () => {
  clearMeshagentEnv();
  guard = installProcessGuard();
  redis = await startRedis();
});

afterEach(async () => {
  await Promise.all(peers.splice(0).map((peer) => peer.leave()));
  await Promise.all(servers.splice(0).map((server) => server.close()));
  expect(guard.errors).toEqual([]);
});

afterAll(async () => {
  await redis?.dispose();
  guard?.dispose();
});

describe('roomstate serve --redis, as separate processes', () => {
  it('lets official clients on different nodes see each other and exchange direct messages with attachments and broadcasts', async () => {
    const [a, b, c] = await Promise.all([startNode(), startNode(), startNode()]);
    const room = `cluster-${randomUUID()}`;
    const alice = await join(a, room, 'alice');
    const bob = await join(b, room, 'bob');
    const carol = await join(c, room, 'carol');
    for (const [peer, others] of [[alice, ['bob', 'carol']], [bob, ['alice', 'carol']], [carol, ['alice', 'bob']]] as const) {
      for (const name of others) await peer.participantByName(name, CLUSTER_WAIT);
    }

    const attachment = Uint8Array.from({ length: 6007 }, (_, i) => (i * 31 + 3) % 251);
    await alice.client.messaging.sendMessage({ to: await alice.participantByName('bob'), type: 'chat', message: { text: 'hi bob' }, attachment });
    const received = await bob.messages.waitFor((m) => m.type === 'chat', CLUSTER_WAIT);
    expect(received.message).toEqual({ text: 'hi bob' });
    expect(Buffer.from(received.attachment as Uint8Array).equals(Buffer.from(attachment))).toBe(true);
    await bob.client.messaging.sendMessage({ to: await bob.participantByName('alice'), type: 'reply', message: { ok: true } });
    expect((await alice.messages.waitFor((m) => m.type === 'reply', CLUSTER_WAIT)).message).toEqual({ ok: true });

    await carol.client.messaging.broadcastMessage({ type: 'announce', message: { hello: 'everyone' }, attachment });
    for (const peer of [alice, bob]) {
      const got = await peer.messages.waitFor((m) => m.type === 'announce', CLUSTER_WAIT);
      expect(Buffer.from(got.attachment as Uint8Array).equals(Buffer.from(attachment))).toBe(true);
    }
    const statuses = await Promise.all([a, b, c].map((server) => httpStatus(httpOf(server))));
    expect(new Set(statuses.map((status) => status.node)).size).toBe(3);
    expect(statuses[0].cluster).toEqual({ nodes: 3, rooms: 1, participants: 3, enabled: 3 });
  });

  it('clears the participants of a SIGKILLed node from every other node; a restart on the same port is a new node', async () => {
    const [a, b, c] = await Promise.all([startNode(), startNode(), startNode()]);
    const room = `cluster-${randomUUID()}`;
    const alice = await join(a, room, 'alice');
    const bob = await join(b, room, 'bob');
    const carolToken = await mintToken({ secret: SECRET, room, name: 'carol' });
    const carol = await connectRaw(c.url, room, carolToken, { timeoutMs: CLUSTER_WAIT_MS });
    await carol.invoke('enable', {});
    await carol.waitForPush('messaging.enabled', undefined, CLUSTER_WAIT_MS);
    await alice.participantByName('bob', CLUSTER_WAIT);
    const bobId = bob.id;
    const oldNode = (await httpStatus(httpOf(b))).node;

    b.child.kill('SIGKILL');
    peers.splice(peers.indexOf(bob), 1);
    await alice.participantGone('bob', CLUSTER_WAIT);
    expect((await carol.waitForPush('participant.disabled', (p) => p.from === bobId, CLUSTER_WAIT_MS)).message).toEqual({ id: bobId });
    await waitUntil(async () => JSON.stringify((await httpStatus(httpOf(a))).cluster) === JSON.stringify({ nodes: 2, rooms: 1, participants: 2, enabled: 2 }), CLUSTER_WAIT);

    const port = new URL(b.url).port;
    const restarted = await startNode(['--port', port]);
    expect(restarted.url).toBe(b.url);
    expect((await httpStatus(httpOf(restarted))).node).not.toBe(oldNode);
    const dave = await join(restarted, room, 'dave');
    await alice.participantByName('dave', CLUSTER_WAIT);
    // Nothing of the old node came back.
    expect(alice.presentNames()).toEqual(['carol', 'dave']);
    expect(dave.presentNames()).toEqual(['alice', 'carol']);
    await carol.close();
  });
});

describe('roomstate serve --redis while Redis is away', () => {
  it('keeps running, and still stops cleanly (exit 0) on SIGTERM', async () => {
    const own = await startRedis();
    try {
      const node = await spawnCliServer({ secret: SECRET, args: ['--redis', own.url, '--redis-lease', LEASE] });
      servers.push(node);
      await own.stop();
      await waitUntil(async () => (await httpStatus(httpOf(node))).redis === 'unreachable', CLUSTER_WAIT);
      await node.close();
      expect({ code: node.child.exitCode, signal: node.child.signalCode }).toEqual({ code: 0, signal: null });
    } finally {
      await own.dispose();
    }
  });
});
