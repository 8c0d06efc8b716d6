/**
 * All frames the server writes to one socket in one tick leave in one socket
 * write (the binding corks the net.Socket and uncorks on the next tick).
 * Counted at net.Socket's write primitive on the server side of the socket.
 */
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { uniqueRoom, useServers } from '../helpers/server.js';
import { requireTcpSocket } from '../../src/ws-internals.js';

const servers = useServers();

type WriteGeneric = (this: Socket, writev: boolean, data: unknown, encoding: string, cb: (error?: Error | null) => void) => void;

/** Counts socket writes per remote port while `body` runs. */
async function countWrites(body: (writes: Map<number, number>) => Promise<void>): Promise<void> {
  const proto = Socket.prototype as unknown as { _writeGeneric: WriteGeneric };
  const original = proto._writeGeneric;
  const writes = new Map<number, number>();
  proto._writeGeneric = function (this: Socket, ...args) {
    const port = this.remotePort;
    if (port !== undefined) writes.set(port, (writes.get(port) ?? 0) + 1);
    return original.apply(this, args);
  };
  try {
    await body(writes);
  } finally {
    proto._writeGeneric = original;
  }
}

describe('write batching', () => {
  it('writes room_ready and connected in one socket write', async () => {
    const fx = await servers.start();
    const server = fx;
    await countWrites(async (writes) => {
      const alice = await server.connect(uniqueRoom(), 'alice');
      const port = requireTcpSocket(alice.ws).localPort!;
      // The 101 handshake response is one write; room_ready + connected (4 frames) the second.
      expect(writes.get(port)).toBe(2);
    });
  });

  it('writes a broadcast push and its response (4 frames) to the sender in one socket write', async () => {
    const fx = await servers.start({ broadcastToSender: true });
    const alice = await fx.connect(uniqueRoom(), 'alice');
    await alice.invoke('enable', {});
    await alice.waitForPush('messaging.enabled');
    const port = requireTcpSocket(alice.ws).localPort!;
    await countWrites(async (writes) => {
      expect(await alice.invoke('broadcast', { type: 'echo', message_json: '{}' })).toEqual({ type: 'empty' });
      await alice.waitForPush('echo');
      expect(writes.get(port)).toBe(1);
    });
  });

  it('coalesces the answers to many pipelined requests that arrive together', async () => {
    const fx = await servers.start();
    const room = uniqueRoom();
    const alice = await fx.connect(room, 'alice');
    const port = requireTcpSocket(alice.ws).localPort!;
    const count = 50;
    await countWrites(async (writes) => {
      // Cork the client side too, so the 50 requests reach the server in one read.
      const socket = requireTcpSocket(alice.ws);
      socket.cork();
      const replies = Array.from({ length: count }, () => alice.invoke('broadcast', { type: 't', message_json: '1' }));
      socket.uncork();
      await Promise.all(replies);
      // Far fewer writes than the 100 frames sent back; one per received chunk at most.
      expect(writes.get(port)).toBeLessThan(count / 2);
    });
  });
});
