/**
 * Cross-node presence under concurrent joins: every `participant.enabled`
 * and snapshot entry a client gets carries the participant's attributes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { uniqueRoom, type TestServer } from '../helpers/server.js';
import { CLUSTER_WAIT_MS, connectTo, startNodes } from './cluster-fixtures.js';
import type { RawClient } from '../helpers/raw-client.js';

let redis: TestRedis;
let nodes: TestServer[];
beforeAll(async () => {
  redis = await startRedis();
  nodes = await startNodes(redis.url, 3, { limits: { maxParticipantsPerRoom: 10 } });
});
afterAll(async () => {
  await Promise.all(nodes.map((node) => node.close()));
  await redis.dispose();
});

describe('cross-node presence, concurrent joins', () => {
  it('always carries attributes', async () => {
    const rooms = Array.from({ length: 20 }, () => uniqueRoom('race'));
    const all: RawClient[] = [];
    const problems: string[] = [];
    const names = new Map<string, string>();
    const check = (id: string, attributes: Record<string, unknown> | undefined, where: string) =>
      attributes?.name === names.get(id) ? [] : [`${where} of ${names.get(id)} carried ${JSON.stringify(attributes)}`];
    await Promise.all(
      rooms.map(async (room) => {
        const peers = await Promise.all(['a', 'b', 'c', 'd'].map((name, i) => connectTo(nodes[i % 3], room, `${name}-${room}`)));
        all.push(...peers);
        for (const [i, peer] of peers.entries()) names.set(peer.participantId, `${['a', 'b', 'c', 'd'][i]}-${room}`);
        await Promise.all(
          peers.map(async (peer) => {
            peer.notify('set_attributes', { mood: 'x' });
            await peer.invoke('enable', {});
          }),
        );
        for (const peer of peers) {
          const snapshot = await peer.waitForPush('messaging.enabled', undefined, CLUSTER_WAIT_MS);
          const listed = (snapshot.message as { participants: { id: string; attributes: Record<string, unknown> }[] }).participants;
          for (const entry of listed) problems.push(...check(entry.id, entry.attributes, 'snapshot'));
          for (const other of peers) {
            if (other === peer || listed.some((entry) => entry.id === other.participantId)) continue;
            const push = await peer.waitForPush('participant.enabled', (p) => p.from === other.participantId, CLUSTER_WAIT_MS);
            problems.push(...check(other.participantId, (push.message as { attributes: Record<string, unknown> }).attributes, 'participant.enabled'));
          }
        }
      }),
    );
    expect(problems).toEqual([]);
    expect(all.length).toBe(80);
  });
});
