/**
 * Partial messages below the protocol: a websocket frame (or a fragmented
 * websocket message) that starts and never ends is dropped after
 * `partialMessageTimeoutMs` with 1008, like a stalled multi-packet message.
 * Frames are written by hand on the client's TCP socket.
 */
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { RawClient } from '../helpers/raw-client.js';
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
    const server = await servers.start({ limits: { partialMessageTimeoutMs: 300 } });
    const room = uniqueRoom();
    const [alice, bob] = await pair(server, room);
    const stalling = await server.connect(room, 'stalling');
    socketOf(stalling).write(Buffer.concat([frameHeader(1024 * 1024, { fin: true, opcode: 2 }), Buffer.alloc(10)]));
    expect(await stalling.closed).toEqual({ code: 1008, reason: CloseReason.PartialMessageTimeout });
    expect(await alice.invoke('send', { to_participant_id: bob.participantId, type: 't', message_json: '1' })).toEqual({ type: 'empty' });
  });

  it('closes a connection whose fragmented websocket message never gets its last fragment', async () => {
    const server = await servers.start({ limits: { partialMessageTimeoutMs: 300 } });
    const stalling = await server.connect(uniqueRoom(), 'stalling');
    // A whole first fragment (FIN clear), then nothing: no 'message' ever completes.
    socketOf(stalling).write(Buffer.concat([frameHeader(4, { fin: false, opcode: 2 }), Buffer.alloc(4)]));
    expect(await stalling.closed).toEqual({ code: 1008, reason: CloseReason.PartialMessageTimeout });
  });

  it('keeps a connection that pings and sends whole frames past the timeout', async () => {
    const server = await servers.start({ limits: { partialMessageTimeoutMs: 300 } });
    const alice = await server.connect(uniqueRoom(), 'alice');
    const pong = new Promise((resolve) => alice.ws.once('pong', resolve));
    alice.ws.ping();
    await pong;
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await alice.invoke('broadcast', { type: 't', message_json: '1' })).toEqual({ type: 'empty' });
  });
});
