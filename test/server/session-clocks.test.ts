/**
 * The session's timeouts driven by injected time over real sockets: the
 * partial-message timeout measured from the last packet (a slow but live
 * sender is not cut), and the close at the token's `exp`.
 */
import { describe, expect, it } from 'vitest';
import { encodePackets, packEnvelope } from '../../src/protocol/index.js';
import { manualTime } from '../helpers/manual-time.js';
import { connectRaw, type RawClient } from '../helpers/raw-client.js';
import { uniqueRoom, useServers } from '../helpers/server.js';
import { CloseReason } from '../../src/protocol/close-codes.js';

const servers = useServers();

const LIMIT_MS = 1000;

/**
 * Sends one frame and waits until the server has handled it: ws answers a
 * ping only after the frames before it, which reach the session synchronously.
 */
async function sendAndSettle(client: RawClient, frame: Uint8Array): Promise<void> {
  client.sendFrame(frame);
  const pong = new Promise((resolve) => client.ws.once('pong', resolve));
  client.ws.ping();
  await pong;
}

function broadcastFrames(client: RawClient, length = 5000): { id: number; frames: Uint8Array[] } {
  const id = client.allocateId();
  const json = { type: 't', message_json: JSON.stringify('x'.repeat(length)) };
  const frames = encodePackets(id, 'room.invoke_tool', packEnvelope({ toolkit: 'messaging', tool: 'broadcast', arguments: { type: 'json', json } }));
  return { id, frames };
}

describe('partial-message timeout (per progress)', () => {
  it('delivers a message whose packets trickle in at intervals shorter than the timeout, longer than it in total', async () => {
    const time = manualTime();
    const server = await servers.start({ clock: time.clock, timers: time.timers, limits: { partialMessageTimeoutMs: LIMIT_MS } });
    const alice = await server.connect(uniqueRoom(), 'alice');
    const { id, frames } = broadcastFrames(alice);
    expect(frames.length).toBeGreaterThan(4);
    const reply = alice.waitForResponse(id);
    for (const frame of frames) {
      await sendAndSettle(alice, frame);
      time.advance(LIMIT_MS * 0.6);
    }
    // 0.6 × the timeout between packets; over 3 × the timeout from packet 0.
    expect(await reply).toEqual({ type: 'empty' });
  });

  it('closes with 1008 once one gap between packets reaches the timeout', async () => {
    const time = manualTime();
    const server = await servers.start({ clock: time.clock, timers: time.timers, limits: { partialMessageTimeoutMs: LIMIT_MS } });
    const alice = await server.connect(uniqueRoom(), 'alice');
    const { frames } = broadcastFrames(alice);
    await sendAndSettle(alice, frames[0]);
    time.advance(LIMIT_MS * 0.6);
    await sendAndSettle(alice, frames[1]);
    time.advance(LIMIT_MS - 1);
    await sendAndSettle(alice, frames[2]);
    time.advance(LIMIT_MS);
    expect(await alice.closed).toEqual({ code: 1008, reason: CloseReason.PartialMessageTimeout });
  });

  it('does not count the time this server keeps the rest of a message waiting (reading paused, frames held)', async () => {
    const time = manualTime();
    // A byte rate far below the sender's: the rest of the second message waits seconds for its
    // turn, read and held or unread in the kernel, while the sender has sent it all at once.
    const server = await servers.start({ clock: time.clock, timers: time.timers, limits: { partialMessageTimeoutMs: LIMIT_MS, bytesPerSecond: 500, maxMessageBytes: 8192 } });
    const alice = await server.connect(uniqueRoom(), 'alice');
    // The first message takes most of the burst (8 KiB, at least one maximal message).
    const first = broadcastFrames(alice, 6000);
    const firstReply = alice.waitForResponse(first.id);
    for (const frame of first.frames) await sendAndSettle(alice, frame);
    expect(await firstReply).toEqual({ type: 'empty' });
    const second = broadcastFrames(alice, 4000);
    let settled: unknown;
    const reply = alice.waitForResponse(second.id).then(
      (response) => (settled = response),
      (error: Error) => (settled = error),
    );
    for (const frame of second.frames) alice.sendFrame(frame);
    // Small steps of the server's clock, each after real I/O has had its turn: a packet the
    // throttle lets in arrives well within the timeout of its release.
    for (let step = 0; step < 1000 && settled === undefined; step++) {
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      time.advance(LIMIT_MS / 20);
    }
    await reply;
    // About 3 KiB over the debt at 500 bytes/s: several times the timeout in all.
    expect(time.clock()).toBeGreaterThan(3 * LIMIT_MS);
    expect(settled).toEqual({ type: 'empty' });
  });
});

/** The `exp` claim of a JWT, in seconds. */
function expOf(token: string): number {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).exp as number;
}

describe('token expiry', () => {
  it('closes a session with 4001 "token expired" when the injected wall clock reaches exp, not before', async () => {
    const wall = manualTime(Date.now());
    const server = await servers.start({ wallClock: wall.clock, timers: wall.timers });
    const room = uniqueRoom();
    const token = await server.token(room, 'alice', { ttlSeconds: 3600 });
    const alice = await connectRaw(server.url, room, token);
    const expiresAt = expOf(token) * 1000;
    wall.advance(expiresAt - 1 - wall.clock());
    expect(await alice.invoke('broadcast', { type: 't', message_json: '1' })).toEqual({ type: 'empty' });
    wall.advance(1);
    expect(await alice.closed).toEqual({ code: 4001, reason: 'token expired' });
  });
});
