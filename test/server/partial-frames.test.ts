/**
 * Partial messages below the protocol: a websocket frame (or a fragmented
 * websocket message) that starts and never ends is dropped after
 * `partialMessageTimeoutMs` with 1008, like a stalled multi-packet message.
 * Frames are written by hand on the client's TCP socket. The server runs on
 * manual time: a test waits until the binding armed its timer, then advances
 * past the timeout, so "still open" never rests on a sleep.
 */
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { RawClient } from '../helpers/raw-client.js';
import { manualTime, type ManualTime } from '../helpers/manual-time.js';
import { waitUntil } from '../helpers/recorder.js';
import { uniqueRoom, useServers, type TestServer } from '../helpers/server.js';
import { CloseReason } from '../../src/protocol/close-codes.js';
import { requireTcpSocket } from '../../src/ws-internals.js';

const servers = useServers();

/** A masked client frame header (RFC 6455 5.2) announcing `length` payload bytes. */
function frameHeader(length: number, options: { fin: boolean; opcode: number }): Buffer {
  const first = (options.fin ? 0x80 : 0) | options.opcode;
  const mask = Buffer.from([1, 2, 3, 4]);
  if (length < 126) return Buffer.concat([Buffer.from([first, 0x80 | length]), mask]);
  const header = Buffer.alloc(10);
  header[0] = first;
  header[1] = 0x80 | 127;
  header.writeBigUInt64BE(BigInt(length), 2);
  return Buffer.concat([header, mask]);
}

function socketOf(client: RawClient): Socket {
  return requireTcpSocket(client.ws);
}

const TIMEOUT_MS = 300;

/** A server on manual time whose partial-message timeout is {@link TIMEOUT_MS}. */
async function startOnManualTime(): Promise<{ server: TestServer; time: ManualTime }> {
  const time = manualTime();
  const server = await servers.start({ clock: time.clock, timers: time.timers, limits: { partialMessageTimeoutMs: TIMEOUT_MS } });
  return { server, time };
}

/** Writes `bytes` on the client's socket and waits until the server armed one more timer (its partial-frame timeout). */
async function writeArming(client: RawClient, time: ManualTime, bytes: Buffer): Promise<void> {
  const before = time.pendingCount();
  socketOf(client).write(bytes);
  await waitUntil(() => time.pendingCount() > before, { what: 'the partial-frame timer was armed' });
}

async function pair(server: TestServer, room: string): Promise<[RawClient, RawClient]> {
  const alice = await server.connect(room, 'alice');
  const bob = await server.connect(room, 'bob');
  for (const client of [alice, bob]) {
    await client.invoke('enable', {});
    await client.waitForPush('messaging.enabled');
  }
  return [alice, bob];
}

describe('partial websocket frames', () => {
  it('closes a connection that sends 10 bytes of a 1 MiB frame before any packet, with 1008; a pair keeps working', async () => {
    const { server, time } = await startOnManualTime();
    const room = uniqueRoom();
    const [alice, bob] = await pair(server, room);
    const stalling = await server.connect(room, 'stalling');
    await writeArming(stalling, time, Buffer.concat([frameHeader(1024 * 1024, { fin: true, opcode: 2 }), Buffer.alloc(10)]));
    time.advance(TIMEOUT_MS);
    expect(await stalling.closed).toEqual({ code: 1008, reason: CloseReason.PartialMessageTimeout });
    expect(await alice.invoke('send', { to_participant_id: bob.participantId, type: 't', message_json: '1' })).toEqual({ type: 'empty' });
  });

  it('closes a connection whose fragmented websocket message never gets its last fragment', async () => {
    const { server, time } = await startOnManualTime();
    const stalling = await server.connect(uniqueRoom(), 'stalling');
    // A whole first fragment (FIN clear), then nothing: no 'message' ever completes.
    await writeArming(stalling, time, Buffer.concat([frameHeader(4, { fin: false, opcode: 2 }), Buffer.alloc(4)]));
    time.advance(TIMEOUT_MS);
    expect(await stalling.closed).toEqual({ code: 1008, reason: CloseReason.PartialMessageTimeout });
  });

  it('keeps a connection whose split frame was completed, past the timeout', async () => {
    const { server, time } = await startOnManualTime();
    const alice = await server.connect(uniqueRoom(), 'alice');
    // A ping whose payload comes in two writes: the first arms the timer, the second completes the frame.
    const ping = Buffer.concat([frameHeader(4, { fin: true, opcode: 9 }), Buffer.from([0x61, 0x62, 0x63, 0x64])]);
    const pong = new Promise((resolve) => alice.ws.once('pong', resolve));
    await writeArming(alice, time, ping.subarray(0, ping.length - 2));
    socketOf(alice).write(ping.subarray(ping.length - 2));
    await pong;
    time.advance(TIMEOUT_MS * 3);
    expect(await alice.invoke('broadcast', { type: 't', message_json: '1' })).toEqual({ type: 'empty' });
    expect(alice.isOpen).toBe(true);
  });
});
