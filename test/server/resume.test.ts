/**
 * Extension: resumable participants, on the wire (raw clients over real
 * loopback sockets). The recovery window runs on manual time.
 */
import { describe, expect, it } from 'vitest';
import { RESUME_FIELD, ResumeRefusal } from '../../src/protocol/resume.js';
import { noopObserver } from '../../src/server/core/observer.js';
import { packEnvelope } from '../../src/protocol/envelope.js';
import { asPush, type RawClient } from '../helpers/raw-client.js';
import { manualTime, type ManualTime } from '../helpers/manual-time.js';
import { uniqueRoom, useServers, type TestServer } from '../helpers/server.js';

let fx: TestServer | undefined;
let time: ManualTime;
/** Participants the server detached, in order; {@link detached} waits for one. */
let detachments: string[] = [];
/** Participants that left their room, in order. */
let departures: string[] = [];
let onDetach: (() => void) | undefined;

/** Resolves once the server has detached participant `id` (its side of the drop, which the client's close does not tell). */
async function detached(id: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!detachments.includes(id)) {
    if (Date.now() > deadline) throw new Error(`participant ${id} was not detached within 10 s`);
    await new Promise<void>((resolve) => (onDetach = resolve));
  }
}

const servers = useServers();

async function start(limits: Record<string, number> = {}): Promise<TestServer> {
  time = manualTime();
  detachments = [];
  departures = [];
  fx = await servers.start({
    clock: time.clock,
    timers: time.timers,
    limits,
    observer: {
      ...noopObserver,
      participantLeft: (_room, id) => departures.push(id),
      participantDetached: (_room, id) => {
        detachments.push(id);
        onDetach?.();
      },
    },
  });
  return fx;
}

interface Answer {
  key: string;
  resumed?: boolean;
  replayed?: number;
  last_request_id?: number;
  reason?: string;
}

function answerOf(client: RawClient): Answer | undefined {
  return client.roomReady[RESUME_FIELD] as Answer | undefined;
}

/** Connects `name` asking for a resume key, and enables messaging. */
async function resumable(room: string, name: string): Promise<RawClient> {
  const client = await fx!.connect(room, name, { query: 'roomstate_request_key=1' });
  await client.invoke('enable', {});
  await client.waitForPush('messaging.enabled');
  return client;
}

function resume(room: string, name: string, key: string, received: number): Promise<RawClient> {
  return fx!.connect(room, name, { query: `roomstate_resume=${encodeURIComponent(key)}&roomstate_received=${received}` });
}

async function plain(room: string, name: string): Promise<RawClient> {
  const client = await fx!.connect(room, name);
  await client.invoke('enable', {});
  await client.waitForPush('messaging.enabled');
  return client;
}

function send(from: RawClient, to: string, n: number): Promise<unknown> {
  return from.invoke('send', { to_participant_id: to, type: 'n', message_json: JSON.stringify({ n }) });
}

