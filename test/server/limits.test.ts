/**
 * Every configurable limit of the server, each hit over real sockets with
 * its exact error response, HTTP refusal or close code.
 */
import { describe, expect, it, vi } from 'vitest';
import { encodePackets, packEnvelope } from '../../src/protocol/index.js';
import { DEFAULT_LIMITS, combineObservers, resolveLimits, type RoomServerLimits } from '../../src/server/index.js';
import { connectRaw, expectUpgradeRefused, type RawClient } from '../helpers/raw-client.js';
import { manualTime } from '../helpers/manual-time.js';
import { waitUntil } from '../helpers/recorder.js';
import { uniqueRoom, useServers, type ServerFixture, type TestServer } from '../helpers/server.js';
import { CloseReason } from '../../src/protocol/close-codes.js';
import { requireTcpSocket } from '../../src/ws-internals.js';

const servers = useServers();

async function serve(limits: Partial<RoomServerLimits>, extra: Parameters<ServerFixture['start']>[0] = {}): Promise<TestServer> {
  const fx = await servers.start({ ...extra, limits });
  return fx;
}

function invokeData(tool: string, json: unknown): Uint8Array {
  return packEnvelope({ toolkit: 'messaging', tool, arguments: { type: 'json', json } });
}

describe('limit options', () => {
  it('merges partial limits over the defaults and rejects nonsense', () => {
    expect(resolveLimits({ maxRooms: 5 })).toEqual({ ...DEFAULT_LIMITS, maxRooms: 5 });
    expect(resolveLimits({ messagesPerSecond: Infinity }).messagesPerSecond).toBe(Infinity);
    expect(() => resolveLimits({ maxRooms: 0 })).toThrow('limits.maxRooms must be a positive number or Infinity, got 0.');
    expect(() => resolveLimits({ maxJsonDepth: Number.NaN })).toThrow(expect.objectContaining({ code: 'ROOM_ERR_VALIDATION', field: 'limits.maxJsonDepth' }));
  });
});

describe('message size', () => {
  it('refuses a message whose packet count exceeds maxMessageBytes before buffering, drops its data packets silently, and carries on', async () => {
    const server = await serve({ maxMessageBytes: 4096, maxProtocolErrors: 1 });
    const alice = await server.connect(uniqueRoom(), 'alice');
    const id = alice.allocateId();
    const frames = encodePackets(id, 'room.invoke_tool', invokeData('broadcast', { type: 't', message_json: JSON.stringify('x'.repeat(10_000)) }));
    expect(frames.length).toBe(11);
    for (const frame of frames) alice.sendFrame(frame);
    expect(await alice.waitForResponse(id)).toEqual({ type: 'error', text: 'message of 10 packets exceeds the limit of 4096 bytes.', code: 1002 });
    // Repeated limit hits are not protocol violations (maxProtocolErrors is 1 here).
    for (let i = 0; i < 3; i++) {
      const again = alice.allocateId();
      for (const frame of encodePackets(again, 'x', new Uint8Array(5000))) alice.sendFrame(frame);
      expect(await alice.waitForResponse(again)).toMatchObject({ code: 1002 });
    }
    // The ten data packets produced no further answers; the next request is answered normally.
    expect(await alice.invoke('broadcast', { type: 't', message_json: '1' })).toEqual({ type: 'empty' });
    expect(alice.queued).toEqual([]);
  });

  it('refuses a message whose data outgrows its packet count (short packets, lying count)', async () => {
    const server = await serve({ maxMessageBytes: 2048 });
    const alice = await server.connect(uniqueRoom(), 'alice');
    // Two packets announced (fits), but each data packet carries 1500 bytes.
    const id = 77;
    const first = encodePackets(id, 'room.invoke_tool', new Uint8Array(1500))[0];
    const view = new DataView(first.buffer, first.byteOffset);
    view.setUint32(12, 2);
    const data = (index: number) => {
      const frame = new Uint8Array(12 + 1500);
      const v = new DataView(frame.buffer);
      v.setUint32(4, id);
      v.setUint32(8, index);
      return frame;
    };
    alice.sendFrame(first);
    alice.sendFrame(data(1));
    alice.sendFrame(data(2));
    expect(await alice.waitForResponse(id)).toEqual({ type: 'error', text: 'message data exceeds the limit of 2048 bytes.', code: 1002 });
  });

  it('refuses a packet type longer than maxTypeBytes, and an arguments.json.type longer than it', async () => {
    const server = await serve({ maxTypeBytes: 16 });
    const alice = await server.connect(uniqueRoom(), 'alice');
    const id = alice.allocateId();
    alice.sendMessage(id, 'a-very-long-request-type', packEnvelope({}));
    expect(await alice.waitForResponse(id)).toEqual({ type: 'error', text: 'message type of 24 bytes exceeds the limit of 16 bytes.', code: 1002 });
    expect(await alice.invoke('broadcast', { type: 'é'.repeat(9), message_json: '{}' })).toEqual({
      type: 'error',
      text: 'arguments.json.type: 18 bytes exceed the limit of 16.',
      code: 1002,
    });
    expect(await alice.invoke('broadcast', { type: 'é'.repeat(8), message_json: '{}' })).toEqual({ type: 'empty' });
  });
});

