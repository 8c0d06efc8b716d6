/**
 * Cross-node presence under concurrent joins: every `participant.enabled`
 * and snapshot entry a client gets carries the participant's attributes,
 * and a roomstate client's `participantAdded$` (what `room messaging listen`
 * prints) always has the name, also while Redis's script cache is cold (the
 * first join after a Redis start: every script falls back from EVALSHA).
 */
import { Redis } from 'ioredis';
import { filter, firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientPool } from '../client/helpers/clients.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { uniqueRoom, type TestServer } from '../helpers/server.js';
import { CLUSTER_WAIT_MS, connectTo, startNodes } from './cluster-fixtures.js';
import type { RawClient } from '../helpers/raw-client.js';

let redis: TestRedis;
let nodes: TestServer[];
let pools: ClientPool[];
beforeAll(async () => {
  redis = await startRedis();
  nodes = await startNodes(redis.url, 3, { limits: { maxParticipantsPerRoom: 10 } });
  pools = nodes.map((node) => new ClientPool({ url: node.url, secret: node.secret }));
});
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
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

describe('cross-node presence as a roomstate client reports it', () => {
  it('participant_added always has the name, with a cold script cache too', { timeout: 120_000 }, async () => {
    const admin = new Redis(redis.url);
    const problems: string[] = [];
    let added = 0;
    try {
      for (let round = 0; round < 4; round++) {
        await admin.script('FLUSH');
        await Promise.all(
          Array.from({ length: 6 }, async () => {
            const room = uniqueRoom('listen');
            // The listener enables on one node while three others join and enable on the other two.
            const listener = await pools[1].client(room, `listener-${room}`);
            listener.messaging.participantAdded$.subscribe((participant) => {
              added++;
              const name = participant.getAttribute('name');
              if (typeof name !== 'string' || !name.endsWith(room)) problems.push(`added ${participant.id} with ${JSON.stringify(participant.attributes)}`);
            });
            const everyone = firstValueFrom(listener.messaging.participants$.pipe(filter((list) => list.length === 3)));
            const joining = (): Promise<unknown> => Promise.all([
              (async () => {
                const client = await pools[0].client(room, `client-${room}`);
                await client.start();
                await client.messaging.enable();
              })(),
              ...['a', 'b'].map(async (name) => {
                const peer = await connectTo(nodes[name === 'a' ? 0 : 2], room, `${name}-${room}`);
                peer.notify('set_attributes', { mood: 'x' });
                await peer.invoke('enable', {});
              }),
            ]);
            // Half the rooms: the listener enables while the others join; half: it joins once they are
            // enabled (its node opens the room and reads the roster while the listener enables).
            if (round % 2 === 0) await Promise.all([listener.start().then(() => listener.messaging.enable()), joining()]);
            else await joining().then(() => listener.start()).then(() => listener.messaging.enable());
            for (const participant of await everyone) {
              if (participant.getAttribute('name') === undefined) problems.push(`listed ${participant.id} without a name`);
            }
          }),
        );
      }
    } finally {
      admin.disconnect();
    }
    expect(problems).toEqual([]);
    expect(added).toBeGreaterThan(0);
  });
});
