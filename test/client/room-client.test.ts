import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { firstValueFrom, filter, take, toArray } from 'rxjs';
import type { InspectionEvent } from 'xstate';
import { RoomServerError, RoomStateError } from '../../src/errors.js';
import {
  MessagingDisabledError,
  ParticipantNotFoundError,
  RoomClosedError,
  type RemoteParticipant,
  type RoomMessage,
  type RoomMessageEvent,
} from '../../src/client/node.js';
import * as pkg from '../../src/index.js';
import * as machines from '../../machines/index.js';
import { uniqueRoom, useServer } from '../helpers/server.js';
import { waitUntil } from '../helpers/recorder.js';
import { ClientPool, record } from './helpers/clients.js';

const fx = useServer({}, 'test');
let pool: ClientPool;

beforeEach(() => {
  pool = new ClientPool({ url: fx.url, secret: fx.secret });
});

afterEach(() => pool.close());

const names = (participants: readonly RemoteParticipant[]): string[] => participants.map((p) => String(p.getAttribute('name'))).sort();

describe('RoomClient: connecting', () => {
  it('start() resolves after room_ready and connected; close() ends it', async () => {
    const room = uniqueRoom();
    const alice = await pool.client(room, 'alice');
    const states = record(alice.connectionState$);
    expect(alice.localParticipant.id).toBe('');
    await alice.start();
    expect(alice.isConnected).toBe(true);
    expect(alice.localParticipant.id).not.toBe('');
    expect(alice.localParticipant.getAttribute('name')).toBe('alice');
    expect(alice.roomName).toBe(room);
    expect(typeof alice.sessionId).toBe('string');
    await alice.close();
    expect(states.items).toEqual(['idle', 'connecting', 'connected', 'closed']);
    await waitUntil(() => fx.server.stats().participants === 0, { what: 'the server to see alice leave' });
  });

  it('replays the current connection state to late subscribers', async () => {
    const alice = await pool.client(uniqueRoom(), 'alice');
    await alice.start();
    expect(await firstValueFrom(alice.connectionState$)).toBe('connected');
  });

  it('start() rejects for good on an HTTP 403 at the upgrade, without retrying', async () => {
    const room = uniqueRoom();
    const alice = await pool.client(room, 'alice', { token: await pool.token('another-room', 'alice') });
    const states = record(alice.connectionState$);
    const error = await alice.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RoomClosedError);
    expect((error as RoomClosedError).code).toBe('ROOM_ERR_CLOSED');
    expect((error as RoomClosedError).end).toMatchObject({ kind: 'refused', httpStatus: 403 });
    expect((error as Error).message).toBe('the server refused the websocket upgrade with HTTP 403: token is not for this room before the room became ready.');
    expect(states.items).toEqual(['idle', 'connecting', 'closed']);
  });

  it('ends for good when the server closes with 1000, rejecting later sends', async () => {
    const room = uniqueRoom();
    const alice = await pool.enabled(room, 'alice');
    const states = record(alice.connectionState$);
    await fx.server.close({ code: 1000, reason: 'bye', timeoutMs: 1000 });
    await alice.waitForClose();
    expect(states.items).toEqual(['connected', 'closed']);
    expect(alice.messaging.state).toBe('closed');
    const error = await alice.messaging.broadcastMessage({ type: 'chat', message: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RoomClosedError);
    expect((error as RoomClosedError).end).toMatchObject({ kind: 'server', code: 1000 });
  });

  it('close() while the socket is still connecting rejects start() and closes the socket', async () => {
    const alice = await pool.client(uniqueRoom(), 'alice');
    const started = alice.start().catch((e: unknown) => e);
    expect(alice.connectionState).toBe('connecting');
    await alice.close();
    expect(await started).toMatchObject({ name: 'RoomClosedError', end: { kind: 'user' } });
    await waitUntil(() => fx.server.stats().participants === 0, { what: 'no participant left on the server' });
  });

  it('validates its options, naming the field', () => {
    const base = { url: fx.url, room: 'r', token: 't' };
    expect(() => new pkg.RoomClient({ ...base, url: 'not a url' })).toThrow(expect.objectContaining({ code: 'ROOM_ERR_VALIDATION', field: 'url' }));
    expect(() => new pkg.RoomClient({ ...base, url: 'ftp://x' })).toThrow(expect.objectContaining({ field: 'url' }));
    expect(() => new pkg.RoomClient({ ...base, room: '' })).toThrow(expect.objectContaining({ field: 'room' }));
    expect(() => new pkg.RoomClient({ ...base, token: '' })).toThrow(expect.objectContaining({ field: 'token' }));
    expect(() => new pkg.RoomClient({ ...base, reconnectTimeout: -1 })).toThrow(expect.objectContaining({ field: 'reconnectTimeout' }));
    expect(() => new pkg.RoomClient({ ...base, enableTimeout: 0 })).toThrow(expect.objectContaining({ field: 'enableTimeout' }));
    expect(pkg.roomUrl('https://h:1/base/', 'my room', 'a.b.c')).toBe('wss://h:1/base/rooms/my%20room?token=a.b.c');
  });

  it('start() after close() rejects with RoomClosedError', async () => {
    const alice = await pool.client(uniqueRoom(), 'alice');
    await alice.close();
    await expect(alice.start()).rejects.toMatchObject({ name: 'RoomClosedError', end: { kind: 'user' } });
  });
});

