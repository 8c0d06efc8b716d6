/**
 * The directory conformance suite on a real 3-master Redis Cluster: every
 * scenario of one Redis server holds when each room's keys and channels live
 * in one hash slot and rooms spread over the masters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterKeys } from '../../src/server/cluster/bus.js';
import { startRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.js';
import { ErrorCode } from '../../src/protocol/index.js';
import { RELAY_UNAVAILABLE_TEXT } from '../../src/server/cluster/redis-directory.js';
import { waitUntil } from '../helpers/recorder.js';
import { uniqueRoom } from '../helpers/server.js';
import { CLUSTER_WAIT, CLUSTER_WAIT_MS, connectTo, startNodes } from './cluster-fixtures.js';
import { directoryConformance } from './directory-conformance.js';
import { execFileSync } from 'node:child_process';

let cluster: TestRedisCluster;
beforeAll(async () => {
  cluster = await startRedisCluster();
}, 120_000);
afterAll(() => cluster?.dispose());

describe('redis directory on a Redis Cluster, 3 nodes', () => {
  directoryConformance(() => startNodes({ cluster: cluster.urls }, 3));
});

describe('redis cluster key layout', () => {
  it('keeps every key and channel of a room in one slot, and spreads rooms over the masters', () => {
    const keys = new ClusterKeys('roomstate');
    const slot = (key: string) => Number(execFileSync('redis-cli', ['-p', String(cluster.ports[0]), 'cluster', 'keyslot', key]).toString().trim());
    const rooms = ['lobby', 'r}{oom', '{}', 'ро☃м', ...Array.from({ length: 12 }, (_, i) => `room-${i}`)];
    const slots = new Set<number>();
    for (const room of rooms) {
      const own = new Set([keys.members(room), keys.roster(room), keys.roomChannel(room), keys.directChannel(room, 'node-1')].map(slot));
      expect(own.size, room).toBe(1);
      slots.add([...own][0]);
    }
    expect(slots.size).toBeGreaterThan(rooms.length / 2);
  });
});

describe('a Redis Cluster master that dies (no replicas)', () => {
  it("fails its rooms' cross-node traffic visibly until it returns; rooms on other masters carry on", async () => {
    const nodes = await startNodes({ cluster: cluster.urls }, 2);
    try {
      const keys = new ClusterKeys('any');
      const rooms: string[] = [];
      for (let i = 0; rooms.length < 2; i++) {
        const room = uniqueRoom('master');
        const master = await cluster.masterOf(keys.members(room));
        if ((rooms.length === 0 && master === 0) || (rooms.length === 1 && master !== 0)) rooms.push(room);
      }
      const pairs = await Promise.all(
        rooms.map(async (room) => {
          const alice = await connectTo(nodes[0], room, 'alice');
          const bob = await connectTo(nodes[1], room, 'bob');
          for (const peer of [alice, bob]) {
            await peer.invoke('enable', {});
            await peer.waitForPush('messaging.enabled', undefined, CLUSTER_WAIT_MS);
          }
          await alice.waitForPush('participant.enabled', (p) => p.from === bob.participantId, CLUSTER_WAIT_MS);
          return { alice, bob };
        }),
      );
      const send = ({ alice, bob }: (typeof pairs)[number], text: string) =>
        alice.invoke('send', { to_participant_id: bob.participantId, type: 'chat', message_json: JSON.stringify(text) });

      await cluster.stopMaster(0);
      // The dead master's room: an error, never OK. The other room: delivered.
      expect(await send(pairs[0], 'lost?')).toEqual({ type: 'error', text: RELAY_UNAVAILABLE_TEXT, code: ErrorCode.OperationFailed });
      await waitUntil(async () => (await send(pairs[1], 'other')).type === 'empty', CLUSTER_WAIT);
      expect((await pairs[1].bob.waitForPush('chat', (p) => p.message === 'other', CLUSTER_WAIT_MS)).from).toBe(pairs[1].alice.participantId);

      await cluster.restartMaster(0);
      await waitUntil(async () => (await send(pairs[0], 'back')).type === 'empty', CLUSTER_WAIT);
      expect((await pairs[0].bob.waitForPush('chat', (p) => p.message === 'back', CLUSTER_WAIT_MS)).from).toBe(pairs[0].alice.participantId);
    } finally {
      if (cluster) await cluster.restartMaster(0).catch(() => undefined);
      await Promise.all(nodes.map((node) => node.close()));
    }
  });
});
