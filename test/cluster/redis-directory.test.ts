/**
 * The directory conformance suite against Redis cluster nodes in this
 * process: two nodes, then three, on one real redis-server; and what only a
 * cluster does: a node that shuts down leaves no one behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { uniqueRoom } from '../helpers/server.js';
import { CLUSTER_WAIT_MS, connectTo, httpStatus, startNodes } from './cluster-fixtures.js';
import { directoryConformance } from './directory-conformance.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.dispose());

describe.each([2, 3])('redis directory, %i nodes', (count) => {
  directoryConformance(() => startNodes(redis.url, count));
});

describe('redis directory, leaving', () => {
  it('removes the participants of a node that shuts down at once, and the node leaves the cluster', async () => {
    const [a, b] = await startNodes(redis.url, 2);
    try {
      const room = uniqueRoom();
      const alice = await connectTo(a, room, 'alice');
      await alice.invoke('enable', {});
      await alice.waitForPush('messaging.enabled', undefined, CLUSTER_WAIT_MS);
      const bob = await connectTo(b, room, 'bob');
      await bob.invoke('enable', {});
      await alice.waitForPush('participant.enabled', (p) => p.from === bob.participantId, CLUSTER_WAIT_MS);
      await b.close();
      expect((await alice.waitForPush('participant.disabled', (p) => p.from === bob.participantId, CLUSTER_WAIT_MS)).message).toEqual({ id: bob.participantId });
      expect((await httpStatus(a)).cluster).toEqual({ nodes: 1, rooms: 1, participants: 1, enabled: 1 });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