describe('RoomClient: messaging', () => {
  it('enable() called before start() takes effect on connect, with the presence snapshot loaded', async () => {
    const room = uniqueRoom();
    await pool.enabled(room, 'bob');
    const alice = await pool.client(room, 'alice');
    const states = record(alice.messaging.state$);
    const enabled = alice.messaging.enable();
    expect(alice.messaging.state).toBe('enabling');
    await alice.start();
    await enabled;
    expect(alice.messaging.state).toBe('enabled');
    expect(alice.messaging.getParticipantByName('bob')).not.toBeNull();
    expect(names(alice.messaging.getParticipants())).toEqual(['bob']);
    expect(states.items).toEqual(['disabled', 'enabling', 'enabled']);
  });

  it('sends and receives direct messages with attachments; presence control types never reach messages$', async () => {
    const room = uniqueRoom();
    const alice = await pool.enabled(room, 'alice');
    const received = record(alice.messaging.messages$);
    const bob = await pool.enabled(room, 'bob');
    const carol = await pool.enabled(room, 'carol');
    await waitUntil(() => alice.messaging.getParticipants().length === 2, { what: 'alice to see bob and carol' });
    bob.localParticipant.setAttribute('status', 'busy');
    await carol.messaging.disable();
    await waitUntil(() => alice.messaging.getParticipants().length === 1, { what: 'alice to see carol leave' });

    const target = bob.messaging.getParticipantByName('alice')!;
    await bob.messaging.sendMessage({ to: target, type: 'chat', message: { text: 'hi' }, attachment: new Uint8Array([1, 2, 3]) });
    // `to` may also be a participant id, or a participant object of any client.
    await bob.messaging.sendMessage({ to: alice.localParticipant.id, type: 'chat', message: { text: 'by id' } });
    await bob.messaging.sendMessage({ to: alice.localParticipant, type: 'chat', message: { text: 'local object' } });
    await received.waitForCount(() => true, 3);
    const bobId = bob.localParticipant.id;
    expect(received.items).toEqual<RoomMessage[]>([
      { fromParticipantId: bobId, type: 'chat', message: { text: 'hi' }, attachment: new Uint8Array([1, 2, 3]), broadcast: false },
      { fromParticipantId: bobId, type: 'chat', message: { text: 'by id' }, broadcast: false },
      { fromParticipantId: bobId, type: 'chat', message: { text: 'local object' }, broadcast: false },
    ]);
  });

  it('broadcasts to every other enabled participant, not the sender', async () => {
    const room = uniqueRoom();
    const alice = await pool.enabled(room, 'alice');
    const bob = await pool.enabled(room, 'bob');
    const carol = await pool.enabled(room, 'carol');
    const [atAlice, atBob, atCarol] = [alice, bob, carol].map((c) => record(c.messaging.messages$));
    await alice.messaging.broadcastMessage({ type: 'announcement', message: { title: 'hello' } });
    await atBob!.waitFor((m) => m.type === 'announcement');
    await atCarol!.waitFor((m) => m.type === 'announcement');
    // A direct message after the broadcast, so "alice got nothing" is checked after delivery.
    await bob.messaging.sendMessage({ to: alice.localParticipant.id, type: 'marker', message: {} });
    await atAlice!.waitFor((m) => m.type === 'marker');
    expect(atAlice!.items.map((m) => m.type)).toEqual(['marker']);
    // roomstate's broadcast flag: a broadcast says so, a direct message too.
    expect(atBob!.items).toEqual([{ fromParticipantId: alice.localParticipant.id, type: 'announcement', message: { title: 'hello' }, broadcast: true }]);
    expect(atAlice!.items[0]!.broadcast).toBe(false);
  });

  it('rejects a send to an unknown participant with ParticipantNotFoundError', async () => {
    const room = uniqueRoom();
    const alice = await pool.enabled(room, 'alice');
    const error = await alice.messaging.sendMessage({ to: 'no-such-id', type: 'chat', message: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParticipantNotFoundError);
    expect(error).toBeInstanceOf(RoomStateError);
    expect((error as ParticipantNotFoundError).code).toBe('ROOM_ERR_PARTICIPANT_NOT_FOUND');
    expect((error as Error).message).toBe('the participant was not found');
    expect((error as ParticipantNotFoundError).participantId).toBe('no-such-id');
  });

  it('rejects a send to a participant that left, and resolves it with ignoreOffline', async () => {
    const room = uniqueRoom();
    const alice = await pool.enabled(room, 'alice');
    const bob = await pool.enabled(room, 'bob');
    await waitUntil(() => alice.messaging.getParticipantByName('bob') !== null);
    const gone = alice.messaging.getParticipantByName('bob')!;
    const removed = record(alice.messaging.participantRemoved$);
    await bob.close();
    await removed.waitFor((p) => p === gone);
    expect(gone.online).toBe(false);
    await expect(alice.messaging.sendMessage({ to: gone, type: 'chat', message: {} })).rejects.toThrow(new ParticipantNotFoundError(gone.id));
    await expect(alice.messaging.sendMessage({ to: gone, type: 'chat', message: {}, ignoreOffline: true })).resolves.toBeUndefined();
  });

  it('validates what it sends', async () => {
    const alice = await pool.enabled(uniqueRoom(), 'alice');
    await expect(alice.messaging.sendMessage({ to: 'x', type: '', message: {} })).rejects.toMatchObject({ code: 'ROOM_ERR_VALIDATION', field: 'type' });
    await expect(alice.messaging.sendMessage({ to: '', type: 't', message: {} })).rejects.toMatchObject({ code: 'ROOM_ERR_VALIDATION', field: 'to' });
    await expect(alice.messaging.broadcastMessage({ type: 't', message: { n: 1n } })).rejects.toMatchObject({ code: 'ROOM_ERR_VALIDATION', field: 'message' });
  });

  it('rejects enable() with the server error when the token has no messaging grant', async () => {
    const alice = await pool.client(uniqueRoom(), 'alice', { tokenOptions: { messaging: false } });
    await alice.start();
    const error = await alice.messaging.enable().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RoomServerError);
    expect((error as RoomServerError).protocolCode).toBe(1001);
    expect(alice.messaging.state).toBe('disabled');
  });

  it('disable() clears presence and tells the others', async () => {
    const room = uniqueRoom();
    const alice = await pool.enabled(room, 'alice');
    const bob = await pool.enabled(room, 'bob');
    await waitUntil(() => bob.messaging.getParticipants().length === 1 && alice.messaging.getParticipants().length === 1);
    const atBob = record(bob.messaging.participantRemoved$);
    await alice.messaging.disable();
    expect(alice.messaging.state).toBe('disabled');
    expect(alice.messaging.getParticipants()).toEqual([]);
    const removed = await atBob.waitFor(() => true);
    expect(removed.id).toBe(alice.localParticipant.id);
  });
});

