/**
 * The client across connection failures, against a real roomstate server:
 * a server restart (close, then a new server on the same port) and network
 * cuts through a TCP proxy that the test controls.
 */
import { describe, expect, it } from 'vitest';
import { ParticipantNotFoundError, type RemoteParticipant, type RoomClient } from '../../src/client/node.js';
import { mintToken } from '../../src/auth/token.js';
import { connectRaw } from '../helpers/raw-client.js';
import { TEST_SECRET, uniqueRoom, useServers, type TestServer } from '../helpers/server.js';
import { waitUntil } from '../helpers/recorder.js';
import { ClientPool, record } from './helpers/clients.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';

// The fixture closes each test's servers after its deferred cleanups (pools, then proxies: newest first).
const servers = useServers();

/** A server on `port` (0: a free one), closed after the test. */
async function startRoomServer(port = 0): Promise<{ server: TestServer; port: number; url: string }> {
  const server = await servers.start({ port });
  return { server, port: server.port, url: server.url };
}

/** A TCP proxy to `port`, closed after the test. */
async function proxyTo(port: number): Promise<TcpProxy> {
  const proxy = await startTcpProxy(port);
  servers.defer(() => proxy.close());
  return proxy;
}

function poolFor(url: string): ClientPool {
  const pool = new ClientPool({ url, secret: TEST_SECRET });
  servers.defer(() => pool.close());
  return pool;
}

/** Resolves once `client`'s messaging has gone through `enabling` back to `enabled` (from now on). */
function reEnabled(client: RoomClient): Promise<unknown> {
  const states = record(client.messaging.state$);
  let enabling = false;
  return states.waitFor(
    (state) => {
      if (state === 'enabling') enabling = true;
      return enabling && state === 'enabled';
    },
    { timeoutMs: 60_000, what: 'messaging to be enabled again' },
  );
}

const fast = { retryDelay: () => 100 };
const names = (participants: readonly RemoteParticipant[]): string[] => participants.map((p) => String(p.getAttribute('name'))).sort();

describe('RoomClient across a server restart', () => {
  it('reconnects, re-sends attributes, re-enables, reconciles presence and delivers queued sends', async () => {
    const { server: first, port } = await startRoomServer();
    const proxy = await proxyTo(port);
    const room = uniqueRoom();
    const direct = poolFor(`ws://127.0.0.1:${port}`);
    // Alice goes through the proxy, so the test decides when she gets back in.
    const alice = await poolFor(proxy.url).enabled(room, 'alice', fast);
    const bob = await direct.enabled(room, 'bob', fast);
    const carol = await direct.enabled(room, 'carol', { reconnectTimeout: 0 }); // will not come back
    await waitUntil(() => alice.messaging.getParticipants().length === 2, { what: 'alice to see bob and carol' });
    const oldBob = alice.messaging.getParticipantByName('bob')!;
    const oldCarol = alice.messaging.getParticipantByName('carol')!;
    const aliceId = alice.localParticipant.id;
    alice.localParticipant.setAttribute('status', 'before');
    await waitUntil(() => bob.messaging.getParticipantByName('alice')?.getAttribute('status') === 'before');

    const connection = record(alice.connectionState$);
    const added = record(alice.messaging.participantAdded$);
    const removed = record(alice.messaging.participantRemoved$);
    const bobBack = reEnabled(bob);

    proxy.pause();
    await first.close();
    await connection.waitFor((state) => state === 'reconnecting');
    await carol.waitForClose();
    expect(alice.messaging.state).toBe('enabling');
    // Presence is kept through the outage.
    expect(names(alice.messaging.getParticipants())).toEqual(['bob', 'carol']);

    // Made while reconnecting: queued.
    alice.localParticipant.setAttribute('status', 'during');
    const broadcasts = [1, 2, 3].map((n) => alice.messaging.broadcastMessage({ type: 'queued', message: { n } }));
    const toOldBob = alice.messaging.sendMessage({ to: oldBob, type: 'queued', message: { n: 0 } }).catch((error: unknown) => error);

    const { server: second } = await startRoomServer(port);
    expect(second.server.address?.port).toBe(port);
    await bobBack;
    const dave = await direct.enabled(room, 'dave');
    const atBob = record(bob.messaging.messages$);
    const atDave = record(dave.messaging.messages$);
    await waitUntil(() => bob.messaging.getParticipantByName('dave') !== null, { what: 'bob to see dave' });

    const aliceBack = reEnabled(alice);
    proxy.resume();
    await aliceBack;
    await Promise.all(broadcasts);

    // New participant id; attributes re-sent with the whole merged set.
    expect(alice.localParticipant.id).not.toBe(aliceId);
    expect(alice.localParticipant.attributes).toEqual({ name: 'alice', status: 'during' });
    await waitUntil(() => bob.messaging.getParticipantByName('alice')?.getAttribute('status') === 'during', { what: 'bob to see alice status during' });
    expect(bob.messaging.getParticipantByName('alice')!.id).toBe(alice.localParticipant.id);

    // Presence reconciled: everyone from before is gone (new ids after a restart), bob and dave are new.
    expect(names(alice.messaging.getParticipants())).toEqual(['bob', 'dave']);
    const newBob = alice.messaging.getParticipantByName('bob')!;
    expect(newBob.id).toBe(bob.localParticipant.id);
    expect(newBob.id).not.toBe(oldBob.id);
    expect(new Set(removed.items)).toEqual(new Set([oldBob, oldCarol]));
    expect(removed.items).toHaveLength(2);
    expect(names(added.items)).toEqual(['bob', 'dave']);
    // Nobody reported twice.
    const addedIds = added.items.map((p) => p.id);
    expect(new Set(addedIds).size).toBe(addedIds.length);
    expect(addedIds).not.toContain(oldBob.id);

    // Queued broadcasts delivered, in order; the send to the old bob id fails loudly, not silently.
    await atBob.waitForCount((m) => m.type === 'queued', 3);
    await atDave.waitForCount((m) => m.type === 'queued', 3);
    expect(atBob.items.map((m) => m.message)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(atDave.items.map((m) => m.message)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(await toOldBob).toBeInstanceOf(ParticipantNotFoundError);
    expect(connection.items).toEqual(['connected', 'reconnecting', 'connected']);
  });

  it('sends set_attributes, then messaging.enable, then the queued sends on the new connection', async () => {
    const { server: first, port } = await startRoomServer();
    const proxy = await proxyTo(port);
    const room = uniqueRoom();
    const alice = await poolFor(proxy.url).enabled(room, 'alice', fast);
    proxy.pause();
    await first.close();
    await waitUntil(() => alice.connectionState === 'reconnecting');
    const queued = alice.messaging.broadcastMessage({ type: 'after', message: {} });
    alice.localParticipant.setAttribute('status', 'offline-edit');
    await startRoomServer(port);
    // A raw observer sees exactly what the server relays.
    const raw = await connectRaw(`ws://127.0.0.1:${port}`, room, await mintToken({ secret: TEST_SECRET, room, name: 'observer' }));
    await raw.invoke('enable', {});
    const back = reEnabled(alice);
    proxy.resume();
    await back;
    await queued;
    const enabled = await raw.waitForPush('participant.enabled');
    // The enable came after set_attributes: the server already had alice's whole attribute set.
    expect(enabled.message).toEqual({ id: alice.localParticipant.id, role: 'user', attributes: { name: 'alice', status: 'offline-edit' } });
    const after = await raw.waitForPush('after');
    expect(after.from).toBe(alice.localParticipant.id);
    await raw.close();
  });

  it('closes for good when reconnectTimeout runs out, rejecting queued sends', async () => {
    const { server } = await startRoomServer();
    const room = uniqueRoom();
    const alice = await poolFor(server.url).enabled(room, 'alice', { reconnectTimeout: 300, retryDelay: () => 50 });
    await server.close();
    const pending = alice.messaging.broadcastMessage({ type: 'never', message: {} });
    await alice.waitForClose();
    const error = await pending.catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'RoomClosedError', code: 'ROOM_ERR_CLOSED', end: { kind: 'timeout', reconnectTimeout: 300 } });
    expect((error as Error).message).toMatch(/^room reconnect timed out after 0\.3s/);
  });
});

