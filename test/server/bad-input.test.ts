/**
 * Hostile and broken input: malformed packets and envelopes get an error
 * response when the request id is known, repeated violations close with 1002,
 * text frames close with 1003, and nothing affects another participant.
 */
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { encodePackets, packEnvelope } from '../../src/protocol/index.js';
import type { RawClient } from '../helpers/raw-client.js';
import { uniqueRoom, useServer } from '../helpers/server.js';

const fx = useServer({ limits: { maxProtocolErrors: 4 } }, 'test');
let room: string;
let alice: RawClient;
let bob: RawClient;

beforeEach(async () => {
  room = uniqueRoom();
  alice = await fx.connect(room, 'alice');
  bob = await fx.connect(room, 'bob');
  await bob.invoke('enable', {});
  await bob.waitForPush('messaging.enabled');
});

/** A data packet with an explicit id and index. */
function dataPacket(id: number, index: number, bytes = 10): Uint8Array {
  const frame = new Uint8Array(12 + bytes);
  const view = new DataView(frame.buffer);
  view.setUint32(4, id);
  view.setUint32(8, index);
  return frame;
}

/** The two-request proof that alice still works and bob was not disturbed. */
async function bothStillWork(): Promise<void> {
  expect(await alice.invoke('send', { to_participant_id: bob.participantId, type: 'still', message_json: '"ok"' })).toEqual({ type: 'empty' });
  const push = await bob.waitFor((m) => m.type === 'messaging.send');
  expect(push.header).toMatchObject({ type: 'still', from_participant_id: alice.participantId });
}

describe('framing errors', () => {
  it('ignores a packet shorter than 12 bytes (no id to answer) and keeps the connection', async () => {
    alice.sendFrame(new Uint8Array(5));
    await bothStillWork();
  });

  it('answers a packet 0 shorter than its 16-byte header with 1002', async () => {
    const frame = new Uint8Array(14);
    new DataView(frame.buffer).setUint32(4, 9);
    alice.sendFrame(frame);
    expect(await alice.waitForResponse(9)).toEqual({ type: 'error', text: 'first packet of 14 bytes is shorter than the 16-byte header.', code: 1002 });
    await bothStillWork();
  });

  it('answers the lost request when its packets arrive out of order, and drops the rest silently', async () => {
    const frames = encodePackets(5, 'room.invoke_tool', new Uint8Array(3000));
    alice.sendFrame(frames[0]);
    alice.sendFrame(frames[2]);
    alice.sendFrame(frames[1]);
    alice.sendFrame(frames[3]);
    expect(await alice.waitForResponse(5)).toEqual({ type: 'error', text: 'packet 2 arrived out of order; expected packet 1.', code: 1002 });
    await bothStillWork();
    expect(alice.queued).toEqual([]);
  });

  it('answers the lost request when a packet with a foreign id interrupts it', async () => {
    const frames = encodePackets(6, 'room.invoke_tool', new Uint8Array(2000));
    alice.sendFrame(frames[0]);
    alice.sendFrame(dataPacket(99, 1));
    expect(await alice.waitForResponse(6)).toEqual({ type: 'error', text: 'packet for message 99 arrived while message 6 was in progress.', code: 1002 });
    await bothStillWork();
  });

  it('ignores a data packet with no message in progress', async () => {
    alice.sendFrame(dataPacket(3, 1));
    await bothStillWork();
    expect(alice.queued).toEqual([]);
  });

  it('recovers when a new packet 0 abandons an unfinished message', async () => {
    const frames = encodePackets(10, 'room.invoke_tool', new Uint8Array(3000));
    alice.sendFrame(frames[0]);
    alice.sendFrame(frames[1]);
    // The client gives up on message 10 and starts a new one: message 10 is simply abandoned.
    await bothStillWork();
  });

  it('closes with 1003 on a text frame', async () => {
    alice.sendFrame('hello');
    expect(await alice.closed).toEqual({ code: 1003, reason: 'text frames are not supported; the protocol is binary' });
    expect((await bob.invoke('broadcast', { type: 't', message_json: '1' })).type).toBe('empty');
  });

  it('closes with 1002 "too many protocol errors" after maxProtocolErrors violations', async () => {
    for (let i = 0; i < 5; i++) alice.sendFrame(new Uint8Array(3));
    expect(await alice.closed).toEqual({ code: 1002, reason: 'too many protocol errors' });
    await expect(bob.invoke('send', { to_participant_id: alice.participantId, type: 't', message_json: '1' })).resolves.toMatchObject({ code: 1003 });
  });
});

describe('envelope errors', () => {
  it.each([
    ['data shorter than the length prefix', new Uint8Array(3), 'envelope of 3 bytes is shorter than its 8-byte length prefix.'],
    ['empty data', new Uint8Array(0), 'envelope of 0 bytes is shorter than its 8-byte length prefix.'],
    [
      'a length that runs past the data',
      (() => {
        const data = new Uint8Array(12);
        new DataView(data.buffer).setUint32(4, 1000);
        return data;
      })(),
      'envelope header length 1000 runs past the 4 bytes that follow it.',
    ],
    ['invalid JSON', packRaw('{"toolkit":'), 'envelope header is not valid JSON: "{\\"toolkit\\":".'],
    ['a JSON array header', packRaw('[1,2]'), 'envelope header must be a JSON object, got [1,2].'],
    ['invalid UTF-8', packBytes(new Uint8Array([0x7b, 0xff, 0x7d])), 'envelope header is not valid UTF-8.'],
  ])('answers %s with 1002', async (_what, data, text) => {
    const id = alice.allocateId();
    alice.sendMessage(id, 'room.invoke_tool', data);
    expect(await alice.waitForResponse(id)).toEqual({ type: 'error', text, code: 1002 });
    await bothStillWork();
  });
});

function packRaw(json: string): Uint8Array {
  return packBytes(new TextEncoder().encode(json));
}

function packBytes(header: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + header.byteLength);
  new DataView(out.buffer).setUint32(4, header.byteLength);
  out.set(header, 8);
  return out;
}

describe('random input', () => {
  it('survives arbitrary frames: every lost request is answered or the connection is closed, and bob is unaffected', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 0, maxLength: 64 }), { minLength: 1, maxLength: 30 }), async (frames) => {
        const fuzzer = await fx.connect(room, 'fuzzer');
        for (const frame of frames) fuzzer.sendFrame(frame);
        // Either the fuzzer is still served, or it was closed with 1002 for its violations.
        const outcome = await Promise.race([
          fuzzer.request('ping', {}).then((reply) => ({ reply })),
          fuzzer.closed.then((closed) => ({ closed })),
        ]);
        if ('closed' in outcome) expect(outcome.closed.code).toBe(1002);
        else expect(outcome.reply).toMatchObject({ type: 'error', code: 1002 });
        await fuzzer.terminate();
        expect(await bob.invoke('broadcast', { type: 't', message_json: '1' })).toEqual({ type: 'empty' });
      }),
      { numRuns: 25, seed: 20260301 },
    );
  });

  it('answers valid envelopes of random JSON headers with a response, never silence', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.constant('room.invoke_tool'), fc.constant('set_attributes'), fc.string()), fc.dictionary(fc.string(), fc.jsonValue()), async (type, header) => {
        const id = alice.allocateId();
        alice.sendMessage(id, type, packEnvelope(header));
        if (type === 'set_attributes') return; // answered only on failure
        const reply = await alice.waitForResponse(id);
        expect(['error', 'empty']).toContain(reply.type);
      }),
      { numRuns: 60, seed: 7 },
    );
    await bothStillWork();
  });
});