describe('RoomClient: presence and attributes', () => {
  it('participants$ replays the current list; added, removed and attribute updates are observable', async () => {
    const room = uniqueRoom();
    const alice = await pool.enabled(room, 'alice');
    const added = record(alice.messaging.participantAdded$);
    const removed = record(alice.messaging.participantRemoved$);
    const updated = record(alice.messaging.participantAttributesUpdated$);
    const bob = await pool.enabled(room, 'bob');
    const seenBob = await added.waitFor(() => true);
    expect(seenBob.getAttribute('name')).toBe('bob');
    expect(seenBob.id).toBe(bob.localParticipant.id);
    expect(seenBob.role).toBe('user');

    const attributes = record(seenBob.attributes$);
    bob.localParticipant.setAttribute('status', 'busy');
    const update = await updated.waitFor(() => true);
    expect(update.participant).toBe(seenBob);
    expect(update.changed).toEqual({ status: 'busy' });
    expect(update.attributes).toEqual({ name: 'bob', status: 'busy' });
    await attributes.waitFor((a) => a.status === 'busy');
    expect(attributes.items).toEqual([{ name: 'bob' }, { name: 'bob', status: 'busy' }]);

    // A late subscriber gets the current list at once.
    const list = await firstValueFrom(alice.messaging.participants$);
    expect(list).toEqual([seenBob]);

    await bob.messaging.disable();
    expect(await removed.waitFor(() => true)).toBe(seenBob);
    expect(seenBob.online).toBe(false);
    expect(await firstValueFrom(alice.messaging.participants$)).toEqual([]);
    expect(added.items).toHaveLength(1);
  });

  it('sends attributes set before start() once connected', async () => {
    const room = uniqueRoom();
    const bob = await pool.enabled(room, 'bob');
    const alice = await pool.client(room, 'alice');
    alice.localParticipant.setAttribute('status', 'early');
    await alice.start();
    await alice.messaging.enable();
    expect(alice.localParticipant.attributes).toEqual({ name: 'alice', status: 'early' });
    await waitUntil(() => bob.messaging.getParticipantByName('alice')?.getAttribute('status') === 'early', { what: 'bob to see status early' });
  });

  it('on() fires the official events, event by event, and returns an unsubscribe function', async () => {
    const room = uniqueRoom();
    await pool.enabled(room, 'carol');
    const alice = await pool.client(room, 'alice');
    const events: RoomMessageEvent[] = [];
    const seen = (name: string) => (event: RoomMessageEvent) => events.push({ ...event, name: `${name}:${event.name}` });
    const offs = [
      alice.messaging.on('messaging_enabled', seen('messaging_enabled')),
      alice.messaging.on('participant_added', seen('participant_added')),
      alice.messaging.on('participant_attributes_updated', seen('participant_attributes_updated')),
      alice.messaging.on('participant_removed', seen('participant_removed')),
    ];
    const onMessage = seen('message');
    alice.messaging.on('message', onMessage);
    await alice.start();
    await alice.messaging.enable();
    const bob = await pool.enabled(room, 'bob');
    bob.localParticipant.setAttribute('status', 'busy');
    await waitUntil(() => events.some((e) => e.name.startsWith('participant_attributes_updated')));
    await bob.messaging.sendMessage({ to: alice.localParticipant.id, type: 'chat', message: { text: 'hi' } });
    await waitUntil(() => events.some((e) => e.name === 'message:chat'));
    await bob.messaging.disable();
    await waitUntil(() => events.some((e) => e.name.startsWith('participant_removed')));
    for (const off of offs) off();
    alice.messaging.off('message', onMessage);
    await bob.messaging.enable();
    await bob.messaging.sendMessage({ to: alice.localParticipant.id, type: 'chat', message: { text: 'unheard' } });
    // carol, already in the room, is in the snapshot: messaging_enabled only, no participant_added.
    expect(events.map((e) => e.name)).toEqual([
      'messaging_enabled:messaging.enabled',
      'message:messaging.enabled',
      'participant_added:participant.enabled',
      'message:participant.enabled',
      'participant_attributes_updated:participant.attributes',
      'message:participant.attributes',
      'message:chat',
      'participant_removed:participant.disabled',
      'message:participant.disabled',
    ]);
    const bobId = bob.localParticipant.id;
    expect(events[2]!.message).toEqual({ fromParticipantId: bobId, type: 'participant.enabled', message: { id: bobId, role: 'user', attributes: { name: 'bob' } }, local: false });
    // The participant events hand on the control messages as decoded (the bodies `message` listeners get), not rebuilt ones.
    expect(events[2]!.message.message).toBe(events[3]!.message.message);
    expect(events[4]!.message.message).toBe(events[5]!.message.message);
    expect(events[4]!.message.message).toEqual({ attributes: { status: 'busy' } });
    expect(events[6]!.message).toEqual({ fromParticipantId: bobId, type: 'chat', message: { text: 'hi' }, broadcast: false, local: false });
  });
});

