/**
 * Cross-node presence under concurrent joins: every `participant.enabled`
 * and snapshot entry a client gets carries the participant's attributes,
 * and a roomstate client's `participantAdded$` (what `room messaging listen`
 * prints) always has the name, also while Redis's script cache is cold (the
 * first join after a Redis start: every script falls back from EVALSHA),
 * and when a participant's `participant.enabled` and `participant.disabled`
 * reach the listener in one read (the race an outside tester saw; the
 * client read the attributes from a roster the participant had already
 * left, until 2faed97 kept its enabling entry).
 */
import { Redis } from 'ioredis';
import { filter, firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientPool } from '../client/helpers/clients.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { uniqueRoom, type TestServer } from '../helpers/server.js';
import { CLUSTER_WAIT_MS, connectTo, startNodes } from './cluster-fixtures.js';
import type { RawClient } from '../helpers/raw-client.js';

/** The subscriber connection of a node's cluster directory (to hold its reads back). */
function subscriberOf(node: TestServer): Redis {
  return (node.server as unknown as { cluster: { subscriber: Redis } }).cluster.subscriber;
}

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

describe('a cross-node participant that comes and goes in one read', () => {
  // What an outside tester once saw: `room messaging list` run through another node (join, enable,
  // print, leave) reached a listener as participant_added with no name, then participant_removed
  // with it. Both pushes came in one socket read, so the client applied them in one step; the
  // participant was already gone from the roster when participant_added was heard, and its
  // attributes were read from there. Here the listener's node holds its subscriber connection back
  // until Redis has published both, so both reach the listener together.
  it('participant_added has the attributes it enabled with', { timeout: 60_000 }, async () => {
    const admin = new Redis(redis.url);
    try {
      const room = uniqueRoom('coalesced');
      const listener = await pools[1].client(room, `listener-${room}`);
      const heard: string[] = [];
      listener.messaging.participantAdded$.subscribe((participant) => heard.push(`added ${JSON.stringify(participant.attributes)}`));
      listener.messaging.participantRemoved$.subscribe((participant) => heard.push(`removed ${JSON.stringify(participant.attributes)}`));
      await listener.start();
      await listener.messaging.enable();
      const peer = await connectTo(nodes[0], room, `lister-${room}`);
      const rosterKey = (await admin.keys(`*:room:{${encodeURIComponent(room)}}:roster`))[0];
      expect(rosterKey).toBeDefined();
      const removed = firstValueFrom(listener.messaging.participantRemoved$);
      const stream = subscriberOf(nodes[1]).stream;
      stream.pause();
      try {
        peer.notify('set_attributes', { mood: 'x' });
        await peer.invoke('enable', {});
        await peer.close();
        // The roster lists the listener alone once the leave ran: both events were published by then.
        const deadline = Date.now() + CLUSTER_WAIT_MS;
        while ((await admin.hlen(rosterKey!)) !== 1 || (await admin.hexists(rosterKey!, listener.localParticipant.id)) !== 1) {
          if (Date.now() > deadline) throw new Error('the leave never reached the roster');
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      } finally {
        stream.resume();
      }
      await removed;
      const attributes = JSON.stringify({ name: `lister-${room}`, mood: 'x' });
      expect(heard).toEqual([`added ${attributes}`, `removed ${attributes}`]);
    } finally {
      admin.disconnect();
    }
  });
});

