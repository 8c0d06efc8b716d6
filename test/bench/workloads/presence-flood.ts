/**
 * Presence flood (issues 17 and 24): `flooders` clients loop `set_attributes`
 * as fast as their sockets drain into a room of `members` enabled
 * participants, who all read; meanwhile a bystander pair in another room
 * exchanges one direct message every `probeIntervalMs`. The figures are the
 * bystander's send-to-delivery latencies (p50, p99, max) over the measured
 * phase, and how many attribute changes went in and came out as pushes
 * (coalescing makes the second smaller than the first times the audience).
 */
import type { FloodResult, PresenceFloodTask } from '../ipc.js';
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

/** Runs the presence-flood workload. */
export async function runPresenceFlood(driver: BenchDriver, task: PresenceFloodTask, context: WorkloadContext): Promise<FloodResult> {
  const room = `${context.roomPrefix}flood`;
  const audience = await mapLimit(Array.from({ length: task.members - task.flooders }, (_, i) => i), 25, (i) => join(driver, room, `member-${i}`));
  const flooders = await mapLimit(Array.from({ length: task.flooders }, (_, i) => i), 25, (i) => join(driver, room, `flooder-${i}`));
  const everyone = [...audience, ...flooders];
  context.retain(everyone);
  await presenceComplete(everyone, everyone.length - 1, task.timeoutMs);
  const probeRoom = `${context.roomPrefix}flood-bystanders`;
  const receiver = await join(driver, probeRoom, 'bystander-receiver');
  const sender = await join(driver, probeRoom, 'bystander-sender');
  context.retain([sender, receiver]);

  let measuring = false;
  let running = true;
  let attributeSets = 0;
  let attributePushes = 0;
  for (const member of everyone) member.onAttributes = () => void (measuring && attributePushes++);
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
  const floods = flooders.map((peer) => flood(peer, () => running, () => measuring, () => attributeSets++));
  await delay(task.warmupMs);
  measuring = true;
  context.mark('measure-start');
  const started = now();
  let seq = 0;
  while (now() - started < task.measureMs) {
    const body: BenchBody = { s: seq, t: now(), p: padding };
    outstanding.add(seq++);
    void sender.send(receiver.id, body)?.catch(() => undefined);
    await delay(task.probeIntervalMs);
  }
  const durationMs = now() - started;
  measuring = false;
  context.mark('measure-end');
  running = false;
  await Promise.all(floods);
  // Late probes still count (as their latency); give them the run's deadline to arrive.
  const deadline = now() + Math.min(task.timeoutMs, 60_000);
  while (outstanding.size > 0 && now() < deadline) await delay(20);
  return { kind: 'flood', latency: latency.toData(), maxMs, lost: outstanding.size, attributeSets, attributePushes, durationMs };
}
