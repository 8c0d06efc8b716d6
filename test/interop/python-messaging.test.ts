/**
 * The official MeshAgent Python SDK (meshagent-api 0.56.0, unmodified) against
 * a real roomstate server: presence, attributes, direct messages with
 * attachments, broadcasts, errors, pipelining, permissions and `dismiss`.
 * Every participant is a `test/python/peer.py` process; one server serves the
 * whole file and each test has its own room. Independent peers start in
 * parallel (each pays the SDK's import time).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PARTICIPANT_NOT_FOUND_TEXT } from '../../src/protocol/index.js';
import { pythonAvailability } from '../helpers/python.js';
import { PythonPeer, attachmentPattern, describeAttachment, sees, stopAllPythonPeers, type PeerEvent } from '../helpers/python-peer.js';
import { uniqueRoom, useServer } from '../helpers/server.js';
import type { MintTokenOptions } from '../../src/auth/token.js';

const availability = pythonAvailability();

describe.skipIf(!availability.run)('the MeshAgent Python SDK 0.56.0 against roomstate', () => {
  const venv = availability.run ? availability.venv : (undefined as never);
  const fx = useServer({ logger: false });
  afterEach(() => stopAllPythonPeers());

  /** Starts one Python participant per name in `room`, in parallel. */
  async function join(room: string, names: readonly string[], token: Partial<Omit<MintTokenOptions, 'room' | 'name'>> = {}): Promise<PythonPeer[]> {
    return Promise.all(names.map(async (name) => PythonPeer.start(venv, { url: fx.url, room, token: await fx.token(room, name, token) })));
  }

  async function enable(peer: PythonPeer): Promise<PeerEvent> {
    await peer.command('enable');
    return peer.waitFor('enabled');
  }

  /** Enables every peer at once and waits until each sees all the others (by snapshot or join push). */
  async function enableAll(peers: readonly PythonPeer[]): Promise<void> {
    await Promise.all(peers.map(enable));
    await Promise.all(peers.flatMap((peer) => peers.filter((other) => other !== peer).map((other) => sees(peer, other.id))));
  }

  it('enables messaging, gets the presence snapshot, and sees joins, attribute updates and leaves', async () => {
    const room = uniqueRoom('py-presence');
    const [alice, bob] = await join(room, ['alice', 'bob']);
    expect((await alice.waitFor('ready')).attributes).toEqual({ name: 'alice' });
    expect((await enable(alice)).participants).toEqual([]);

    const snapshot = await enable(bob);
    expect(snapshot.participants).toEqual([{ id: alice.id, role: 'user', attributes: { name: 'alice' } }]);
    expect(await alice.waitFor('added')).toMatchObject({ id: bob.id, role: 'user', attributes: { name: 'bob' } });

    await bob.command('set_attribute', { name: 'status', value: { mood: 'busy', since: 3 } });
    const update = await alice.waitFor('attributes', (e) => e.id === bob.id);
    expect(update.attributes).toEqual({ name: 'bob', status: { mood: 'busy', since: 3 } });
    expect(await alice.command('participants')).toEqual([{ id: bob.id, role: 'user', attributes: { name: 'bob', status: { mood: 'busy', since: 3 } } }]);

    expect(await bob.close()).toBe(0);
    expect(await alice.waitFor('removed')).toMatchObject({ id: bob.id });
    expect(await alice.command('participants')).toEqual([]);
    expect(await alice.close()).toBe(0);
  });

  it('reports a role from the token grants in presence', async () => {
    const room = uniqueRoom('py-role');
    const [watcher, agent] = await Promise.all([join(room, ['watcher']), join(room, ['helper'], { role: 'agent' })]).then((all) => all.flat());
    await enable(watcher);
    await enable(agent);
    expect(await watcher.waitFor('added')).toMatchObject({ id: agent.id, role: 'agent', attributes: { name: 'helper' } });
    expect((await agent.waitFor('enabled')).participants).toEqual([{ id: watcher.id, role: 'user', attributes: { name: 'watcher' } }]);
  });

  it('sends direct messages with attachments both ways, up to 1 MB', async () => {
    const room = uniqueRoom('py-direct');
    const [alice, bob] = await join(room, ['alice', 'bob']);
    await enableAll([alice, bob]);

    const megabyte = 1024 * 1024;
    await alice.command('send', { to: bob.id, type: 'file', message: { name: 'big.bin' }, attachment: { size: megabyte } });
    const big = await bob.waitFor('message', (e) => e.type === 'file');
    expect(big).toMatchObject({ from: alice.id, message: { name: 'big.bin' }, attachment: describeAttachment(attachmentPattern(megabyte)) });

    await bob.command('send', { to: alice.id, type: 'reply', message: { text: 'got it', n: [1, 2] }, attachment: { size: 3000 } });
    await bob.command('send', { to: alice.id, type: 'plain', message: { text: 'no attachment' } });
    const reply = await alice.waitFor('message', (e) => e.type === 'reply');
    expect(reply).toMatchObject({ from: bob.id, message: { text: 'got it', n: [1, 2] }, attachment: describeAttachment(attachmentPattern(3000)) });
    expect(await alice.waitFor('message', (e) => e.type === 'plain')).toMatchObject({ from: bob.id, message: { text: 'no attachment' }, attachment: null });
  });

  it('delivers a broadcast to every other enabled participant, not to the sender', async () => {
    const room = uniqueRoom('py-broadcast');
    const [alice, bob, carol] = await join(room, ['alice', 'bob', 'carol']);
    await enableAll([alice, bob, carol]);
    await alice.command('broadcast', { type: 'chat.broadcast', message: { text: 'hello all' }, attachment: { size: 10 } });
    for (const peer of [bob, carol]) {
      expect(await peer.waitFor('message', (e) => e.type === 'chat.broadcast')).toMatchObject({
        from: alice.id,
        message: { text: 'hello all' },
        attachment: describeAttachment(attachmentPattern(10)),
      });
    }
    // Bob got alice's later message, so a broadcast echo to alice would have arrived by now.
    await alice.command('send', { to: bob.id, type: 'marker', message: {} });
    await bob.waitFor('message', (e) => e.type === 'marker');
    expect(alice.events.filter((e) => e.event === 'message')).toEqual([]);
  });

  it('answers a send to an unknown participant with 1003 and the exact text', async () => {
    const room = uniqueRoom('py-unknown');
    const [alice] = await join(room, ['alice']);
    await enable(alice);
    const result = await alice.tryCommand('send', { to: 'no-such-participant', type: 'chat', message: { text: 'anyone?' } });
    expect(result).toMatchObject({ ok: false, code: 1003, error: PARTICIPANT_NOT_FOUND_TEXT });
  });

  it('keeps 300 pipelined sends in order', async () => {
    const room = uniqueRoom('py-pipeline');
    const [alice, bob] = await join(room, ['alice', 'bob']);
    await enableAll([alice, bob]);
    expect(await alice.command('send_many', { to: bob.id, type: 'seq', count: 300 })).toBe(300);
    const received = await bob.events.waitForCount((e) => e.event === 'message' && e.type === 'seq', 300, { timeoutMs: 60_000, what: '300 messages' });
    expect(received.map((e) => (e.message as { i: number }).i)).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('sends with send_message_nowait, and drops it silently once the target left', async () => {
    const room = uniqueRoom('py-nowait');
    const [alice, bob] = await join(room, ['alice', 'bob']);
    await enableAll([alice, bob]);
    await alice.command('send_nowait', { to: bob.id, type: 'ping', message: { n: 1 } });
    expect(await bob.waitFor('message', (e) => e.type === 'ping')).toMatchObject({ from: alice.id, message: { n: 1 } });
    const bobId = bob.id;
    await bob.close();
    await alice.waitFor('removed', (e) => e.id === bobId);
    expect(await alice.tryCommand('send_nowait', { to: bobId, type: 'ping', message: { n: 2 } })).toMatchObject({ ok: true });
    // The awaited form reports the same target as gone.
    expect(await alice.tryCommand('send', { to: bobId, type: 'ping', message: { n: 3 } })).toMatchObject({ ok: false, code: 1003 });
  });

  it('enforces the api.messaging grant: send and broadcast refused with 1001, list hides presence', async () => {
    const room = uniqueRoom('py-grants');
    const [open] = await join(room, ['open']);
    await enable(open);
    const [mute] = await join(room, ['mute'], { messaging: { send: false, broadcast: false } });
    await enable(mute);
    const [blind] = await join(room, ['blind'], { messaging: { list: false } });
    expect((await enable(blind)).participants).toEqual([]);

    const send = await mute.tryCommand('send', { to: open.id, type: 'chat', message: {} });
    expect(send).toMatchObject({ ok: false, code: 1001 });
    expect(send.error).toMatch(/send is not permitted/);
    const broadcast = await mute.tryCommand('broadcast', { type: 'chat', message: {} });
    expect(broadcast).toMatchObject({ ok: false, code: 1001 });
    expect(broadcast.error).toMatch(/broadcast is not permitted/);
    // list:false hides the others from this participant only; it can still send.
    await blind.command('send', { to: open.id, type: 'from-blind', message: {} });
    expect(await open.waitFor('message', (e) => e.type === 'from-blind')).toMatchObject({ from: blind.id });
  });

  it('relays "dismiss", which makes the Python RoomClient leave', async () => {
    const room = uniqueRoom('py-dismiss');
    const [alice, bob] = await join(room, ['alice', 'bob']);
    await enableAll([alice, bob]);
    await alice.command('send', { to: bob.id, type: 'dismiss', message: {} });
    expect(await bob.waitFor('message', (e) => e.type === 'dismiss')).toMatchObject({ from: alice.id });
    expect(await alice.waitFor('removed', (e) => e.id === bob.id)).toBeDefined();
  });

  it('refuses a token for another room or signed with another secret, and the SDK gives up', async () => {
    const room = uniqueRoom('py-refused');
    const otherRoom = await fx.token(uniqueRoom('elsewhere'), 'mallory');
    const forged = await fx.token(room, 'mallory', { secret: 'not-the-server-secret-0123456789' });
    const peers = [otherRoom, forged].map((token) => PythonPeer.spawn(venv, { url: fx.url, room, token, reconnectTimeoutSeconds: 0 }));
    for (const peer of peers) {
      const fatal = await peer.waitFor('fatal');
      expect(String(fatal.error)).toMatch(/403/);
      expect((await peer.waitFor('exit')).code).toBe(2);
    }
    expect(fx.server.stats().participants).toBe(0);
  });
});
