/**
 * Redis going away and coming back, with two nodes in this process: relays
 * that need Redis are answered with an error, same-node messaging goes on,
 * newcomers are admitted by their node alone, and once Redis is back every
 * node reconciles presence (pushes for who came and went, newcomers among
 * them) and cross-node messaging resumes; nobody is refused at any point.
 * And when only one node's subscriber connection drops (Redis cuts a
 * subscriber that reads too slowly), a broadcast its members miss is not
 * answered OK.
 */
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/index.js';
import { BROADCAST_UNTAKEN_TEXT } from '../../src/server/cluster/cluster-room.js';
import { RELAY_UNAVAILABLE_TEXT } from '../../src/server/cluster/redis-directory.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { waitUntil } from '../helpers/recorder.js';
import { uniqueRoom, type TestServer } from '../helpers/server.js';
import { CLUSTER_WAIT, CLUSTER_WAIT_MS, connectTo, httpStatus, startNodes } from './cluster-fixtures.js';

/** The cluster directory of a node: its id and subscriber connection. */
function clusterOf(node: TestServer): { nodeId: string; subscriber: Redis } {
  return (node.server as unknown as { cluster: { nodeId: string; subscriber: Redis } }).cluster;
}

let redis: TestRedis;
let nodes: TestServer[];
beforeEach(async () => {
  redis = await startRedis();
  nodes = await startNodes(redis.url, 2);
});
afterEach(async () => {
  await Promise.all(nodes.map((node) => node.close()));
  await redis.dispose();
});

