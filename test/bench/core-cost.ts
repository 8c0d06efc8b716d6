/**
 * The server core's CPU cost per direct message, without sockets: two
 * sessions in one room of a {@link RoomServerCore} with the server's default
 * limits (message and byte rates off, as the bench server runs), the sender
 * fed the same `messaging.send` request frames the lean bench client writes,
 * its outgoing messages counted and dropped. The machine is shared, so
 * wall-clock rates are noisy; CPU time per message (process.cpuUsage) and
 * the profile are the figures to compare before and after a change.
 *
 *   npx tsx test/bench/core-cost.ts [--messages 400000] [--batch 64] [--rounds 5] [--limits '{"fairnessSliceMs":"Infinity"}']
 *   node --expose-gc --import tsx test/bench/core-cost.ts --members 10000
 *   npx tsx test/bench/core-cost.ts --attributes 49 [--messages 200000] [--batch 64]
 *
 * Frames are fed `--batch` at a time (one socket read's worth), then the
 * turn ends (setImmediate), as in the server. With `--members N` it instead
 * enables N sessions in one room and reports the core's heap per session
 * after a full GC (the sockets' share is not included). With
 * `--attributes N` the sender instead loops `set_attributes` (the
 * presence-flood bench's body) into a room of N other enabled members, and
 * the figures are CPU per attribute set and pushes delivered per set.
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { encodePacketsWithTypeBytes, encodeType, MessageType, packEnvelopeJson } from '../../src/protocol/index.js';
import { RoomServerCore, isRefusal } from '../../src/server/core/room-server-core.js';
import { resolveLimits, type RoomServerLimits } from '../../src/server/core/limits.js';
import type { ParticipantConnection } from '../../src/server/core/context.js';
import type { OutgoingMessage } from '../../src/server/core/outgoing-message.js';
import type { VerifiedToken } from '../../src/auth/token.js';
import type { ParticipantSession } from '../../src/server/core/participant-session.js';
import { BENCH_MESSAGE_TYPE, paddingFor } from './drivers/types.js';

const INVOKE_TOOL = encodeType(MessageType.InvokeTool);
const SET_ATTRIBUTES = encodeType(MessageType.SetAttributes);

/** A connection that counts what it is given. */
class CountingConnection implements ParticipantConnection {
  messages = 0;
  bytes = 0;
  send(message: OutgoingMessage): void {
    this.messages++;
    this.bytes += message.wire.length;
  }
  close(): void {}
  pause(): void {}
  resume(): void {}
}

function token(name: string, room: string): VerifiedToken {
  return { name, role: 'user', room, messaging: { send: true, broadcast: true, list: true }, claims: {}, expiresAt: undefined } as VerifiedToken;
}

/** A request's frames as Buffers, as ws hands them to the server (the envelope decoder takes Buffer's native path). */
function request(id: number, tool: string, json: Record<string, unknown>): Uint8Array[] {
  const header = { toolkit: 'messaging', tool, arguments: { type: 'json', json } };
  return encodePacketsWithTypeBytes(id, INVOKE_TOOL, packEnvelopeJson(JSON.stringify(header))).map((packet) => Buffer.from(packet));
}

/** `--limits` as JSON; `"Infinity"` stands for Infinity (JSON has none), e.g. `{"fairnessSliceMs":"Infinity"}` turns the scheduler off. */
function parseLimits(json: string): Partial<RoomServerLimits> {
  return JSON.parse(json, (_key, value: unknown) => (value === 'Infinity' ? Infinity : value)) as Partial<RoomServerLimits>;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { limits: { type: 'string', default: '{}' }, messages: { type: 'string', default: '400000' }, batch: { type: 'string', default: '64' }, rounds: { type: 'string', default: '5' }, members: { type: 'string' }, attributes: { type: 'string' } },
  });
  const total = Number(values.messages);
  const batch = Number(values.batch);
  const rounds = Number(values.rounds);
  const core = new RoomServerCore({ limits: resolveLimits({ messagesPerSecond: Infinity, bytesPerSecond: Infinity, maxParticipantsPerRoom: 100_000, ...parseLimits(values.limits) }), logger: pino({ enabled: false }) });
  const roomName = 'core-cost';
  const join = async (name: string, connection: CountingConnection): Promise<ParticipantSession> => {
    const admission = await core.admit(roomName, name);
    if (isRefusal(admission)) throw new Error(admission.reason);
    return core.join({ admission, roomUrl: 'ws://127.0.0.1/rooms/core-cost', token: token(name, roomName), connection });
  };
  const toConnection = new CountingConnection();
  const fromConnection = new CountingConnection();
  const receiver = await join('receiver', toConnection);
  const sender = await join('sender', fromConnection);
  let id = 0;
  for (const session of [receiver, sender]) for (const frame of request(id++, 'enable', {})) session.receive(frame);
  await turn();
  if (values.members !== undefined) {
    await footprint(join, Number(values.members));
    return;
  }
  if (values.attributes !== undefined) {
    await attributeFlood(join, sender, Number(values.attributes), total, batch, rounds);
    return;
  }
  const padding = paddingFor(100);
  // Distinct bodies as the bench sends them (sequence and time change per message).
  const frames: Uint8Array[][] = [];
  for (let i = 0; i < 4096; i++) {
    frames.push(request(1000 + i, 'send', { to_participant_id: receiver.id, type: BENCH_MESSAGE_TYPE, message_json: JSON.stringify({ s: i, t: 1234.5678 + i, p: padding }) }));
  }
  const results: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const startMessages = toConnection.messages;
    const wall = performance.now();
    const us = await feed(sender, frames, total, batch);
    const delivered = toConnection.messages - startMessages;
    if (delivered !== total) throw new Error(`${delivered} of ${total} delivered`);
    results.push(us);
    console.log(`round ${round + 1}: ${us.toFixed(3)} µs CPU/message, ${((total / (performance.now() - wall)) * 1000).toFixed(0)} msg/s wall`);
  }
  printMedian(results, 'message');
}

