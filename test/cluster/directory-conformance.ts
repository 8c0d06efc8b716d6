/**
 * One behaviour suite for every room directory: the same messaging
 * scenarios run against one in-memory server and against several Redis
 * cluster nodes, with the participants spread across the nodes (participant
 * i connects to node i mod n). Whatever a single server guarantees, a
 * cluster must guarantee across nodes.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ErrorCode, PARTICIPANT_NOT_FOUND_TEXT } from '../../src/protocol/index.js';
import { expectUpgradeRefused, type RawClient } from '../helpers/raw-client.js';
import { waitUntil } from '../helpers/recorder.js';
import { uniqueRoom, type TestServer } from '../helpers/server.js';
import { CLUSTER_WAIT, CLUSTER_WAIT_MS, connectTo, httpStatus } from './cluster-fixtures.js';

/** Starts the nodes of one scenario (each with `maxParticipantsPerRoom: 4`). */
export type StartNodes = () => Promise<TestServer[]>;

/** Registers the conformance tests in the current `describe`. */
export function directoryConformance(start: StartNodes): void {
  let nodes: TestServer[];
  beforeEach(async () => {
    nodes = await start();
  });
  afterEach(async () => {
    await Promise.all(nodes.map((node) => node.close()));
  });

  /** Connects `names` to `room` round-robin over the nodes and enables each, in order. */
  async function enabledPeers(room: string, ...names: string[]): Promise<RawClient[]> {
    const peers: RawClient[] = [];
    for (const [index, name] of names.entries()) {
      const peer = await connectTo(nodes[index % nodes.length], room, name);
      expect(await peer.invoke('enable', {})).toEqual({ type: 'empty' });
      await peer.waitForPush('messaging.enabled', undefined, CLUSTER_WAIT_MS);
      for (const other of peers) await other.waitForPush('participant.enabled', (p) => p.from === peer.participantId, CLUSTER_WAIT_MS);
      peers.push(peer);
    }
    return peers;
  }

  it('lists the enabled participants of every node in the snapshot, and announces newcomers everywhere', async () => {
    const room = uniqueRoom();
    const peers = await enabledPeers(room, 'alice', 'bob', 'carol');
    const dave = await connectTo(nodes[peers.length % nodes.length], room, 'dave', { role: 'agent' });
    await dave.invoke('enable', {});
    const snapshot = await dave.waitForPush('messaging.enabled', undefined, CLUSTER_WAIT_MS);
    const listed = (snapshot.message as { participants: { id: string; role: string; attributes: unknown }[] }).participants;
    expect(listed.map((p) => p.id).sort()).toEqual(peers.map((p) => p.participantId).sort());
    expect(listed.find((p) => p.id === peers[1].participantId)).toEqual({ id: peers[1].participantId, role: 'user', attributes: { name: 'bob' } });
    for (const peer of peers) {
      const announced = await peer.waitForPush('participant.enabled', (p) => p.from === dave.participantId, CLUSTER_WAIT_MS);
      expect(announced.message).toEqual({ id: dave.participantId, role: 'agent', attributes: { name: 'dave' } });
    }
  });

  it('delivers a direct message with its attachment to a participant on another node', async () => {
    const [alice, bob] = await enabledPeers(uniqueRoom(), 'alice', 'bob');
    const attachment = Buffer.from([0, 1, 2, 250, 251, 252]);
    const reply = await alice.invoke('send', { to_participant_id: bob.participantId, type: 'chat', message_json: '{"text":"hi"}', attachment_base64: attachment.toString('base64') });
    expect(reply).toEqual({ type: 'empty' });
    const push = await bob.waitForPush('chat', undefined, CLUSTER_WAIT_MS);
    expect(push.from).toBe(alice.participantId);
    expect(push.message).toEqual({ text: 'hi' });
    expect(Buffer.from(push.attachment)).toEqual(attachment);
  });

  it('delivers a broadcast to everyone else exactly once', async () => {
    const peers = await enabledPeers(uniqueRoom(), 'alice', 'bob', 'carol', 'dave');
    const [alice, ...others] = peers;
    for (const n of [1, 2]) expect(await alice.invoke('broadcast', { type: 'news', message_json: JSON.stringify({ n }) })).toEqual({ type: 'empty' });
    for (const peer of others) {
      expect((await peer.waitForPush('news', (p) => (p.message as { n: number }).n === 1, CLUSTER_WAIT_MS)).from).toBe(alice.participantId);
      await peer.waitForPush('news', (p) => (p.message as { n: number }).n === 2, CLUSTER_WAIT_MS);
      // One sender's messages stay in order, so a duplicate of the first would be queued by now.
      await expect(peer.waitForPush('news', undefined, 0)).rejects.toThrow(/no matching message/);
    }
    await expect(alice.waitForPush('news', undefined, 0)).rejects.toThrow(/no matching message/);
  });

  it('spreads attribute changes and disables, and the snapshot follows them', async () => {
    const room = uniqueRoom();
    const [alice, bob, carol] = await enabledPeers(room, 'alice', 'bob', 'carol');
    bob.notify('set_attributes', { mood: 'happy' });
    for (const peer of [alice, carol]) {
      const push = await peer.waitForPush('participant.attributes', (p) => p.from === bob.participantId, CLUSTER_WAIT_MS);
      expect(push.message).toEqual({ attributes: { mood: 'happy' } });
    }
    await carol.close();
    for (const peer of [alice, bob]) {
      const push = await peer.waitForPush('participant.disabled', (p) => p.from === carol.participantId, CLUSTER_WAIT_MS);
      expect(push.message).toEqual({ id: carol.participantId });
    }
    const erin = await connectTo(nodes[nodes.length - 1], room, 'erin');
    await erin.invoke('enable', {});
    const snapshot = await erin.waitForPush('messaging.enabled', undefined, CLUSTER_WAIT_MS);
    expect(snapshot.message).toEqual({
      participants: expect.arrayContaining([
        { id: alice.participantId, role: 'user', attributes: { name: 'alice' } },
        { id: bob.participantId, role: 'user', attributes: { name: 'bob', mood: 'happy' } },
      ]),
    });
    expect((snapshot.message as { participants: unknown[] }).participants).toHaveLength(2);
  });

  it('answers a send to a participant on no node with 1003 "the participant was not found"', async () => {
    const [alice] = await enabledPeers(uniqueRoom(), 'alice', 'bob');
    const reply = await alice.invoke('send', { to_participant_id: 'nobody-anywhere', type: 'chat', message_json: '{}' });
    expect(reply).toEqual({ type: 'error', text: PARTICIPANT_NOT_FOUND_TEXT, code: ErrorCode.NotFound });
  });

  it('keeps 300 pipelined sends of one sender in order', async () => {
    const [alice, bob] = await enabledPeers(uniqueRoom(), 'alice', 'bob');
    const replies = Array.from({ length: 300 }, (_, i) => alice.invoke('send', { to_participant_id: bob.participantId, type: 'seq', message_json: String(i) }));
    expect(new Set((await Promise.all(replies)).map((reply) => reply.type))).toEqual(new Set(['empty']));
    for (let i = 0; i < 300; i++) {
      const push = await bob.waitForPush('seq', undefined, CLUSTER_WAIT_MS);
      expect(push.message).toBe(i);
    }
  });

  it('counts maxParticipantsPerRoom over every node', async () => {
    const room = uniqueRoom();
    for (let i = 0; i < 4; i++) await connectTo(nodes[i % nodes.length], room, `p${i}`);
    for (const node of nodes) {
      const refused = await expectUpgradeRefused(node.url, room, await node.token(room, 'late'));
      expect(refused.status).toBe(503);
      expect(JSON.parse(refused.body)).toEqual({ error: 'room is full' });
    }
  });

  it('frees every room everywhere after churn, with no ghosts left', async () => {
    const rooms = [uniqueRoom('churn'), uniqueRoom('churn')];
    const watcherRoom = rooms[0];
    const [watcher] = await enabledPeers(watcherRoom, 'watcher');
    const churners: RawClient[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 4; i++) {
        const room = rooms[i % 2];
        if (room === watcherRoom && i === 0) continue;
        const peer = await connectTo(nodes[(round + i) % nodes.length], room, `c${round}-${i}`);
        await peer.invoke('enable', {});
        churners.push(peer);
      }
      // Half leave cleanly, half vanish.
      await Promise.all(churners.splice(0).map((peer, i) => (i % 2 === 0 ? peer.close() : peer.terminate())));
    }
    // Every churner that was announced to the watcher is disabled again, and nobody else is listed.
    const late = await connectTo(nodes[nodes.length - 1], watcherRoom, 'late');
    await late.invoke('enable', {});
    await waitUntil(async () => {
      const check = await connectTo(nodes[1 % nodes.length], watcherRoom, 'check');
      await check.invoke('enable', {});
      const snapshot = await check.waitForPush('messaging.enabled', undefined, CLUSTER_WAIT_MS);
      await check.close();
      const ids = (snapshot.message as { participants: { id: string }[] }).participants.map((p) => p.id).sort();
      return JSON.stringify(ids) === JSON.stringify([watcher.participantId, late.participantId].sort());
    }, CLUSTER_WAIT);
    await Promise.all([watcher.close(), late.close()]);
    await waitUntil(async () => nodes.every((node) => node.server.stats().rooms === 0 && node.server.stats().participants === 0), CLUSTER_WAIT);
    for (const node of nodes) {
      const status = await httpStatus(node);
      if (status.cluster !== undefined) await waitUntil(async () => JSON.stringify((await httpStatus(node)).cluster).includes('"rooms":0,"participants":0,"enabled":0'), CLUSTER_WAIT);
    }
  });
}