describe('capacity', () => {
  it('refuses a participant beyond maxParticipantsPerRoom with 503 "room is full" (retryable), other rooms unaffected', async () => {
    const server = await serve({ maxParticipantsPerRoom: 2 });
    const room = uniqueRoom();
    const first = await server.connect(room, 'a');
    await server.connect(room, 'b');
    const refused = await expectUpgradeRefused(server.url, room, await server.token(room, 'c'));
    expect(refused).toMatchObject({ status: 503, statusText: 'room is full' });
    expect(JSON.parse(refused.body)).toEqual({ error: 'room is full' });
    await server.connect(uniqueRoom(), 'elsewhere');
    // A place frees up when someone leaves.
    await first.close();
    await waitUntil(() => server.server.stats().participants === 2, { timeoutMs: 60_000 });
    expect((await server.connect(room, 'c')).connected.type).toBe('init');
  });

  it('refuses a new room beyond maxRooms with 503 "too many rooms", but admits to existing rooms', async () => {
    const server = await serve({ maxRooms: 1 });
    const room = uniqueRoom();
    const first = await server.connect(room, 'a');
    const other = uniqueRoom();
    expect(await expectUpgradeRefused(server.url, other, await server.token(other, 'b'))).toMatchObject({ status: 503, statusText: 'too many rooms' });
    await server.connect(room, 'b');
    await first.close();
    expect(server.server.stats().rooms).toBe(1);
  });
});

describe('attributes', () => {
  it('refuses set_attributes beyond maxAttributeKeys with 1002 and does not apply it', async () => {
    const server = await serve({ maxAttributeKeys: 3 });
    const room = uniqueRoom();
    const alice = await server.enabled(room, 'alice');
    const bob = await server.enabled(room, 'bob');
    expect(await alice.request('set_attributes', { a: 1, b: 2, c: 3 })).toEqual({ type: 'error', text: 'attributes: 4 keys exceed the limit of 3.', code: 1002 });
    alice.notify('set_attributes', { a: 1, b: 2 });
    expect((await bob.waitForPush('participant.attributes')).message).toEqual({ attributes: { a: 1, b: 2 } });
  });

  it('refuses set_attributes beyond maxAttributeBytes with 1002', async () => {
    const server = await serve({ maxAttributeBytes: 100 });
    const alice = await server.connect(uniqueRoom(), 'alice');
    const reply = await alice.request('set_attributes', { bio: 'x'.repeat(100) });
    expect(reply).toEqual({ type: 'error', text: 'attributes: 125 bytes of JSON exceed the limit of 100.', code: 1002 });
  });
});

