/**
 * Presence flood (issues 17 and 24): `flooders` clients loop `set_attributes`
 * as fast as their sockets drain into a room of `members` enabled
 * participants, who all read; meanwhile a bystander pair in another room,
 * run by another generator process (so the flooders' CPU is not in its
 * latency), exchanges one direct message every `probeIntervalMs`. The
 * figures are the bystander's send-to-delivery latencies (p50, p99, max),
 * and how many attribute changes went in and came out as pushes over the
 * flood's measured phase (coalescing makes the second smaller than the
 * first times the audience).
 */
import type { BystanderProbeTask, FloodResult, PresenceFloodTask, ProbeResult } from '../ipc.js';
import { LatencyHistogram } from '../histogram.js';
import { now, paddingFor, type BenchBody, type BenchDriver, type BenchPeer } from '../drivers/types.js';
import { delay, join, mapLimit, presenceComplete } from './common.js';
import type { WorkloadContext } from './context.js';

/** Bytes a flooder may have queued before it waits for its socket to drain. */
const FLOODER_QUEUE_BYTES = 256 * 1024;

/** Loops `set_attributes` on `peer` until `running()` is false; counts what it sent. */
async function flood(peer: BenchPeer, running: () => boolean, counted: () => boolean, onSent: () => void): Promise<void> {
  const value = 'v'.repeat(100);
  let i = 0;
  while (running()) {
    // A burst per turn, then yield: the loop is paced by the socket, as a real client's would be.
    for (let n = 0; n < 50 && running(); n++) {
      const queued = peer.setAttributes!({ value, i: i++ });
      if (counted()) onSent();
      if (queued > FLOODER_QUEUE_BYTES) break;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Runs the flood: marks `measure-start` after the warm-up and `measure-end` `measureMs` later. */
export async function runPresenceFlood(driver: BenchDriver, task: PresenceFloodTask, context: WorkloadContext): Promise<FloodResult> {
  const room = `${context.roomPrefix}flood`;
  const audience = await mapLimit(Array.from({ length: task.members - task.flooders }, (_, i) => i), 25, (i) => join(driver, room, `member-${i}`));
  const flooders = await mapLimit(Array.from({ length: task.flooders }, (_, i) => i), 25, (i) => join(driver, room, `flooder-${i}`));
  const everyone = [...audience, ...flooders];
  context.retain(everyone);
  await presenceComplete(everyone, everyone.length - 1, task.timeoutMs);

  let measuring = false;
  let running = true;
  let attributeSets = 0;
  let attributePushes = 0;
  for (const member of everyone) member.onAttributes = () => void (measuring && attributePushes++);
  const floods = flooders.map((peer) => flood(peer, () => running, () => measuring, () => attributeSets++));
  await delay(task.warmupMs);
  measuring = true;
  context.mark('measure-start');
  const started = now();
  await delay(task.measureMs);
  const durationMs = now() - started;
  const endedAt = Date.now();
  measuring = false;
  context.mark('measure-end');
  running = false;
  await Promise.all(floods);
  return { kind: 'flood', attributeSets, attributePushes, durationMs, endedAt };
}

/** Runs the bystander pair's probe. */
export async function runBystanderProbe(driver: BenchDriver, task: BystanderProbeTask, context: WorkloadContext): Promise<ProbeResult> {
  const probeRoom = `${context.roomPrefix}flood-bystanders`;
  const receiver = await join(driver, probeRoom, 'bystander-receiver');
  const sender = await join(driver, probeRoom, 'bystander-sender');
  context.retain([sender, receiver]);
  const latency = new LatencyHistogram();
  let maxMs = 0;
  const outstanding = new Set<number>();
  receiver.onMessage = (message) => {
    const body = message.body;
    if (!outstanding.delete(body.s)) return;
    const ms = now() - body.t;
    latency.record(ms);
    if (ms > maxMs) maxMs = ms;
  };
  const padding = paddingFor(100);
  const started = now();
  let seq = 0;
  while (now() - started < task.measureMs) {
    const body: BenchBody = { s: seq, t: now(), p: padding };
    outstanding.add(seq++);
    void sender.send(receiver.id, body)?.catch(() => undefined);
    await delay(task.probeIntervalMs);
  }
  const endedAt = Date.now();
  // Late probes still count (as their latency); give them the run's deadline to arrive.
  const deadline = now() + Math.min(task.timeoutMs, 60_000);
  while (outstanding.size > 0 && now() < deadline) await delay(20);
  return { kind: 'probe', latency: latency.toData(), maxMs, lost: outstanding.size, endedAt };
}
