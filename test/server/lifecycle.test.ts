/**
 * Connection lifecycle: disconnects, heartbeats, the HTTP status routes,
 * room bookkeeping, graceful shutdown and restarting on the same port.
 */
import type { Socket } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { createRoomServer } from '../../src/server/index.js';
import { waitUntil } from '../helpers/recorder.js';
import { connectRaw, type RawClient } from '../helpers/raw-client.js';
import { TEST_SECRET, uniqueRoom, useServers, type TestServer } from '../helpers/server.js';
import { requireTcpSocket } from '../../src/ws-internals.js';

const servers = useServers();

function socketOf(client: RawClient): Socket {
  return requireTcpSocket(client.ws);
}

describe('disconnects', () => {
  it('announces participant.disabled when an enabled participant closes cleanly', async () => {
    const fx = await servers.start();
    const room = uniqueRoom();
    const alice = await fx.enabled(room, 'alice');
    const bob = await fx.enabled(room, 'bob');
    await alice.waitForPush('participant.enabled');
    await bob.close(1000);
    const push = await alice.waitForPush('participant.disabled');
    expect(push).toMatchObject({ from: bob.participantId, message: { id: bob.participantId } });
  });

  it('announces participant.disabled when a socket is destroyed without a close frame', async () => {
    const fx = await servers.start();
    const room = uniqueRoom();
    const alice = await fx.enabled(room, 'alice');
    const bob = await fx.enabled(room, 'bob');
    await alice.waitForPush('participant.enabled');
    socketOf(bob).destroy();
    expect((await alice.waitForPush('participant.disabled')).message).toEqual({ id: bob.participantId });
    expect(fx.server.stats()).toEqual({ rooms: 1, participants: 1, enabled: 1 });
  });

  it('does not announce a participant that never enabled', async () => {
    const fx = await servers.start();
    const room = uniqueRoom();
    const alice = await fx.enabled(room, 'alice');
    const quiet = await fx.connect(room, 'quiet');
    await quiet.close();
    // A later enable is the next thing alice hears.
    await fx.enabled(room, 'carol');
    const next = await alice.waitFor((m) => m.type === 'messaging.send');
    expect(next.header?.type).toBe('participant.enabled');
  });

  it('frees a room when its last participant leaves, and counts rooms and participants', async () => {
    const fx = await servers.start();
    const roomA = uniqueRoom();
    const a1 = await fx.enabled(roomA, 'a1');
    const a2 = await fx.connect(roomA, 'a2');
    const b1 = await fx.connect(uniqueRoom(), 'b1');
    expect(fx.server.stats()).toEqual({ rooms: 2, participants: 3, enabled: 1 });
    await Promise.all([a1.close(), a2.close(), b1.close()]);
    await waitForStats(fx, { rooms: 0, participants: 0, enabled: 0 });
  });
});

/** Waits until the stats match (the server learns of a close asynchronously). */
async function waitForStats(server: TestServer, expected: { rooms: number; participants: number; enabled: number }): Promise<void> {
  await waitUntil(() => JSON.stringify(server.server.stats()) === JSON.stringify(expected), { timeoutMs: 60_000, what: `stats ${JSON.stringify(expected)}` });
}