// Without the resume extension (the behaviour against servers that do not offer it): see resume.test.ts for it.
describe('RoomClient across a network cut (server stays up), resume off', () => {
  it('delivers direct sends queued during the outage to the same participant, in order', async () => {
    const { port } = await startRoomServer();
    const proxy = await proxyTo(port);
    const room = uniqueRoom();
    const alice = await poolFor(proxy.url).enabled(room, 'alice', { ...fast, resume: false });
    const bob = await poolFor(`ws://127.0.0.1:${port}`).enabled(room, 'bob');
    await waitUntil(() => alice.messaging.getParticipantByName('bob') !== null);
    const bobAtAlice = alice.messaging.getParticipantByName('bob')!;
    const atBob = record(bob.messaging.messages$);
    const bobSees = record(bob.messaging.participantRemoved$);
    const oldAliceId = alice.localParticipant.id;

    proxy.pause();
    proxy.drop();
    await waitUntil(() => alice.connectionState === 'reconnecting');
    const sends = [1, 2, 3, 4, 5].map((n) => alice.messaging.sendMessage({ to: bobAtAlice, type: 'queued', message: { n } }));
    alice.localParticipant.setAttribute('status', 'back');
    await bobSees.waitFor((p) => p.id === oldAliceId);

    const back = reEnabled(alice);
    proxy.resume();
    await back;
    await Promise.all(sends);
    await atBob.waitForCount((m) => m.type === 'queued', 5);
    expect(atBob.items.map((m) => m.message)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }, { n: 5 }]);
    expect(atBob.items.every((m) => m.fromParticipantId === alice.localParticipant.id)).toBe(true);
    // Bob never left: same participant object at alice, not reported again.
    expect(alice.messaging.getParticipantByName('bob')).toBe(bobAtAlice);
    await waitUntil(() => bob.messaging.getParticipantByName('alice')?.getAttribute('status') === 'back');
  });

  it('re-sends a message whose answer was lost with the connection (at-least-once)', async () => {
    const { port } = await startRoomServer();
    const proxy = await proxyTo(port);
    const room = uniqueRoom();
    const alice = await poolFor(proxy.url).enabled(room, 'alice', { ...fast, resume: false });
    const bob = await poolFor(`ws://127.0.0.1:${port}`).enabled(room, 'bob');
    await waitUntil(() => alice.messaging.getParticipantByName('bob') !== null);
    const atBob = record(bob.messaging.messages$);

    proxy.holdReplies();
    const sent = alice.messaging.sendMessage({ to: bob.localParticipant.id, type: 'once', message: { n: 1 } });
    await atBob.waitFor((m) => m.type === 'once'); // delivered, but alice never hears the answer
    let settled = false;
    void sent.finally(() => (settled = true));
    proxy.drop();
    await waitUntil(() => alice.connectionState === 'reconnecting');
    expect(settled).toBe(false);
    await sent; // resolved by the answer to the re-sent request on the new connection
    await atBob.waitForCount((m) => m.type === 'once', 2);
    expect(atBob.items.map((m) => m.message)).toEqual([{ n: 1 }, { n: 1 }]);
  });
});