describe('redis outage', () => {
  it('refuses cross-node relays with an error while Redis is down, then reconciles presence and resumes', async () => {
    const [a, b] = nodes;
    const room = uniqueRoom();
    const alice = await connectTo(a, room, 'alice');
    const carol = await connectTo(a, room, 'carol');
    const bob = await connectTo(b, room, 'bob');
    const erin = await connectTo(b, room, 'erin');
    const enabled = [];
    for (const peer of [alice, carol, bob]) {
      await peer.invoke('enable', {});
      await peer.waitForPush('messaging.enabled', undefined, CLUSTER_WAIT_MS);
      for (const other of enabled) await other.waitForPush('participant.enabled', (p) => p.from === peer.participantId, CLUSTER_WAIT_MS);
      enabled.push(peer);
    }

    await redis.stop();
    await waitUntil(async () => (await httpStatus(a)).redis === 'unreachable' && (await httpStatus(b)).redis === 'unreachable', CLUSTER_WAIT);

    // Cross-node: an error the sender sees, nothing vanishes silently.
    const unavailable = { type: 'error', text: RELAY_UNAVAILABLE_TEXT, code: ErrorCode.OperationFailed };
    expect(await alice.invoke('send', { to_participant_id: bob.participantId, type: 'chat', message_json: '"lost?"' })).toEqual(unavailable);
    expect(await alice.invoke('broadcast', { type: 'news', message_json: '"lost?"' })).toEqual(unavailable);
    // Same node: still fine.
    expect(await alice.invoke('send', { to_participant_id: carol.participantId, type: 'chat', message_json: '"local"' })).toEqual({ type: 'empty' });
    expect((await carol.waitForPush('chat', undefined, CLUSTER_WAIT_MS)).message).toBe('local');
    // Newcomers are admitted by their node alone (counted against the limits there), and talk locally.
    const late = await connectTo(a, room, 'late');
    await late.invoke('enable', {});
    const lateSnapshot = await late.waitForPush('messaging.enabled', undefined, CLUSTER_WAIT_MS);
    // Those of other nodes it knew before the outage are still listed.
    expect((lateSnapshot.message as { participants: { id: string }[] }).participants.map((p) => p.id).sort()).toEqual([alice.participantId, carol.participantId, bob.participantId].sort());
    await alice.waitForPush('participant.enabled', (p) => p.from === late.participantId, CLUSTER_WAIT_MS);

    // Who comes and goes during the outage: carol (node a) leaves, erin (node b) enables.
    await carol.close();
    await erin.invoke('enable', {});
    await erin.waitForPush('messaging.enabled', undefined, CLUSTER_WAIT_MS);

    await redis.restart();
    // Admitted the moment Redis is back (no wait for reconciliation), on the node that saw no newcomer yet.
    const early = await connectTo(b, room, 'early');
    await early.invoke('enable', {});
    await early.waitForPush('messaging.enabled', undefined, CLUSTER_WAIT_MS);
    const gone = await bob.waitForPush('participant.disabled', (p) => p.from === carol.participantId, CLUSTER_WAIT_MS);
    expect(gone.message).toEqual({ id: carol.participantId });
    const came = await alice.waitForPush('participant.enabled', (p) => p.from === erin.participantId, CLUSTER_WAIT_MS);
    expect(came.message).toEqual({ id: erin.participantId, role: 'user', attributes: { name: 'erin' } });
    // The newcomer of the outage is known on the other node, with its attributes, and sees the others.
    const lateThere = await bob.waitForPush('participant.enabled', (p) => p.from === late.participantId, CLUSTER_WAIT_MS);
    expect(lateThere.message).toEqual({ id: late.participantId, role: 'user', attributes: { name: 'late' } });
    for (const id of [erin.participantId, early.participantId]) await late.waitForPush('participant.enabled', (p) => p.from === id, CLUSTER_WAIT_MS);

    // Cross-node messaging resumes without restarting anything.
    await waitUntil(async () => (await alice.invoke('send', { to_participant_id: bob.participantId, type: 'chat', message_json: '"back"' })).type === 'empty', CLUSTER_WAIT);
    expect((await bob.waitForPush('chat', (p) => p.message === 'back', CLUSTER_WAIT_MS)).from).toBe(alice.participantId);
    expect(await bob.invoke('broadcast', { type: 'news', message_json: '"all"' })).toEqual({ type: 'empty' });
    for (const peer of [alice, erin, late, early]) expect((await peer.waitForPush('news', undefined, CLUSTER_WAIT_MS)).message).toBe('all');
    // And the cluster-wide counts match the nodes again.
    await waitUntil(async () => JSON.stringify((await httpStatus(a)).cluster) === JSON.stringify({ nodes: 2, rooms: 1, participants: 5, enabled: 5 }), CLUSTER_WAIT);
  });

  it("answers a broadcast with an error, not OK, when a node with members in the room did not take it (its subscriber's connection was cut)", async () => {
    const [a, b] = nodes;
    const room = uniqueRoom();
    const alice = await connectTo(a, room, 'alice');
    const bob = await connectTo(b, room, 'bob');
    for (const peer of [alice, bob]) {
      await peer.invoke('enable', {});
      await peer.waitForPush('messaging.enabled', undefined, CLUSTER_WAIT_MS);
    }
    await alice.waitForPush('participant.enabled', (p) => p.from === bob.participantId, CLUSTER_WAIT_MS);

    // Redis cuts node b's subscriber (as `client-output-buffer-limit pubsub` does); it stays away until the test reconnects it.
    const { nodeId, subscriber } = clusterOf(b);
    const retryStrategy = subscriber.options.retryStrategy;
    subscriber.options.retryStrategy = () => null;
    const admin = new Redis(redis.url);
    try {
      const line = ((await admin.call('CLIENT', 'LIST')) as string).split('\n').find((entry) => entry.includes(` name=roomstate-sub:${nodeId} `));
      expect(line, 'node b has a named subscriber connection').toBeDefined();
      await admin.call('CLIENT', 'KILL', 'ID', line!.match(/^id=(\d+)/)![1]);
    } finally {
      admin.disconnect();
    }
    await waitUntil(() => subscriber.status === 'end', CLUSTER_WAIT);

    // Node a still sees bob; the broadcast reaches nobody on node b, and alice is told so.
    expect(await alice.invoke('broadcast', { type: 'news', message_json: '"missed"' })).toEqual({ type: 'error', text: BROADCAST_UNTAKEN_TEXT, code: ErrorCode.OperationFailed });

    subscriber.options.retryStrategy = retryStrategy;
    await subscriber.connect();
    await waitUntil(async () => (await alice.invoke('broadcast', { type: 'news', message_json: '"back"' })).type === 'empty', CLUSTER_WAIT);
    // What bob gets first is what was answered OK: nothing answered with an error slipped through as if delivered.
    expect((await bob.waitForPush('news', undefined, CLUSTER_WAIT_MS)).message).toBe('back');
  });
});