describe('heartbeat', () => {
  it('answers client pings', async () => {
    const fx = await servers.start();
    const alice = await fx.connect(uniqueRoom(), 'alice');
    const pong = new Promise<string>((resolve) => alice.ws.once('pong', (data: Buffer) => resolve(data.toString())));
    alice.ws.ping('hello');
    expect(await pong).toBe('hello');
  });

  it('pings clients and drops a peer that stops answering, announcing it', async () => {
    // Only the server's heartbeat interval is faked, so the test decides when a heartbeat runs
    // and alice's pong is always read before the next one, however loaded the machine is.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const fx = await servers.start({ heartbeatIntervalMs: 100 });
      const room = uniqueRoom();
      const alice = await fx.enabled(room, 'alice');
      const bob = await fx.enabled(room, 'bob');
      await alice.waitForPush('participant.enabled');
      const pinged = new Promise<void>((resolve) => alice.ws.once('ping', () => resolve()));
      // Bob's process "freezes": its socket stops reading, so it never pongs.
      socketOf(bob).pause();
      vi.advanceTimersByTime(100);
      await pinged;
      // ws pongs before it emits 'ping', so this reply proves the server has read alice's pong.
      expect(await alice.invoke('send', { to_participant_id: alice.participantId, type: 'sync', message_json: '{}' })).toEqual({ type: 'empty' });
      vi.advanceTimersByTime(100);
      const push = await alice.waitForPush('participant.disabled', () => true, 60_000);
      expect(push.message).toEqual({ id: bob.participantId });
      // Alice answered the same ping and is still connected.
      expect(alice.ws.readyState).toBe(alice.ws.OPEN);
      expect(fx.server.stats().participants).toBe(1);
      socketOf(bob).resume();
      expect((await bob.closed).code).toBe(1006);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('permessage-deflate', () => {
  it('negotiates compression when enabled and relays through it', async () => {
    const fx = await servers.start({ perMessageDeflate: true });
    const room = uniqueRoom();
    const options = { wsOptions: { perMessageDeflate: true } };
    const alice = await fx.connect(room, 'alice', options);
    const bob = await fx.connect(room, 'bob', options);
    expect(alice.ws.extensions).toContain('permessage-deflate');
    await bob.invoke('enable', {});
    await bob.waitForPush('messaging.enabled');
    const text = 'compressible '.repeat(500);
    expect(await alice.invoke('send', { to_participant_id: bob.participantId, type: 'z', message_json: JSON.stringify({ text }) })).toEqual({ type: 'empty' });
    expect((await bob.waitForPush('z')).message).toEqual({ text });
  });

  it('does not negotiate compression by default', async () => {
    const fx = await servers.start();
    const alice = await fx.connect(uniqueRoom(), 'alice', { wsOptions: { perMessageDeflate: true } });
    expect(alice.ws.extensions).toBe('');
  });
});

describe('HTTP routes', () => {
  it('answers GET / with 200 and the counts', async () => {
    const fx = await servers.start();
    await fx.enabled(uniqueRoom(), 'alice');
    const response = await fetch(`${fx.httpUrl}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ status: 'ok', rooms: 1, participants: 1, enabled: 1 });
  });

  it('answers other paths with 404 JSON, a room without upgrade with 426, and POST / with 405', async () => {
    const fx = await servers.start();
    const missing = await fetch(`${fx.httpUrl}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'not found' });
    const room = await fetch(`${fx.httpUrl}/rooms/x`);
    expect(room.status).toBe(426);
    expect(await room.json()).toMatchObject({ error: expect.stringContaining('upgrade required') });
    expect((await fetch(`${fx.httpUrl}/`, { method: 'POST' })).status).toBe(405);
  });
});

describe('shutdown', () => {
  it('closes every client with 1012 "server shutting down" and refuses new ones', async () => {
    const server = await servers.start();
    const room = uniqueRoom();
    const alice = await server.connect(room, 'alice');
    const bob = await server.connect(room, 'bob');
    await server.server.close();
    expect(await alice.closed).toEqual({ code: 1012, reason: 'server shutting down' });
    expect(await bob.closed).toEqual({ code: 1012, reason: 'server shutting down' });
    expect(server.server.address).toBeUndefined();
    await expect(fetch(`${server.httpUrl}/`)).rejects.toThrow();
  });

  it('does not announce departures to clients that are closing too', async () => {
    const server = await servers.start();
    const room = uniqueRoom();
    const peers = [await server.enabled(room, 'a'), await server.enabled(room, 'b'), await server.enabled(room, 'c')];
    await peers[0].waitForPush('participant.enabled', (p) => p.from === peers[2].participantId);
    await peers[1].waitForPush('participant.enabled', (p) => p.from === peers[2].participantId);
    await server.server.close();
    for (const peer of peers) {
      expect((await peer.closed).code).toBe(1012);
      expect(peer.queued.filter((m) => m.header?.type === 'participant.disabled')).toEqual([]);
    }
  });

  it('uses a custom close code and reason', async () => {
    const server = await servers.start();
    const alice = await server.connect(uniqueRoom(), 'alice');
    await server.server.close({ code: 1001, reason: 'maintenance' });
    expect(await alice.closed).toEqual({ code: 1001, reason: 'maintenance' });
  });

  it('terminates a client that does not finish the close handshake within timeoutMs', async () => {
    const server = await servers.start();
    const stuck = await server.connect(uniqueRoom(), 'stuck');
    socketOf(stuck).pause();
    // Without the deadline this would wait for ws's own 30 s close timer and the test would time out.
    await server.server.close({ timeoutMs: 100 });
    socketOf(stuck).resume();
    // The close frame may still be read from the kernel buffer before the reset.
    expect([1006, 1012]).toContain((await stuck.closed).code);
    expect(server.server.stats().participants).toBe(0);
  });

  it('releases the port: a new server can listen on the same port at once, even after clients were connected', async () => {
    const first = createRoomServer({ secret: TEST_SECRET, port: 0 });
    servers.defer(() => first.close());
    const { port } = await first.listen();
    const room = uniqueRoom();
    const { mintToken } = await import('../../src/auth/token.js');
    const token = await mintToken({ secret: TEST_SECRET, room, name: 'a' });
    const before = await connectRaw(`ws://127.0.0.1:${port}`, room, token);
    await first.close();
    expect((await before.closed).code).toBe(1012);
    const second = createRoomServer({ secret: TEST_SECRET, port });
    servers.defer(() => second.close());
    expect((await second.listen()).url).toBe(`ws://127.0.0.1:${port}`);
    const after = await connectRaw(`ws://127.0.0.1:${port}`, room, token);
    expect(after.connected.type).toBe('init');
    await after.close();
  });

  it('rejects listen() when the port is taken', async () => {
    const first = createRoomServer({ secret: TEST_SECRET, port: 0 });
    servers.defer(() => first.close());
    const { port } = await first.listen();
    const second = createRoomServer({ secret: TEST_SECRET, port });
    servers.defer(() => second.close());
    await expect(second.listen()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(second.address).toBeUndefined();
  });

  it('refuses to start without a secret', () => {
    expect(() => createRoomServer({ secret: '' })).toThrow(/non-empty `secret`/);
  });

  it('close() is idempotent and listen() after close rejects', async () => {
    const server = createRoomServer({ secret: TEST_SECRET, port: 0 });
    await server.listen();
    const closing = server.close();
    expect(server.close()).toBe(closing);
    await closing;
    await expect(server.listen()).rejects.toThrow(/closed/);
  });
});
