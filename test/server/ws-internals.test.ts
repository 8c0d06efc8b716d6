/**
 * What roomstate takes from ws's private parts (src/ws-internals.ts) still
 * works with the installed ws: each is exercised here on real loopback
 * sockets, so a ws release that moves one fails this file, not production.
 */
import { createServer, type Server } from 'node:http';
import { Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import {
  canReadReceiver,
  deliverArrayBuffersAsBuffers,
  kernelBytesTaken,
  kernelRefusedBytes,
  receiverIdle,
  requireTcpSocket,
  tcpSocketOf,
  upgradeRefusedStatus,
  upgradeRefusedText,
} from '../../src/ws-internals.js';
import { waitUntil } from '../helpers/recorder.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A plain ws server on 127.0.0.1 and a client connected to it, both open. */
async function pair(Client: typeof WebSocket = WebSocket): Promise<{ client: WebSocket; server: WebSocket }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  cleanups.push(() => new Promise((resolve) => wss.close(resolve)));
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const { port } = wss.address() as { port: number };
  const accepted = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
  const client = new Client(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
  cleanups.push(() => client.terminate());
  await new Promise<void>((resolve, reject) => {
    client.once('open', resolve);
    client.once('error', reject);
  });
  const server = await accepted;
  cleanups.push(() => server.terminate());
  return { client, server };
}

describe('ws internals', () => {
  it('_socket: both ends keep their net.Socket where tcpSocketOf looks', async () => {
    const { client, server } = await pair();
    expect(tcpSocketOf(client)).toBeInstanceOf(Socket);
    expect(requireTcpSocket(server)).toBeInstanceOf(Socket);
    expect(requireTcpSocket(client).localPort).toBe(requireTcpSocket(server).remotePort);
    expect(tcpSocketOf({})).toBeUndefined();
    expect(() => requireTcpSocket({})).toThrow('ws keeps no net.Socket');
  });

  it('_receiver: tells a half-received frame from an idle parser', async () => {
    const { client, server } = await pair();
    expect(canReadReceiver(server)).toBe(true);
    expect(receiverIdle(server)).toBe(true);
    const messages: RawData[] = [];
    server.on('message', (data) => messages.push(data));
    const serverTcp = requireTcpSocket(server);
    let chunks = 0;
    serverTcp.on('data', () => chunks++);
    // A masked binary frame of 4 bytes, written in two parts straight to the TCP socket.
    const frame = Buffer.from([0x82, 0x84, 1, 2, 3, 4, 0x61 ^ 1, 0x62 ^ 2, 0x63 ^ 3, 0x64 ^ 4]);
    requireTcpSocket(client).write(frame.subarray(0, 3));
    await waitUntil(() => chunks >= 1, { timeoutMs: 30_000, what: 'the first half of the frame' });
    expect(receiverIdle(server)).toBe(false);
    requireTcpSocket(client).write(frame.subarray(3));
    await waitUntil(() => messages.length === 1, { timeoutMs: 30_000, what: 'the whole frame' });
    expect(Buffer.from(messages[0] as Buffer).toString()).toBe('abcd');
    expect(receiverIdle(server)).toBe(true);
    expect(receiverIdle({})).toBe(true);
    expect(canReadReceiver({})).toBe(false);
  });

  it("_handle.bytesWritten and writeQueueSize: what the kernel took of a socket's output grows only as the peer reads", async () => {
    const { client, server } = await pair();
    const serverTcp = requireTcpSocket(server);
    const clientTcp = requireTcpSocket(client);
    const start = kernelBytesTaken(serverTcp);
    expect(start).toBeTypeOf('number');
    expect(kernelRefusedBytes(serverTcp)).toBe(0);
    // The client stops reading; 64 MB is more than any kernel buffers on the way take.
    clientTcp.pause();
    const chunk = Buffer.alloc(1024 * 1024, 1);
    for (let i = 0; i < 64; i++) serverTcp.write(chunk);
    await waitUntil(() => kernelRefusedBytes(serverTcp) > 0, { timeoutMs: 30_000, what: 'the kernel to refuse bytes' });
    const mark = kernelBytesTaken(serverTcp)!;
    expect(mark).toBeGreaterThan(start!);
    expect(mark).toBeLessThan(start! + 64 * chunk.length);
    // The peer reads a little: the kernel takes more. A little at a time: when
    // 256 KiB freed in a large receive buffer does not reopen the window (seen
    // on a loaded machine), the peer reads another 256 KiB, never all 64 MB.
    let read = 0;
    let allowance = 256 * 1024;
    const onData = (data: Buffer): void => {
      read += data.length;
      if (read >= allowance) clientTcp.pause();
    };
    clientTcp.on('data', onData);
    clientTcp.resume();
    await waitUntil(
      () => {
        if (kernelBytesTaken(serverTcp)! > mark) return true;
        if (clientTcp.isPaused()) {
          allowance = read + 256 * 1024;
          clientTcp.resume();
        }
        return false;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'the kernel to take more once the peer read' },
    );
    clientTcp.off('data', onData);
    expect(kernelRefusedBytes(serverTcp)).toBeGreaterThan(0);
    serverTcp.destroy();
    expect(kernelBytesTaken(serverTcp)).toBeUndefined();
    expect(kernelRefusedBytes(serverTcp)).toBe(0);
    expect(kernelBytesTaken(new Socket())).toBeUndefined();
  });

  it('binaryType: the accessor on ws.prototype can be wrapped so arraybuffer delivers Buffers', async () => {
    class Wrapped extends WebSocket {}
    expect(deliverArrayBuffersAsBuffers(Wrapped, WebSocket)).toBe(true);
    const { client, server } = await pair(Wrapped);
    client.binaryType = 'arraybuffer';
    expect(client.binaryType).toBe('nodebuffer');
    const received = new Promise<unknown>((resolve) => client.once('message', resolve));
    server.send(Buffer.from('hi'));
    const data = await received;
    expect(Buffer.isBuffer(data)).toBe(true);
    expect(deliverArrayBuffersAsBuffers(class {}, class {})).toBe(false);
  });

  it('the refused-upgrade error text: ws words it as upgradeRefusedStatus reads it', async () => {
    const http: Server = createServer();
    http.on('upgrade', (_request, socket) => socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => http.close(resolve)));
    const { port } = http.address() as { port: number };
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    const error = await new Promise<Error>((resolve) => client.once('error', resolve));
    expect(error.message).toBe(upgradeRefusedText(403));
    expect(upgradeRefusedStatus(error.message)).toBe(403);
    expect(upgradeRefusedStatus('socket hang up')).toBeUndefined();
  });

  it('ws is pinned to one minor release (~), the one installed', () => {
    const root = new URL('../../', import.meta.url);
    const range = (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { dependencies: Record<string, string> }).dependencies.ws;
    const installed = (JSON.parse(readFileSync(new URL('node_modules/ws/package.json', root), 'utf8')) as { version: string }).version;
    expect(range).toMatch(/^~\d+\.\d+\.\d+$/);
    expect(installed.split('.').slice(0, 2)).toEqual(range.slice(1).split('.').slice(0, 2));
  });
});
