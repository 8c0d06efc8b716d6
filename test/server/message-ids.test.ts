/**
 * Message ids are 64-bit end to end: any id a client sends is echoed exactly
 * in its response, and an exception while handling one connection's frame
 * closes that connection only, never the process or the room.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { packEnvelope } from '../../src/protocol/index.js';
import type { RawClient } from '../helpers/raw-client.js';
import { uniqueRoom, useServers, type TestServer } from '../helpers/server.js';

const servers = useServers();

const MAX_ID = (1n << 64n) - 1n;

/** Packet 0 with id `high:low`, no data packets and type `room.invoke_tool`: 32 bytes. */
function firstPacket(high: number, low: number, type = 'room.invoke_tool'): Uint8Array {
  const typeBytes = new TextEncoder().encode(type);
  const frame = new Uint8Array(16 + typeBytes.byteLength);
  const view = new DataView(frame.buffer);
  view.setUint32(0, high);
  view.setUint32(4, low);
  frame.set(typeBytes, 16);
  return frame;
}

function responseTo(client: RawClient, id: bigint | number) {
  return client.waitFor((m) => m.type === '__response__' && m.exactId === id);
}

/** A pair in a fresh room that exchanges one direct message. */
async function pairStillServes(server: TestServer): Promise<void> {
  const room = uniqueRoom();
  const carol = await server.connect(room, 'carol');
  const dave = await server.connect(room, 'dave');
  await dave.invoke('enable', {});
  await dave.waitForPush('messaging.enabled');
  expect(await carol.invoke('send', { to_participant_id: dave.participantId, type: 'ping', message_json: '1' })).toEqual({ type: 'empty' });
  expect((await dave.waitFor((m) => m.type === 'messaging.send')).header).toMatchObject({ type: 'ping' });
}

describe('64-bit message ids', () => {
  it('answers the 32-byte frame with id 0xffffffffffffffff with an error carrying that exact id, and keeps serving', async () => {
    const fx = await servers.start();
    const alice = await fx.connect(uniqueRoom(), 'alice');
    const frame = firstPacket(0xffff_ffff, 0xffff_ffff);
    expect(frame.byteLength).toBe(32);
    alice.sendFrame(frame);
    const response = await responseTo(alice, MAX_ID);
    expect(response.data.byteLength).toBeGreaterThan(0);
    expect(alice.ws.readyState).toBe(alice.ws.OPEN);
    await pairStillServes(fx);
  });

  it.each([
    ['2^53 + 1', (1n << 53n) + 1n],
    ['2^63', 1n << 63n],
    ['2^64 - 2', MAX_ID - 1n],
  ])('echoes id %s exactly on a successful request', async (_label, id) => {
    const fx = await servers.start();
    const alice = await fx.connect(uniqueRoom(), 'alice');
    alice.sendMessage(id, 'room.invoke_tool', packEnvelope({ toolkit: 'messaging', tool: 'enable', arguments: { type: 'json', json: {} } }));
    const response = await responseTo(alice, id);
    expect(response.header ?? response.data.byteLength).toBeDefined();
    await alice.waitForPush('messaging.enabled');
  });

  it('keeps small ids as numbers (the fast path)', async () => {
    const fx = await servers.start();
    const alice = await fx.connect(uniqueRoom(), 'alice');
    alice.sendMessage(2 ** 53 - 1, 'room.invoke_tool', new Uint8Array(0));
    const response = await responseTo(alice, 2 ** 53 - 1);
    expect(response.id).toBe(2 ** 53 - 1);
  });
});

describe('an exception while handling a frame', () => {
  it('closes only that connection with 1011 and the server keeps serving', async () => {
    // A log destination that throws while the core logs a protocol error:
    // an exception escaping the core in the middle of one connection's frame.
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        callback();
      },
    });
    destination.write = (chunk: string | Uint8Array): boolean => {
      if (String(chunk).includes('"msg":"protocol error"')) throw new Error('log destination failed');
      return true;
    };
    const fx = await servers.start({ logger: pino({ level: 'debug' }, destination) });
    const room = uniqueRoom();
    const mallory = await fx.connect(room, 'mallory');
    const bystander = await fx.connect(room, 'bystander');
    mallory.sendFrame(firstPacket(0, 7, 'x'.repeat(4)));
    expect(await mallory.closed).toEqual({ code: 1011, reason: 'internal server error' });
    expect(await bystander.invoke('enable', {})).toEqual({ type: 'empty' });
    await pairStillServes(fx);
  });
});
