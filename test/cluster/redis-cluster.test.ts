/**
 * The directory conformance suite on a real 3-master Redis Cluster: every
 * scenario of one Redis server holds when each room's keys and channels live
 * in one hash slot and rooms spread over the masters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterKeys } from '../../src/server/cluster/bus.js';
import { startRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.js';
import { startNodes } from './cluster-fixtures.js';
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
