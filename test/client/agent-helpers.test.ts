/**
 * What an agent ported from the official SDK leans on, over real sockets:
 * connection settings from the environment, waiting for a participant by
 * name, messages narrowed by a validator (type guard or zod schema), replies
 * that survive a departed sender, and the protocol's numeric code on server errors.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RoomServerError, RoomStateError } from '../../src/errors.js';
import { ParticipantNotFoundError, RoomClient, RoomClosedError, type InvalidMessage } from '../../src/client/node.js';
import { uniqueRoom } from '../helpers/server.js';
import { record, useClientRoom } from './helpers/clients.js';

const room$ = useClientRoom();

describe('new RoomClient() reads the environment', () => {
  const names = ['ROOMSTATE_URL', 'ROOMSTATE_ROOM', 'ROOMSTATE_TOKEN', 'MESHAGENT_ROOM_URL', 'MESHAGENT_API_URL', 'MESHAGENT_ROOM', 'MESHAGENT_TOKEN'];
  const saved = new Map(names.map((name) => [name, process.env[name]]));
  const clients: RoomClient[] = [];
  afterEach(async () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });
  const set = (values: Record<string, string>) => {
    for (const name of names) delete process.env[name];
    Object.assign(process.env, values);
  };

  it('MESHAGENT_ROOM_URL, MESHAGENT_ROOM and MESHAGENT_TOKEN, as the official client reads them', async () => {
    const { fx } = room$;
    const room = uniqueRoom();
    set({ MESHAGENT_ROOM_URL: fx.httpUrl, MESHAGENT_ROOM: room, MESHAGENT_TOKEN: await fx.token(room, 'env') });
    const client = new RoomClient({ logger: { warn: () => undefined } });
    clients.push(client);
    await client.start();
    expect(client.roomName).toBe(room);
    expect(client.localParticipant.getAttribute('name')).toBe('env');
  });

  it('ROOMSTATE_* before MESHAGENT_*, and options before both', async () => {
    const { fx } = room$;
    const room = uniqueRoom();
    set({
      ROOMSTATE_URL: fx.url,
      MESHAGENT_ROOM_URL: 'ws://127.0.0.1:1',
      ROOMSTATE_ROOM: room,
      MESHAGENT_ROOM: 'not-this-room',
      ROOMSTATE_TOKEN: await fx.token(room, 'roomstate-env'),
      MESHAGENT_TOKEN: await fx.token('not-this-room', 'meshagent-env'),
    });
    const client = new RoomClient({ logger: { warn: () => undefined } });
    clients.push(client);
    await client.start();
    expect(client.roomName).toBe(room);
    expect(client.localParticipant.getAttribute('name')).toBe('roomstate-env');
    const other = uniqueRoom();
    const explicit = new RoomClient({ room: other, token: await fx.token(other, 'explicit'), logger: { warn: () => undefined } });
    clients.push(explicit);
    await explicit.start();
    expect(explicit.roomName).toBe(other);
  });

  it('names what is missing', () => {
    set({});
    expect(() => new RoomClient()).toThrow(expect.objectContaining({ code: 'ROOM_ERR_VALIDATION', field: 'room', message: 'no room: pass the room option or set ROOMSTATE_ROOM or MESHAGENT_ROOM.' }));
    set({ MESHAGENT_ROOM: 'r' });
    expect(() => new RoomClient()).toThrow(expect.objectContaining({ field: 'token', message: 'no token: pass the token option or set ROOMSTATE_TOKEN or MESHAGENT_TOKEN.' }));
  });
});

describe('waitForParticipant()', () => {
  it('resolves with a participant already present, or one that arrives later', async () => {
    const { pool } = room$;
    const room = uniqueRoom();
    const bob = await pool.enabled(room, 'bob');
    const alice = await pool.enabled(room, 'alice');
    expect((await alice.messaging.waitForParticipant('bob')).id).toBe(bob.localParticipant.id);
    const later = alice.messaging.waitForParticipant('carol', { timeout: 20_000 });
    const carol = await pool.enabled(room, 'carol');
    expect((await later).id).toBe(carol.localParticipant.id);
  });

  it('rejects with ROOM_ERR_TIMEOUT after the timeout, and with RoomClosedError when the room closes', async () => {
    const { pool } = room$;
    const alice = await pool.enabled(uniqueRoom(), 'alice');
    const timedOut = await alice.messaging.waitForParticipant('nobody', { timeout: 200 }).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(RoomStateError);
    expect(timedOut).toMatchObject({ code: 'ROOM_ERR_TIMEOUT', message: 'participant "nobody" did not appear within 0.2s.' });
    const pending = alice.messaging.waitForParticipant('nobody', { timeout: 60_000 }).catch((e: unknown) => e);
    await alice.close();
    expect(await pending).toBeInstanceOf(RoomClosedError);
  });
});

describe('messagesOf()', () => {
  const isTask = (value: unknown): value is { goal: string } => typeof value === 'object' && value !== null && typeof (value as { goal?: unknown }).goal === 'string';

  it.each([
    ['a type guard', isTask],
    ['a zod schema', z.object({ goal: z.string() })],
  ])('keeps the messages of one type that %s accepts; the rest go to onInvalid', async (_name, validator) => {
    const { pool } = room$;
    const room = uniqueRoom();
    const alice = await pool.enabled(room, 'alice');
    const bob = await pool.enabled(room, 'bob');
    const invalid: InvalidMessage[] = [];
    const tasks = record(alice.messaging.messagesOf('task', validator, { onInvalid: (refused) => invalid.push(refused) }));
    const to = alice.localParticipant.id;
    await bob.messaging.sendMessage({ to, type: 'task', message: { goal: 'plan' } });
    await bob.messaging.sendMessage({ to, type: 'task', message: { goal: 42 } });
    await bob.messaging.sendMessage({ to, type: 'chat', message: { goal: 'not a task' } });
    await bob.messaging.sendMessage({ to, type: 'task', message: { goal: 'ship' } });
    await tasks.waitForCount(() => true, 2);
    expect(tasks.items.map((m) => m.message.goal)).toEqual(['plan', 'ship']);
    expect(invalid.map((m) => m.message.message)).toEqual([{ goal: 42 }]);
    if (typeof validator !== 'function') expect(invalid[0]!.error).toBeInstanceOf(z.ZodError);
  });

  it('hands on a schema\'s parsed output', async () => {
    const { pool } = room$;
    const room = uniqueRoom();
    const alice = await pool.enabled(room, 'alice');
    const bob = await pool.enabled(room, 'bob');
    const schema = z.object({ at: z.string().transform((text) => new Date(text)) });
    const parsed = record(alice.messaging.messagesOf('tick', schema));
    await bob.messaging.sendMessage({ to: alice.localParticipant.id, type: 'tick', message: { at: '2026-01-02T03:04:05.000Z' } });
    const first = await parsed.waitFor(() => true);
    expect(first.message.at).toBeInstanceOf(Date);
    expect(first.message.at.toISOString()).toBe('2026-01-02T03:04:05.000Z');
  });
});

describe('reply()', () => {
  it('answers the sender with the received type, and resolves { sent: false } when the sender has left', async () => {
    const { pool } = room$;
    const room = uniqueRoom();
    const agent = await pool.enabled(room, 'agent');
    const alice = await pool.enabled(room, 'alice');
    const bob = await pool.enabled(room, 'bob');
    const chats = record(agent.messaging.messagesOf('chat', (body: unknown): body is { text: string } => typeof (body as { text?: unknown })?.text === 'string'));
    const atAlice = record(alice.messaging.messages$);
    await alice.messaging.sendMessage({ to: agent.localParticipant.id, type: 'chat', message: { text: 'hi' } });
    const fromAlice = await chats.waitFor(() => true);
    expect(await agent.messaging.reply(fromAlice, { message: { text: `echo: ${fromAlice.message.text}` } })).toEqual({ sent: true });
    expect(await atAlice.waitFor((m) => m.type === 'chat')).toMatchObject({ fromParticipantId: agent.localParticipant.id, message: { text: 'echo: hi' }, broadcast: false });

    await bob.messaging.sendMessage({ to: agent.localParticipant.id, type: 'chat', message: { text: 'bye' } });
    const fromBob = await chats.waitFor((m) => m.message.text === 'bye');
    const bobId = bob.localParticipant.id;
    await bob.close();
    const result = await agent.messaging.reply(fromBob, { type: 'answer', message: {} });
    expect(result).toMatchObject({ sent: false, reason: 'sender_left', participantId: bobId });
    expect(!result.sent && result.error).toBeInstanceOf(ParticipantNotFoundError);
    // Asked for, the departure rejects.
    await expect(agent.messaging.reply(fromBob, { message: {}, rejectIfGone: true })).rejects.toBeInstanceOf(ParticipantNotFoundError);
  });

  it('still rejects when the room has closed', async () => {
    const { pool } = room$;
    const room = uniqueRoom();
    const agent = await pool.enabled(room, 'agent');
    await agent.close();
    await expect(agent.messaging.reply({ fromParticipantId: 'someone', type: 'chat' }, { message: {} })).rejects.toBeInstanceOf(RoomClosedError);
  });
});

describe('protocolCode', () => {
  it('carries the numeric code of the protocol on every server error', async () => {
    const { pool } = room$;
    const room = uniqueRoom();
    const alice = await pool.enabled(room, 'alice');
    const notFound = await alice.messaging.sendMessage({ to: 'no-such-id', type: 'chat', message: {} }).catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(ParticipantNotFoundError);
    expect(notFound).toMatchObject({ code: 'ROOM_ERR_PARTICIPANT_NOT_FOUND', protocolCode: 1003 });
    const viewer = await pool.client(room, 'viewer', { tokenOptions: { messaging: false } });
    await viewer.start();
    const refused = await viewer.messaging.enable().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RoomServerError);
    expect(refused).toMatchObject({ code: 'ROOM_ERR_SERVER', protocolCode: 1001 });
  });
});
