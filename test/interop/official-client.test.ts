/**
 * Interop: the official MeshAgent npm client 0.39.9 against roomstate's
 * server, both in-process and as `roomstate serve` from the CLI. Tokens are
 * minted with the client's own ParticipantToken.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  OfficialPeer,
  clearMeshagentEnv,
  installProcessGuard,
  meshagent,
  mintOfficialToken,
  roomUrl,
  type ProcessGuard,
} from '../helpers/official-client.js';
import { waitUntil } from '../helpers/recorder.js';
import { useServers } from '../helpers/server.js';
import { SERVER_KINDS, type ServerUnderTest } from './server-kinds.js';

const SECRET = 'interop-secret-0123456789abcdef';
const NOT_FOUND = 'the participant was not found';

/** Deterministic bytes that differ at every offset modulo 251. */
function patternBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) % 251;
  return out;
}

describe.each(SERVER_KINDS)('official client 0.39.9 against $kind', (kind) => {
  let server: ServerUnderTest;
  let guard: ProcessGuard;
  const peers: OfficialPeer[] = [];

  beforeAll(async () => {
    clearMeshagentEnv();
    guard = installProcessGuard();
    server = await kind.start(SECRET);
  });

  afterEach(async () => {
    await Promise.all(peers.splice(0).map((peer) => peer.leave()));
    // Against a correct server the client's crash paths are never taken.
    expect(guard.errors).toEqual([]);
  });

  afterAll(async () => {
    await server?.close();
    guard?.dispose();
  });

  async function join(room: string, name: string, role?: string): Promise<OfficialPeer> {
    const peer = await OfficialPeer.connect({ baseUrl: server.url, room, name, secret: SECRET, role });
    peers.push(peer);
    return peer;
  }

  async function joinEnabled(room: string, names: readonly string[]): Promise<OfficialPeer[]> {
    const joined = await Promise.all(names.map((name) => join(room, name)));
    await Promise.all(joined.map((peer) => peer.enable()));
    return joined;
  }

  it('starts with room_ready and connected: room name, session id, participant id and name attribute', async () => {
    const room = `interop-${randomUUID()}`;
    const alice = await join(room, 'alice');
    expect(alice.client.roomName).toBe(room);
    expect(alice.client.sessionId).toEqual(expect.any(String));
    expect(alice.client.roomUrl).toEqual(expect.any(String));
    expect(alice.id).toEqual(expect.any(String));
    expect(alice.id.length).toBeGreaterThan(0);
    expect(alice.client.localParticipant?.getAttribute('name')).toBe('alice');
  });

  it('enables on connect when enable() was called before start()', async () => {
    const room = `interop-${randomUUID()}`;
    const [bob] = await joinEnabled(room, ['bob']);
    const token = await mintOfficialToken({ secret: SECRET, room, name: 'early' });
    const client = new meshagent.RoomClient({
      protocolFactory: meshagent.WebSocketClientProtocol.createFactory({ url: roomUrl(server.url, room), token }),
      reconnectTimeout: 0,
    });
    const early = OfficialPeer.wrap(client, 'early');
    peers.push(early);
    client.messaging.enable();
    await client.start();
    await early.presence.waitFor((e) => e.kind === 'messaging_enabled');
    expect((await early.participantByName('bob')).id).toBe(bob.id);
    expect((await bob.participantByName('early')).id).toBe(early.id);
  });

  it('three clients enable and see each other by name, with role and attributes', async () => {
    const room = `interop-${randomUUID()}`;
    const alice = await join(room, 'alice');
    const bob = await join(room, 'bob', 'agent');
    const carol = await join(room, 'carol', 'tool');
    await alice.enable();
    await bob.enable();
    await carol.enable();
    for (const [peer, others] of [
      [alice, ['bob', 'carol']],
      [bob, ['alice', 'carol']],
      [carol, ['alice', 'bob']],
    ] as const) {
      for (const other of others) await peer.participantByName(other);
      expect(peer.presentNames()).toEqual([...others]);
    }
    const bobSeenByAlice = await alice.participantByName('bob');
    expect(bobSeenByAlice.id).toBe(bob.id);
    expect(bobSeenByAlice.role).toBe('agent');
    expect(bobSeenByAlice.online).toBe(true);
    expect((await alice.participantByName('carol')).role).toBe('tool');
    expect((await bob.participantByName('alice')).role).toBe('user');
    // alice enabled first: she learnt of bob and carol through participant.enabled pushes.
    expect(alice.presence.filter((e) => e.kind === 'participant_added').map((e) => e.message.fromParticipantId).sort()).toEqual([bob.id, carol.id].sort());
    // carol enabled last: her messaging.enabled snapshot listed both others, and never herself.
    const snapshot = carol.pushes.find((m) => m.type === 'messaging.enabled');
    const listed = (snapshot?.message as { participants: { id: string }[] }).participants.map((p) => p.id).sort();
    expect(listed).toEqual([alice.id, bob.id].sort());
  });

  it('exchanges direct messages with JSON bodies and multi-packet attachments both ways', async () => {
    const room = `interop-${randomUUID()}`;
    const [alice, bob] = await joinEnabled(room, ['alice', 'bob']);
    const bobRemote = await alice.participantByName('bob');
    const body = { text: 'héllo ✓ 🚀', nested: { list: [1, 2.5, null, true, 'x'], empty: {} }, big: 'y'.repeat(3000) };
    const attachment = patternBytes(6007, 3);
    await alice.client.messaging.sendMessage({ to: bobRemote, type: 'chat', message: body, attachment });
    const received = await bob.messages.waitFor((m) => m.type === 'chat', { what: 'bob to receive the chat' });
    expect(received.fromParticipantId).toBe(alice.id);
    expect(received.message).toEqual(body);
    expect(received.attachment).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(received.attachment as Uint8Array).equals(Buffer.from(attachment))).toBe(true);

    // The other way round, once without an attachment and once with a large one.
    const aliceRemote = await bob.participantByName('alice');
    await bob.client.messaging.sendMessage({ to: aliceRemote, type: 'reply', message: { ok: true } });
    const large = patternBytes(200_003, 7);
    await bob.client.messaging.sendMessage({ to: aliceRemote, type: 'file', message: { name: 'blob.bin' }, attachment: large });
    const reply = await alice.messages.waitFor((m) => m.type === 'reply', { what: 'alice to receive the reply' });
    expect(reply.fromParticipantId).toBe(bob.id);
    expect(reply.message).toEqual({ ok: true });
    expect(reply.attachment).toBeUndefined();
    const file = await alice.messages.waitFor((m) => m.type === 'file', { what: 'alice to receive the file' });
    expect(Buffer.from(file.attachment as Uint8Array).equals(Buffer.from(large))).toBe(true);
    // Delivered exactly once, in order.
    expect(alice.messages.items.map((m) => m.type)).toEqual(['reply', 'file']);
    expect(bob.messages.items.map((m) => m.type)).toEqual(['chat']);
  });

  it('replays the upstream e2e test: send to the other client\'s LocalParticipant', async () => {
    const room = randomUUID();
    const [client1, client2] = await joinEnabled(room, ['client1', 'client2']);
    const target = client2.client.localParticipant;
    if (!target) throw new Error('client2 has no local participant');
    await client1.client.messaging.sendMessage({ to: target, type: 'test', message: { test: 'test2' }, attachment: new TextEncoder().encode('bytes') });
    const received = await client2.messages.waitFor((m) => m.type === 'test');
    expect(received.message).toEqual({ test: 'test2' });
    expect(new TextDecoder().decode(received.attachment)).toBe('bytes');
    expect(received.fromParticipantId).toBe(client1.id);
  });

  it('keeps the order of many queued sends', async () => {
    const room = `interop-${randomUUID()}`;
    const [alice, bob] = await joinEnabled(room, ['alice', 'bob']);
    const bobRemote = await alice.participantByName('bob');
    const count = 60;
    await Promise.all(
      Array.from({ length: count }, (_, seq) => alice.client.messaging.sendMessage({ to: bobRemote, type: 'seq', message: { seq } })),
    );
    const got = await bob.messages.waitForCount((m) => m.type === 'seq', count, { what: `${count} sequenced messages` });
    expect(got.map((m) => (m.message as { seq: number }).seq)).toEqual(Array.from({ length: count }, (_, i) => i));
  });

  it('broadcasts to every other enabled participant, not to the sender', async () => {
    const room = `interop-${randomUUID()}`;
    const [alice, bob, carol] = await joinEnabled(room, ['alice', 'bob', 'carol']);
    await alice.participantByName('bob');
    await alice.participantByName('carol');
    const attachment = patternBytes(5000, 11);
    await alice.client.messaging.broadcastMessage({ type: 'announce', message: { hello: 'everyone' }, attachment });
    for (const peer of [bob, carol]) {
      const got = await peer.messages.waitFor((m) => m.type === 'announce', { what: `${peer.name} to receive the broadcast` });
      expect(got.fromParticipantId).toBe(alice.id);
      expect(got.message).toEqual({ hello: 'everyone' });
      expect(Buffer.from(got.attachment as Uint8Array).equals(Buffer.from(attachment))).toBe(true);
    }
    // Barrier: bob sends only after receiving the broadcast, and one socket
    // delivers in order, so a broadcast echoed to alice would arrive first.
    await bob.client.messaging.sendMessage({ to: await bob.participantByName('alice'), type: 'barrier', message: {} });
    await alice.messages.waitFor((m) => m.type === 'barrier');
    expect(alice.messages.items.map((m) => m.type)).toEqual(['barrier']);
    expect(bob.messages.filter((m) => m.type === 'announce')).toHaveLength(1);
  });

  it('propagates attribute updates as participant_attributes_updated', async () => {
    const room = `interop-${randomUUID()}`;
    const [alice, bob] = await joinEnabled(room, ['alice', 'bob']);
    const aliceSeenByBob = await bob.participantByName('alice');
    alice.client.localParticipant?.setAttribute('status', 'busy');
    alice.client.localParticipant?.setAttribute('profile', { color: 'teal', tags: ['a', 'b'] });
    // Changes made within one tick are coalesced into one push per recipient (docs/server.md), so
    // bob sees one or two pushes, from alice, that together carry both changes.
    await waitUntil(() => aliceSeenByBob.getAttribute('profile') !== undefined, { what: "alice's profile at bob" });
    const update = bob.presence.filter((e) => e.kind === 'participant_attributes_updated');
    expect(update.length).toBeGreaterThanOrEqual(1);
    expect(update.length).toBeLessThanOrEqual(2);
    expect(new Set(update.map((e) => e.message.fromParticipantId))).toEqual(new Set([alice.id]));
    const carried = Object.assign({}, ...update.map((e) => (e.message.message as { attributes: Record<string, unknown> }).attributes));
    expect(carried).toMatchObject({ status: 'busy', profile: { color: 'teal', tags: ['a', 'b'] } });
    expect(aliceSeenByBob.getAttribute('status')).toBe('busy');
    expect(aliceSeenByBob.getAttribute('profile')).toEqual({ color: 'teal', tags: ['a', 'b'] });
    expect(aliceSeenByBob.getAttribute('name')).toBe('alice');
    // A participant who enables later gets the current attributes in the snapshot.
    const dave = await join(room, 'dave');
    await dave.enable();
    const aliceSeenByDave = await dave.participantByName('alice');
    expect(aliceSeenByDave.getAttribute('status')).toBe('busy');
    expect(aliceSeenByDave.getAttribute('profile')).toEqual({ color: 'teal', tags: ['a', 'b'] });
    // The updater sees no echo of its own update (dave's arrival is the barrier).
    await alice.participantByName('dave');
    expect(alice.presence.filter((e) => e.kind === 'participant_attributes_updated')).toEqual([]);
  });

  it('announces a participant who leaves; sends to it then fail with "the participant was not found"', async () => {
    const room = `interop-${randomUUID()}`;
    const [alice, bob, carol] = await joinEnabled(room, ['alice', 'bob', 'carol']);
    await alice.participantByName('carol');
    await bob.participantByName('carol');
    const carolId = carol.id;
    await carol.leave();
    for (const peer of [alice, bob]) {
      const removed = await peer.presence.waitFor((e) => e.kind === 'participant_removed', { what: `${peer.name} to see carol leave` });
      expect((removed.message.message as { id: string }).id).toBe(carolId);
      await peer.participantGone('carol');
    }
    expect(alice.presentNames()).toEqual(['bob']);
    // The server answers a send to the departed id (not a RemoteParticipant, so the client asks the server).
    const ghost = new meshagent.LocalParticipant(alice.client, carolId);
    const failure = alice.client.messaging.sendMessage({ to: ghost, type: 'chat', message: { text: 'anyone?' } });
    await expect(failure).rejects.toMatchObject({ message: NOT_FOUND, code: 1003 });
    // The sender keeps working afterwards.
    await alice.client.messaging.sendMessage({ to: await alice.participantByName('bob'), type: 'still-here', message: {} });
    await bob.messages.waitFor((m) => m.type === 'still-here');
  });

  it('answers "the participant was not found" (code 1003) for an unknown target', async () => {
    const room = `interop-${randomUUID()}`;
    const [alice] = await joinEnabled(room, ['alice']);
    const unknown = new meshagent.LocalParticipant(alice.client, `no-such-${randomUUID()}`);
    await expect(alice.client.messaging.sendMessage({ to: unknown, type: 'chat', message: {} })).rejects.toMatchObject({
      name: 'RoomServerException',
      message: NOT_FOUND,
      code: 1003,
    });
  });

  it('treats a participant who disabled messaging as gone until it enables again', async () => {
    const room = `interop-${randomUUID()}`;
    const [alice, bob] = await joinEnabled(room, ['alice', 'bob']);
    await alice.participantByName('bob');
    const bobId = bob.id;
    bob.client.messaging.disable();
    const removed = await alice.presence.waitFor((e) => e.kind === 'participant_removed', { what: 'alice to see bob disable' });
    expect((removed.message.message as { id: string }).id).toBe(bobId);
    const toBob = new meshagent.LocalParticipant(alice.client, bobId);
    await expect(alice.client.messaging.sendMessage({ to: toBob, type: 'chat', message: {} })).rejects.toMatchObject({ message: NOT_FOUND, code: 1003 });
    // A broadcast no longer reaches bob; a direct message after re-enabling does.
    await alice.client.messaging.broadcastMessage({ type: 'while-disabled', message: {} });
    await bob.enable();
    const again = await alice.participantByName('bob');
    expect(again.id).toBe(bobId);
    await alice.client.messaging.sendMessage({ to: again, type: 'welcome-back', message: {} });
    await bob.messages.waitFor((m) => m.type === 'welcome-back');
    expect(bob.messages.items.map((m) => m.type)).toEqual(['welcome-back']);
  });

  it('honours the api.messaging grant written by ParticipantToken', async () => {
    const room = `interop-${randomUUID()}`;
    const [bob] = await joinEnabled(room, ['bob']);
    const muted = await OfficialPeer.connect({
      baseUrl: server.url,
      room,
      name: 'muted',
      secret: SECRET,
      messaging: new meshagent.MessagingGrant({ send: false, broadcast: false }),
    });
    peers.push(muted);
    await muted.enable();
    const toBob = new meshagent.LocalParticipant(muted.client, bob.id);
    await expect(muted.client.messaging.sendMessage({ to: toBob, type: 'x', message: {} })).rejects.toMatchObject({ code: 1001 });
    await expect(muted.client.messaging.broadcastMessage({ type: 'x', message: {} })).rejects.toMatchObject({ code: 1001 });
    // Presence still works both ways (list is allowed).
    expect((await muted.participantByName('bob')).id).toBe(bob.id);
    await bob.participantByName('muted');
    // No api grant at all: messaging is denied outright.
    const noApi = await OfficialPeer.connect({ baseUrl: server.url, room, name: 'no-api', secret: SECRET, messaging: null });
    peers.push(noApi);
    await expect(noApi.client.messaging.broadcastMessage({ type: 'x', message: {} })).rejects.toMatchObject({ code: 1001 });
    expect(bob.messages.items).toEqual([]);
  });

  it('lets a client that never enabled send and broadcast to enabled participants', async () => {
    const room = `interop-${randomUUID()}`;
    const [bob] = await joinEnabled(room, ['bob']);
    const quiet = await join(room, 'quiet');
    // quiet has no presence (never enabled), so it addresses bob by id.
    await quiet.client.messaging.sendMessage({ to: new meshagent.LocalParticipant(quiet.client, bob.id), type: 'direct', message: { n: 1 } });
    await quiet.client.messaging.broadcastMessage({ type: 'shout', message: { n: 2 } });
    const direct = await bob.messages.waitFor((m) => m.type === 'direct');
    const shout = await bob.messages.waitFor((m) => m.type === 'shout');
    expect(direct.fromParticipantId).toBe(quiet.id);
    expect(shout.fromParticipantId).toBe(quiet.id);
    // Not enabled means not present.
    expect(bob.presentNames()).toEqual([]);
  });
});