/**
 * Feeds `total` requests to `session`, cycling through `frames` (a power of
 * two of them), `batch` requests a turn as one socket read would bring them;
 * returns the CPU time per request in µs.
 */
async function feed(session: { receive(frame: Uint8Array): void }, frames: readonly Uint8Array[][], total: number, batch: number): Promise<number> {
  const mask = frames.length - 1;
  const cpu = process.cpuUsage();
  for (let sent = 0; sent < total; ) {
    for (let i = 0; i < batch && sent < total; i++, sent++) {
      const request = frames[sent & mask];
      for (let f = 0; f < request.length; f++) session.receive(request[f]);
    }
    await turn();
  }
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / total;
}

/** Prints the median and the minimum of per-round CPU figures (µs per `what`). */
function printMedian(results: number[], what: string): void {
  results.sort((a, b) => a - b);
  console.log(`median ${results[Math.floor(results.length / 2)].toFixed(3)} µs CPU/${what}, min ${results[0].toFixed(3)}`);
}

/** The longest gap between two turns of the loop while it runs: how long one turn held it. */
function watchTurns(): { stop(): number } {
  let longest = 0;
  let last = performance.now();
  let running = true;
  const tick = (): void => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  return {
    stop() {
      running = false;
      return longest;
    },
  };
}

/**
 * Enables `count` sessions in the room, a few per turn as a join storm
 * would, and reports the heap per session, the storm's CPU time and the
 * longest turn; then one more member enables into the full room.
 */
async function footprint(join: (name: string, connection: CountingConnection) => Promise<{ receive(frame: Uint8Array): void; readonly enabled: boolean }>, count: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept: { readonly enabled: boolean }[] = [];
  const connections: CountingConnection[] = [];
  const cpu = process.cpuUsage();
  const wall = performance.now();
  const turns = watchTurns();
  for (let i = 0; i < count; i++) {
    const connection = new CountingConnection();
    const session = await join(`member-${i}`, connection);
    for (const frame of request(i, 'enable', {})) session.receive(frame);
    kept.push(session);
    connections.push(connection);
    if (i % 100 === 99) await turn();
  }
  // Held enables are served a slice a turn: the storm is over once every member is enabled.
  while (kept.some((session) => !session.enabled)) await turn();
  await turn();
  const longest = turns.stop();
  const used = process.cpuUsage(cpu);
  const wallMs = performance.now() - wall;
  gc();
  const bytes = (process.memoryUsage().heapUsed - before) / count;
  const sent = connections.reduce((sum, c) => sum + c.bytes, 0);
  console.log(`${count} enabled sessions in one room: ${(bytes / 1024).toFixed(2)} KiB of heap per session`);
  console.log(`join storm: ${((used.user + used.system) / 1e6).toFixed(2)} s CPU, ${(wallMs / 1000).toFixed(2)} s wall, ${(sent / 2 ** 20).toFixed(0)} MiB written, longest turn ${longest.toFixed(1)} ms`);
  // One more member enabling into the full room: the turns its snapshot takes.
  const lastConnection = new CountingConnection();
  const last = await join('member-last', lastConnection);
  await turn();
  const lastTurns = watchTurns();
  const started = performance.now();
  for (const frame of request(count, 'enable', {})) last.receive(frame);
  while (!last.enabled) await turn();
  await turn();
  console.log(`one more enable into ${count}: ${(performance.now() - started).toFixed(1)} ms until sent, longest turn ${lastTurns.stop().toFixed(1)} ms, ${(lastConnection.bytes / 1024).toFixed(0)} KiB sent to it`);
  kept.length = 0;
}

/** Loops `set_attributes` from `sender` into a room of `audience` more enabled members; CPU per set and pushes per set. */
async function attributeFlood(
  join: (name: string, connection: CountingConnection) => Promise<{ receive(frame: Uint8Array): void }>,
  sender: { receive(frame: Uint8Array): void },
  audience: number,
  total: number,
  batch: number,
  rounds: number,
): Promise<void> {
  const connections: CountingConnection[] = [];
  for (let i = 0; i < audience; i++) {
    const connection = new CountingConnection();
    const session = await join(`audience-${i}`, connection);
    for (const frame of request(10_000 + i, 'enable', {})) session.receive(frame);
    connections.push(connection);
  }
  await turn();
  const value = 'v'.repeat(100);
  const frames: Uint8Array[][] = [];
  for (let i = 0; i < 4096; i++) frames.push(encodePacketsWithTypeBytes(100_000 + i, SET_ATTRIBUTES, packEnvelopeJson(JSON.stringify({ value, i }))).map((packet) => Buffer.from(packet)));
  const delivered = (): number => connections.reduce((sum, c) => sum + c.messages, 0);
  const results: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const startPushes = delivered();
    const us = await feed(sender, frames, total, batch);
    results.push(us);
    console.log(`round ${round + 1}: ${us.toFixed(3)} µs CPU/attribute set, ${((delivered() - startPushes) / total).toFixed(3)} pushes delivered per set`);
  }
  printMedian(results, 'attribute set');
}

await main();
