/**
 * The child side of {@link startAbusers} (test/helpers/abuser-process.ts):
 * abusive connections in their own process, so that a latency figure the
 * test measures is the server's, not the abusers' share of one CPU.
 * Started with `node --import tsx`; told what to do by one IPC message,
 * reports `ready` once every connection joined, then `stats` on request.
 */
import { WebSocket } from 'ws';
import { encodeInvoke, MessageType, packEnvelope, type MessagingTool } from '../../src/protocol/index.js';
import { roomUrl } from '../../src/protocol/room-url.js';
import { requireTcpSocket } from '../../src/ws-internals.js';
import type { AbuserCommand, AbuserReport, AbuserSpec } from './abuser-process.js';
import { WireConnection } from './wire-connection.js';

/** Bytes a flooder may have queued before it waits for its socket to drain. */
const FLOODER_QUEUE_BYTES = 256 * 1024;

let running = true;
let sent = 0;
let closedEarly = 0;

function report(message: AbuserReport): void {
  process.send!(message);
}

/**
 * Opens one write-only wire connection and resolves once the upgrade
 * succeeded; its socket reads nothing unless `read` (and what it reads is
 * never decoded: the abusers' CPU stays small beside the server's).
 */
function open(spec: AbuserSpec, token: string, room: string, read: boolean): Promise<WireConnection> {
  const ws = new WebSocket(roomUrl(spec.url, room, token), { perMessageDeflate: false });
  ws.on('close', () => {
    if (running) closedEarly++;
  });
  ws.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      // Pausing the net.Socket stops reading at the TCP level (the server's writes pile up).
      if (!read) requireTcpSocket(ws).pause();
      resolve(new WireConnection(ws));
    });
    ws.once('unexpected-response', (_request, response) => reject(new Error(`upgrade refused: ${response.statusCode} ${response.statusMessage}`)));
    ws.once('error', reject);
  });
}

/** Invokes a messaging tool and does not wait for the answer. */
function invoke(wire: WireConnection, tool: MessagingTool, json: Record<string, unknown>): void {
  wire.send(wire.allocateId(), MessageType.InvokeTool, encodeInvoke(tool, json));
}

/** Waits until `ws` has nothing queued (its socket drained). */
async function drained(ws: WebSocket): Promise<void> {
  while (running && ws.readyState === WebSocket.OPEN && ws.bufferedAmount > 0) await new Promise((resolve) => setTimeout(resolve, 5));
}

/**
 * Heavy broadcasts: every connection sends one broadcast of `bodyChars`
 * characters of empty objects at `perSecond`, each only once its socket
 * drained, and never reads.
 */
async function heavyBroadcasts(spec: AbuserSpec & { kind: 'heavy-broadcast' }): Promise<() => Promise<void>> {
  const wires = await Promise.all(spec.tokens.map((token) => open(spec, token, spec.room, false)));
  const body = '[' + '{},'.repeat(spec.objects - 1) + '{}]';
  const period = 1000 / spec.perSecond;
  report({ type: 'ready' });
  const loops = wires.map(async (wire, index) => {
    const { ws } = wire;
    // Staggered, so the connections do not all send in the same instant.
    await new Promise((resolve) => setTimeout(resolve, (period * index) / wires.length));
    let next = performance.now();
    while (running && ws.readyState === WebSocket.OPEN) {
      await drained(ws);
      if (!running) break;
      invoke(wire, 'broadcast', { type: 'heavy', message_json: body });
      sent++;
      next += period;
      const wait = next - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      else next = performance.now();
    }
  });
  return async () => {
    running = false;
    await Promise.all(loops);
    for (const { ws } of wires) ws.terminate();
  };
}

/**
 * A presence flood: `members` readers enable messaging in `room`, then
 * `flooders` more loop `set_attributes` as fast as their sockets drain.
 */
async function presenceFlood(spec: AbuserSpec & { kind: 'presence-flood' }): Promise<() => Promise<void>> {
  const readers = await Promise.all(spec.tokens.slice(0, spec.members).map((token) => open(spec, token, spec.room, true)));
  const flooders = await Promise.all(spec.tokens.slice(spec.members).map((token) => open(spec, token, spec.room, true)));
  const everyone = [...readers, ...flooders];
  for (const wire of everyone) invoke(wire, 'enable', {});
  report({ type: 'ready' });
  const value = 'v'.repeat(100);
  const loops = flooders.map(async (wire) => {
    const { ws } = wire;
    let i = 0;
    while (running && ws.readyState === WebSocket.OPEN) {
      for (let n = 0; n < 50 && running; n++) {
        wire.send(wire.allocateId(), MessageType.SetAttributes, packEnvelope({ value, i: i++ }));
        sent++;
        if (ws.bufferedAmount > FLOODER_QUEUE_BYTES) break;
      }
      await new Promise((resolve) => setImmediate(resolve));
      await drained(ws);
    }
  });
  return async () => {
    running = false;
    await Promise.all(loops);
    for (const { ws } of everyone) ws.terminate();
  };
}

let stop: (() => Promise<void>) | undefined;
process.on('message', (command: AbuserCommand) => {
  if (command.type === 'start') {
    const started = command.spec.kind === 'heavy-broadcast' ? heavyBroadcasts(command.spec) : presenceFlood(command.spec);
    started.then(
      (stopper) => (stop = stopper),
      (error: unknown) => report({ type: 'failed', message: String(error) }),
    );
  } else if (command.type === 'stop') {
    void (stop?.() ?? Promise.resolve()).then(() => {
      report({ type: 'stats', sent, closedEarly });
      process.disconnect();
    });
  }
});