describe('official client 0.39.9 across a server restart', () => {
  const servers = useServers();

  it('reconnects, re-sends its attributes and enable, and is seen again under a new id', async () => {
    clearMeshagentEnv();
    const guard = installProcessGuard();
    servers.defer(() => guard.dispose());
    const first = await servers.start({ secret: SECRET });
    const { port, url } = first;
    const room = `restart-${randomUUID()}`;
    const alice = await OfficialPeer.connect({ baseUrl: url, room, name: 'alice', secret: SECRET, reconnectTimeout: 60_000 });
    const bob = await OfficialPeer.connect({ baseUrl: url, room, name: 'bob', secret: SECRET, reconnectTimeout: 60_000 });
    servers.defer(() => Promise.all([alice.leave(), bob.leave()]));
    await alice.enable();
    await bob.enable();
    alice.client.localParticipant?.setAttribute('status', 'before-restart');
    await bob.presence.waitFor((e) => e.kind === 'participant_attributes_updated');
    const oldAliceId = alice.id;

    const statuses: string[] = [];
    alice.client.on('reconnected', () => statuses.push('reconnected'));
    await first.close();
    // Same port, fresh state: the clients' backoff brings them back.
    await servers.start({ secret: SECRET, port });
    await waitUntilReconnected(alice, oldAliceId);
    const seen = await bob.participantByName('alice', { timeoutMs: 60_000 });
    expect(seen.id).toBe(alice.id);
    expect(seen.id).not.toBe(oldAliceId);
    // The whole merged attribute set was re-sent after the reconnect.
    await waitForAttribute(bob, 'alice', 'status', 'before-restart');
    expect(statuses).toEqual(['reconnected']);
    await alice.client.messaging.sendMessage({ to: await alice.participantByName('bob', { timeoutMs: 60_000 }), type: 'after-restart', message: {} });
    await bob.messages.waitFor((m) => m.type === 'after-restart');
    await Promise.all([alice.leave(), bob.leave()]);
    expect(guard.errors).toEqual([]);
  }, 180_000);
});

/** Waits until the official client is connected again, under a new id, with messaging back online. */
function waitUntilReconnected(peer: OfficialPeer, oldId: string): Promise<void> {
  return waitUntil(() => peer.client.isConnected && peer.client.localParticipant?.id !== oldId && peer.client.messaging.online, {
    what: `${peer.name} to reconnect`,
    timeoutMs: 60_000,
  });
}

/** Waits until `peer` sees participant `name` with attribute `key` equal to `value`. */
function waitForAttribute(peer: OfficialPeer, name: string, key: string, value: unknown): Promise<void> {
  return waitUntil(() => peer.client.messaging.getParticipantByName(name)?.getAttribute(key) === value, {
    what: `${peer.name} to see ${name}.${key} = ${JSON.stringify(value)}`,
    timeoutMs: 60_000,
  });
}