describe('rates', () => {
  // Backpressure: nothing over the rate is refused; reading pauses until the
  // bucket refills, so requests are served later and in order. The rate
  // limits run on a clock the test moves by hand: while it stands still the
  // held requests stay held however slow or fast the machine is, and they are
  // served once the clock has moved past the debt.
  function handClock() {
    let now = 0;
    return { clock: () => now, advance: (ms: number) => void (now += ms) };
  }

  /**
   * Invokes `count` requests in one write (the socket is corked), so the server
   * reads and charges them all before it pauses, however loaded the machine;
   * `served` counts the replies so far.
   */
  function fire(client: RawClient, count: number, args: (i: number) => unknown, tool = 'send') {
    const state = { served: 0 };
    const socket = requireTcpSocket(client.ws);
    socket.cork();
    const replies = Promise.all(
      Array.from({ length: count }, (_, i) => client.invoke(tool, args(i)).then((reply) => (state.served++, reply))),
    );
    socket.uncork();
    return { state, replies };
  }

  it('serves requests over messagesPerSecond later, in order, none refused', async () => {
    const time = handClock();
    let pauses = 0;
    const server = await serve({ messagesPerSecond: 20 }, { clock: time.clock, observer: combineObservers({ rateLimited: () => void pauses++ }) });
    const room = uniqueRoom();
    const alice = await server.connect(room, 'alice');
    const bob = await server.enabled(room, 'bob');
    const { state, replies } = fire(alice, 60, (i) => ({ to_participant_id: bob.participantId, type: 't', message_json: String(i) }));
    // The burst of 20 is served; then reading pauses.
    await waitUntil(() => state.served === 20 && pauses === 1, { timeoutMs: 60_000 });
    // Half the debt paid: still held (bob's round trip gives the server time to misbehave).
    time.advance(1000);
    expect(await bob.invoke('broadcast', { type: 'x', message_json: '1' })).toEqual({ type: 'empty' });
    expect(state.served).toBe(20);
    // 40 more at 20 per second: all of them once two seconds have passed.
    time.advance(1000);
    expect(await replies).toEqual(Array.from({ length: 60 }, () => ({ type: 'empty' })));
    for (let i = 0; i < 60; i++) expect((await bob.waitFor((m) => m.type === 'messaging.send')).header?.message).toBe(i);
  });

  it('keeps a live connection paused for its rate through heartbeats: the beat reads ahead to its pong', async () => {
    // The heartbeat's setInterval is faked too: the test runs beats while alice is held.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const time = handClock();
      const server = await serve({ messagesPerSecond: 20 }, { heartbeatIntervalMs: 200, clock: time.clock });
      const room = uniqueRoom();
      const alice = await server.connect(room, 'alice');
      const bob = await server.connect(room, 'bob');
      let pings = 0;
      alice.ws.on('ping', () => pings++);
      const { state, replies } = fire(alice, 60, () => ({ type: 't', message_json: '1' }), 'broadcast');
      await waitUntil(() => state.served === 20, { timeoutMs: 60_000 });
      // Many heartbeats while alice is paused: each pings her, and her pong (sent at once,
      // behind her held requests) is read ahead before bob's round trip is answered.
      for (let i = 1; i <= 5; i++) {
        vi.advanceTimersByTime(200);
        await waitUntil(() => pings === i, { timeoutMs: 60_000 });
        expect(await bob.invoke('broadcast', { type: 't', message_json: '1' })).toEqual({ type: 'empty' });
      }
      expect(state.served).toBe(20);
      // Well past the debt: every held request is served, in order, none refused.
      time.advance(10_000);
      expect(await replies).toEqual(Array.from({ length: 60 }, () => ({ type: 'empty' })));
      expect(alice.ws.readyState).toBe(alice.ws.OPEN);
      vi.advanceTimersByTime(200);
      expect(await alice.invoke('broadcast', { type: 't', message_json: '1' })).toEqual({ type: 'empty' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('serves requests over bytesPerSecond later, none refused', async () => {
    const time = handClock();
    const server = await serve({ bytesPerSecond: 10_000, maxMessageBytes: 4096 }, { clock: time.clock });
    const alice = await server.connect(uniqueRoom(), 'alice');
    const body = JSON.stringify('y'.repeat(3000));
    // Over 24 KB against a 10 KB burst at 10 KB/s: a few are served, the rest wait for the clock.
    const { state, replies } = fire(alice, 8, () => ({ type: 't', message_json: body }), 'broadcast');
    await waitUntil(() => state.served >= 3, { timeoutMs: 60_000 });
    expect(await (await server.connect(uniqueRoom(), 'bob')).invoke('broadcast', { type: 't', message_json: '1' })).toEqual({ type: 'empty' });
    expect(state.served).toBeLessThan(8);
    time.advance(2000);
    expect(await replies).toEqual(Array.from({ length: 8 }, () => ({ type: 'empty' })));
  });
});

describe('outgoing buffer', () => {
  it('disconnects a consumer that stops reading with 1008 "slow consumer" and announces it', async () => {
    const server = await serve(
      { maxBufferedBytes: 256 * 1024, slowConsumerTimeoutMs: 300, messagesPerSecond: Infinity, bytesPerSecond: Infinity },
      { closeTimeoutMs: 30_000 },
    );
    const room = uniqueRoom();
    const alice = await server.enabled(room, 'alice');
    const slow = await server.enabled(room, 'slow');
    await alice.waitForPush('participant.enabled');
    const socket = requireTcpSocket(slow.ws);
    socket.pause();
    const attachment = Buffer.alloc(64 * 1024, 7).toString('base64');
    let sent = 0;
    // Push until the server gives up on the slow reader (kernel buffers absorb a few MB first).
    for (;;) {
      const reply = await alice.invoke('send', { to_participant_id: slow.participantId, type: 'bulk', message_json: '{}', attachment_base64: attachment });
      if (reply.type === 'error') {
        expect(reply).toMatchObject({ code: 1003 });
        break;
      }
      sent++;
      expect(sent).toBeLessThan(2000);
    }
    expect((await alice.waitForPush('participant.disabled')).message).toEqual({ id: slow.participantId });
    socket.resume();
    expect(await slow.closed).toEqual({ code: 1008, reason: CloseReason.SlowConsumer });
  });
});

describe('JSON depth', () => {
  it('refuses a request header nested deeper than maxJsonDepth with 1002', async () => {
    const server = await serve({ maxJsonDepth: 8 });
    const alice = await server.connect(uniqueRoom(), 'alice');
    let deep: unknown = 1;
    for (let i = 0; i < 20; i++) deep = [deep];
    expect(await alice.request('set_attributes', { deep })).toEqual({ type: 'error', text: 'envelope header is nested deeper than 8 levels.', code: 1002 });
  });

  it('refuses message_json nested deeper than maxJsonDepth with 1002 naming the field', async () => {
    const server = await serve({ maxJsonDepth: 8 });
    const alice = await server.connect(uniqueRoom(), 'alice');
    expect(await alice.invoke('broadcast', { type: 't', message_json: '['.repeat(9) + ']'.repeat(9) })).toEqual({
      type: 'error',
      text: 'arguments.json.message_json: JSON is nested deeper than 8 levels',
      code: 1002,
    });
    expect(await alice.invoke('broadcast', { type: 't', message_json: '['.repeat(8) + ']'.repeat(8) })).toEqual({ type: 'empty' });
  });
});

describe('token size', () => {
  it('refuses a token longer than maxTokenLength with 403 "token too large"', async () => {
    const server = await serve({ maxTokenLength: 100 });
    const room = uniqueRoom();
    const token = await server.token(room, 'a');
    expect(token.length).toBeGreaterThan(100);
    expect(await expectUpgradeRefused(server.url, room, token)).toMatchObject({ status: 403, statusText: 'token too large' });
    await expect(connectRaw(server.url, room, token)).rejects.toThrow(/403/);
  });
});

describe('partial messages', () => {
  it('closes a connection whose message stalls with 1008 "partial message timed out"; others carry on', async () => {
    const server = await serve({ partialMessageTimeoutMs: 300 });
    const room = uniqueRoom();
    const stalling = await server.connect(room, 'stalling');
    const bob = await server.enabled(room, 'bob');
    const frames = encodePackets(3, 'room.invoke_tool', new Uint8Array(4 * 1024));
    stalling.sendFrame(frames[0]);
    stalling.sendFrame(frames[1]);
    expect(await stalling.closed).toEqual({ code: 1008, reason: CloseReason.PartialMessageTimeout });
    expect(await bob.invoke('broadcast', { type: 't', message_json: '1' })).toEqual({ type: 'empty' });
  });

  it('keeps a connection whose messages complete', async () => {
    const time = manualTime();
    const server = await serve({ partialMessageTimeoutMs: 300 }, { clock: time.clock, timers: time.timers });
    const alice = await server.connect(uniqueRoom(), 'alice');
    const attachment = Buffer.alloc(8 * 1024, 1).toString('base64');
    expect(await alice.invoke('broadcast', { type: 't', message_json: '1', attachment_base64: attachment })).toEqual({ type: 'empty' });
    // Past the timeout with nothing pending: no timer left to fire, still open.
    time.advance(600);
    expect(await alice.invoke('broadcast', { type: 't', message_json: '2' })).toEqual({ type: 'empty' });
    expect(alice.queued.filter((m) => m.type === 'messaging.send')).toEqual([]);
  });
});

describe('per-identity limits', () => {
  it('refuses one connection too many for one name in one room with 429', async () => {
    const server = await serve({ maxConnectionsPerIdentity: 2 });
    const room = uniqueRoom();
    await server.connect(room, 'same');
    await server.connect(room, 'same');
    expect(await expectUpgradeRefused(server.url, room, await server.token(room, 'same'))).toMatchObject({
      status: 429,
      statusText: 'too many connections for this identity in this room',
    });
    // Another name, and the same name in another room, still get in.
    await server.connect(room, 'other');
    await server.connect(uniqueRoom(), 'same');
  });

  it('refuses one room too many for one name with 429, and frees the place when a connection leaves', async () => {
    const server = await serve({ maxRoomsPerIdentity: 2 });
    const first = await server.connect(uniqueRoom(), 'roamer');
    await server.connect(uniqueRoom(), 'roamer');
    const third = uniqueRoom();
    expect(await expectUpgradeRefused(server.url, third, await server.token(third, 'roamer'))).toMatchObject({
      status: 429,
      statusText: 'too many rooms for this identity',
    });
    await first.close();
    await first.closed;
    await server.connect(third, 'roamer');
  });
});

describe('presence snapshots', () => {
  it('does not drop a reader that receives a snapshot larger than maxBufferedBytes', async () => {
    const server = await serve({
      maxBufferedBytes: 64 * 1024,
      maxMessageBytes: 32 * 1024 * 1024,
      maxAttributeBytes: 24 * 1024 * 1024,
      bytesPerSecond: Infinity,
    });
    const room = uniqueRoom();
    const big = await server.connect(room, 'big');
    // 16 MB of attributes: far more than the socket buffers absorb in one write.
    const filler = 'z'.repeat(16 * 1024 * 1024);
    big.notify('set_attributes', { filler });
    await big.invoke('enable', {});
    const reader = await server.connect(room, 'reader');
    await reader.invoke('enable', {});
    const snapshot = await reader.waitForPush('messaging.enabled', () => true, 60_000);
    const [entry] = (snapshot.message as { participants: { attributes: { filler: string } }[] }).participants;
    expect(entry.attributes.filler.length).toBe(filler.length);
    // Still connected: a reader that drains is never cut as a slow consumer.
    expect(await reader.invoke('disable', {})).toEqual({ type: 'empty' });
  });

  it('answers repeated enables from one cached snapshot, rebuilt when presence changes', async () => {
    const server = await serve({});
    const room = uniqueRoom();
    const alice = await server.enabled(room, 'alice');
    const bob = await server.enabled(room, 'bob');
    const replies = await Promise.all(Array.from({ length: 20 }, () => bob.invoke('enable', {})));
    expect(replies).toEqual(Array.from({ length: 20 }, () => ({ type: 'empty' })));
    const snapshots = await Promise.all(Array.from({ length: 20 }, () => bob.waitForPush('messaging.enabled')));
    // One encoded message: the same push id every time.
    expect(new Set(snapshots.map((s) => s.id)).size).toBe(1);
    expect(snapshots[0].message).toEqual({ participants: [{ id: alice.participantId, role: 'user', attributes: { name: 'alice' } }] });
    alice.notify('set_attributes', { mood: 'new' });
    await bob.waitForPush('participant.attributes');
    await bob.invoke('enable', {});
    const fresh = await bob.waitForPush('messaging.enabled');
    expect(fresh.id).not.toBe(snapshots[0].id);
    expect(fresh.message).toEqual({ participants: [{ id: alice.participantId, role: 'user', attributes: { name: 'alice', mood: 'new' } }] });
  });
});