describe('RoomClient: lifecycle guarantees', () => {
  it('queues sends made while enabling and sends them in order once enabled', async () => {
    const room = uniqueRoom();
    const bob = await pool.enabled(room, 'bob');
    const received = record(bob.messaging.messages$);
    const alice = await pool.client(room, 'alice');
    await alice.start();
    const enabled = alice.messaging.enable();
    expect(alice.messaging.state).toBe('enabling');
    const sends = Array.from({ length: 20 }, (_, i) =>
      i % 2 === 0
        ? alice.messaging.sendMessage({ to: bob.localParticipant.id, type: 'seq', message: { i } })
        : alice.messaging.broadcastMessage({ type: 'seq', message: { i } }),
    );
    await enabled;
    await Promise.all(sends);
    await received.waitForCount(() => true, 20);
    expect(received.items.map((m) => (m.message as { i: number }).i)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('queues sends made before start() and sends them once connected', async () => {
    const room = uniqueRoom();
    const bob = await pool.enabled(room, 'bob');
    const received = record(bob.messaging.messages$);
    const alice = await pool.client(room, 'alice');
    const sent = alice.messaging.sendMessage({ to: bob.localParticipant.id, type: 'early', message: {} });
    await alice.start();
    await sent;
    await received.waitFor((m) => m.type === 'early');
  });

  it('rejects each pending send with MessagingDisabledError when the user disables (ignoreOffline resolves)', async () => {
    const room = uniqueRoom();
    const alice = await pool.client(room, 'alice');
    void alice.messaging.enable().catch(() => undefined);
    const pending = [
      alice.messaging.sendMessage({ to: 'someone', type: 'chat', message: { n: 1 } }),
      alice.messaging.broadcastMessage({ type: 'chat', message: { n: 2 } }),
      alice.messaging.sendMessage({ to: 'someone', type: 'chat', message: { n: 3 }, ignoreOffline: true }),
    ];
    const settled = Promise.allSettled(pending);
    await alice.messaging.disable();
    const results = await settled;
    expect(results[0]).toMatchObject({ status: 'rejected', reason: { name: 'MessagingDisabledError', code: 'ROOM_ERR_MESSAGING_DISABLED' } });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: expect.any(MessagingDisabledError) });
    expect(results[2]).toEqual({ status: 'fulfilled', value: undefined });
  });

  it('rejects each pending send and a pending enable() with RoomClosedError when the room closes', async () => {
    const room = uniqueRoom();
    const alice = await pool.client(room, 'alice');
    const enabling = alice.messaging.enable();
    const pending = [
      alice.messaging.sendMessage({ to: 'someone', type: 'chat', message: {} }),
      alice.messaging.broadcastMessage({ type: 'chat', message: {} }),
    ];
    const settled = Promise.allSettled([enabling, ...pending]);
    await alice.close();
    const results = await settled;
    for (const result of results) {
      expect(result).toMatchObject({ status: 'rejected', reason: { name: 'RoomClosedError', code: 'ROOM_ERR_CLOSED', end: { kind: 'user' } } });
    }
    expect(results[0]).toMatchObject({ reason: { message: 'the room client was closed before messaging was enabled.' } });
    expect(results[1]).toMatchObject({ reason: { message: 'the room client was closed before the message was sent.' } });
  });
});

describe('RoomClient: inspection and exports', () => {
  it('passes the inspect option to every actor it creates; presence is visible in the messaging snapshots', async () => {
    const room = uniqueRoom();
    await pool.enabled(room, 'bob');
    const actors = new Set<string>();
    const microsteps: string[] = [];
    const present = new Set<string>();
    const inspect = (event: InspectionEvent): void => {
      if (event.type === '@xstate.actor') actors.add(String((event.actorRef as { logic?: { id?: string } }).logic?.id));
      if (event.type === '@xstate.microstep') microsteps.push(event.event.type);
      if (event.type === '@xstate.snapshot') {
        const roster = (event.snapshot as { context?: { participants?: unknown } }).context?.participants;
        if (roster instanceof machines.PresenceRoster) for (const entry of roster.list()) present.add(String(entry.attributes.name));
      }
    };
    const alice = await pool.client(room, 'alice', { inspect });
    await alice.start();
    await alice.messaging.enable();
    // The connection, messaging, and one presence actor per remote participant.
    expect([...actors].sort()).toEqual(['connection', 'messaging', 'presence']);
    expect([...present]).toEqual(['bob']);
    expect(microsteps).toContain('room.joined');
    expect(microsteps).toContain('messaging.enabled');
  });

  it('runs one presence actor per remote participant: online with attributes, updates, final offline', async () => {
    const room = uniqueRoom();
    const bob = await pool.enabled(room, 'bob');
    const alice = await pool.client(room, 'alice');
    await alice.start();
    await alice.messaging.enable();
    const remote = alice.messaging.getParticipantByName('bob')!;
    const actor = remote.presence!;
    expect(actor.getSnapshot().value).toBe('online');
    expect(actor.getSnapshot().context).toMatchObject({ id: remote.id, attributes: { name: 'bob' } });
    const updated = firstValueFrom(alice.messaging.participantAttributesUpdated$);
    bob.localParticipant.setAttribute('status', 'busy');
    await updated;
    expect(actor.getSnapshot().context.attributes).toEqual({ name: 'bob', status: 'busy' });
    const removed = firstValueFrom(alice.messaging.participantRemoved$);
    await bob.close();
    await removed;
    expect(actor.getSnapshot().status).toBe('done');
    expect(actor.getSnapshot().value).toBe('offline');
    expect(remote.presence).toBeUndefined();
  });

  it('exports the machines and the Node client from the package entry', () => {
    expect(pkg.connectionMachine).toBe(machines.connectionMachine);
    expect(pkg.messagingMachine).toBe(machines.messagingMachine);
    expect(pkg.presenceMachine).toBe(machines.presenceMachine);
    expect(pkg.RoomClient).toBeTypeOf('function');
    expect(new pkg.RoomClient({ url: fx.url, room: 'r', token: 't' })).toBeInstanceOf(pkg.RoomClient);
  });

  it('reads participants$ before and after enabling without missing the snapshot', async () => {
    const room = uniqueRoom();
    await pool.enabled(room, 'bob');
    await pool.enabled(room, 'carol');
    const alice = await pool.client(room, 'alice');
    const lists = alice.messaging.participants$.pipe(filter((l) => l.length === 2), take(1), toArray());
    const waiting = firstValueFrom(lists);
    await alice.start();
    await alice.messaging.enable();
    expect(names((await waiting)[0]!)).toEqual(['bob', 'carol']);
    expect(names(await firstValueFrom(alice.messaging.participants$))).toEqual(['bob', 'carol']);
  });
});