describe('resumable participants', () => {
  it('a client that asks nothing gets the handshake of today, without a key', async () => {
    await start();
    const client = await fx!.connect(uniqueRoom(), 'plain');
    expect(Object.keys(client.roomReady).sort()).toEqual(['room_name', 'room_url', 'session_id']);
  });

  it('resumes as the same participant, with what it missed in order, and the room sees no flap', async () => {
    await start();
    const room = uniqueRoom();
    const alice = await resumable(room, 'alice');
    const key = answerOf(alice)!.key;
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
    const bob = await plain(room, 'bob');
    await alice.waitForPush('participant.enabled');
    for (let n = 0; n < 3; n++) await send(bob, alice.participantId, n);
    for (let n = 0; n < 3; n++) expect((await alice.waitForPush('n')).message).toEqual({ n });
    const received = alice.receivedSinceConnected;
    await alice.terminate();
    await detached(alice.participantId);
    // Sent while alice is away: answered `empty` (held for her), not "not found".
    for (let n = 3; n < 6; n++) await expect(send(bob, alice.participantId, n)).resolves.toEqual({ type: 'empty' });
    const back = await resume(room, 'alice', key, received);
    expect(answerOf(back)).toEqual({ key, resumed: true, replayed: 3, last_request_id: 0 });
    expect(back.participantId).toBe(alice.participantId);
    for (let n = 3; n < 6; n++) expect((await back.waitForPush('n')).message).toEqual({ n });
    // A resumed client numbers its requests on from the session's (ids at or below last_request_id are re-sends).
    while (back.allocateId() < answerOf(back)!.last_request_id!);
    // Live again, both ways; and bob never saw alice leave or join.
    await send(bob, alice.participantId, 6);
    expect((await back.waitForPush('n')).message).toEqual({ n: 6 });
    await send(back, bob.participantId, 100);
    await bob.waitForPush('n', (push) => (push.message as { n: number }).n === 100);
    expect(bob.queued.map((m) => asPush(m)?.type).filter((type) => type?.startsWith('participant.'))).toEqual([]);
  });

  it('a request re-sent after the resume is not handled twice', async () => {
    await start();
    const room = uniqueRoom();
    const alice = await resumable(room, 'alice');
    const key = answerOf(alice)!.key;
    const bob = await plain(room, 'bob');
    const id = 50;
    const data = { toolkit: 'messaging', tool: 'send', arguments: { type: 'json', json: { to_participant_id: bob.participantId, type: 'n', message_json: '{"n":1}' } } };
    alice.sendMessage(id, 'room.invoke_tool', packEnvelope(data));
    await alice.waitForResponse(id);
    const received = alice.receivedSinceConnected;
    await alice.terminate();
    const back = await resume(room, 'alice', key, received);
    expect(answerOf(back)?.last_request_id).toBe(id);
    back.sendMessage(id, 'room.invoke_tool', packEnvelope(data));
    back.sendMessage(id + 1, 'room.invoke_tool', packEnvelope({ ...data, arguments: { type: 'json', json: { ...data.arguments.json, message_json: '{"n":2}' } } }));
    await back.waitForResponse(id + 1);
    expect((await bob.waitForPush('n')).message).toEqual({ n: 1 });
    expect((await bob.waitForPush('n')).message).toEqual({ n: 2 });
    expect(bob.queued.filter((m) => asPush(m)?.type === 'n')).toEqual([]);
  });

  it('past the recovery window the session ends as today, and a late resume is refused with the reason', async () => {
    await start({ recoveryWindowMs: 1000 });
    const room = uniqueRoom();
    const alice = await resumable(room, 'alice');
    const key = answerOf(alice)!.key;
    const bob = await plain(room, 'bob');
    await alice.terminate();
    await detached(alice.participantId);
    time.advance(999);
    await send(bob, alice.participantId, 1);
    time.advance(1);
    expect((await bob.waitForPush('participant.disabled')).message).toEqual({ id: alice.participantId });
    const late = await resume(room, 'alice', key, alice.receivedSinceConnected);
    const answer = answerOf(late)!;
    expect(answer).toMatchObject({ resumed: false, reason: ResumeRefusal.Expired });
    expect(answer.key).not.toBe(key);
    expect(late.participantId).not.toBe(alice.participantId);
  });

  it('over maxRecoveryMessages while detached the session ends and the resume says so', async () => {
    await start({ maxRecoveryMessages: 4 });
    const room = uniqueRoom();
    const alice = await resumable(room, 'alice');
    const key = answerOf(alice)!.key;
    const bob = await plain(room, 'bob');
    await alice.waitForPush('participant.enabled');
    const received = alice.receivedSinceConnected;
    await alice.terminate();
    await detached(alice.participantId);
    for (let n = 0; n < 5; n++) await send(bob, alice.participantId, n).catch(() => undefined);
    expect((await bob.waitForPush('participant.disabled')).message).toEqual({ id: alice.participantId });
    const late = await resume(room, 'alice', key, received);
    expect(answerOf(late)).toMatchObject({ resumed: false, reason: ResumeRefusal.Overflow });
  });

  it('a resume that missed messages no longer held is refused (messages_lost), and the old session leaves', async () => {
    await start({ maxRecoveryMessages: 2 });
    const room = uniqueRoom();
    const alice = await resumable(room, 'alice');
    const key = answerOf(alice)!.key;
    const bob = await plain(room, 'bob');
    for (let n = 0; n < 4; n++) await send(bob, alice.participantId, n);
    await alice.waitForPush('n', (push) => (push.message as { n: number }).n === 3);
    await alice.terminate();
    const late = await resume(room, 'alice', key, 0);
    expect(answerOf(late)).toMatchObject({ resumed: false, reason: ResumeRefusal.Gap });
    expect((await bob.waitForPush('participant.disabled')).message).toEqual({ id: alice.participantId });
  });

  it('a key is refused to another token name, and an unknown key is refused as such', async () => {
    await start();
    const room = uniqueRoom();
    const alice = await resumable(room, 'alice');
    const key = answerOf(alice)!.key;
    await alice.terminate();
    expect(answerOf(await resume(room, 'mallory', key, 0))).toMatchObject({ resumed: false, reason: ResumeRefusal.Mismatch });
    expect(answerOf(await resume(room, 'alice', 'no-such-key', 0))).toMatchObject({ resumed: false, reason: ResumeRefusal.Unknown });
    expect(answerOf(await resume(room, 'alice', key, Number.MAX_SAFE_INTEGER))).toMatchObject({ resumed: false, reason: ResumeRefusal.BadCount });
  });

  it('a clean close (1000) ends a resumable session at once', async () => {
    await start();
    const room = uniqueRoom();
    const alice = await resumable(room, 'alice');
    const bob = await plain(room, 'bob');
    await alice.close(1000);
    expect((await bob.waitForPush('participant.disabled')).message).toEqual({ id: alice.participantId });
  });

  it('a resume while the server still holds the old connection takes over; the old one is closed 1000', async () => {
    await start();
    const room = uniqueRoom();
    const alice = await resumable(room, 'alice');
    const key = answerOf(alice)!.key;
    const back = await resume(room, 'alice', key, alice.receivedSinceConnected);
    expect(answerOf(back)).toMatchObject({ resumed: true, replayed: 0 });
    expect(await alice.closed).toEqual({ code: 1000, reason: 'the session was resumed on another connection' });
    const bob = await plain(room, 'bob');
    await send(bob, back.participantId, 1);
    expect((await back.waitForPush('n')).message).toEqual({ n: 1 });
  });

  it('a server shutdown ends the detached sessions too: one node restarting ends every session', async () => {
    await start();
    const room = uniqueRoom();
    const alice = await resumable(room, 'alice');
    await alice.terminate();
    await detached(alice.participantId);
    expect(departures).not.toContain(alice.participantId);
    await fx!.server.close({ timeoutMs: 1000 });
    expect(departures).toContain(alice.participantId);
  });
});
