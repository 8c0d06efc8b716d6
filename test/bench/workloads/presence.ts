/**
 * Presence workloads.
 *
 * - join: `participants` clients connect and enable (at most
 *   `joinConcurrency` joins in progress); the headline is the time from the
 *   first connect until every participant sees all the others. Per
 *   participant: time from its own connect until its view is complete.
 * - enable: a room is filled with `participants` enabled participants; then,
 *   `trials` times, a new participant connects (not timed) and enables; the
 *   time is from `enable()` until it resolved and the new participant's view
 *   holds everyone. Before the next trial every member must have seen the
 *   newcomer, so trials never overlap with presence traffic.
 */
import { LatencyHistogram, median } from '../histogram.js';
import type { PresenceEnableTask, PresenceJoinTask, PresenceResult } from '../ipc.js';
import { now, type BenchDriver, type BenchPeer } from '../drivers/types.js';
import { join, mapLimit, presenceComplete, until, withDeadline } from './common.js';
import type { WorkloadContext } from './context.js';

/** Runs the join workload. */
export async function runPresenceJoin(driver: BenchDriver, task: PresenceJoinTask, context: WorkloadContext): Promise<PresenceResult> {
  const room = `${context.roomPrefix}presence-join`;
  const n = task.participants;
  const times = new LatencyHistogram();
  let complete = 0;
  let totalMs = 0;
  let allComplete!: () => void;
  const everyoneComplete = new Promise<void>((resolve) => (allComplete = resolve));
  const t0 = now();
  const joined = mapLimit(
    Array.from({ length: n }, (_, i) => i),
    task.joinConcurrency,
    async (i) => {
      const start = now();
      const peer = await driver.connect(room, `member-${i}`);
      context.retain([peer]);
      let done = false;
      const check = (): void => {
        if (done || peer.presenceSize() < n - 1) return;
        done = true;
        times.record(now() - start);
        if (++complete === n) {
          totalMs = now() - t0;
          allComplete();
        }
      };
      peer.onPresence = check;
      await peer.enable();
      check();
    },
  );
  await withDeadline(Promise.all([joined, everyoneComplete]), task.timeoutMs, `${n} participants did not all reach a complete presence view`);
  return { kind: 'presence', totalMs, times: times.toData(), participants: n };
}

/** Runs the enable-into-a-full-room workload. */
export async function runPresenceEnable(driver: BenchDriver, task: PresenceEnableTask, context: WorkloadContext): Promise<PresenceResult> {
  const room = `${context.roomPrefix}presence-enable`;
  const members: BenchPeer[] = [];
  const times = new LatencyHistogram();
  const trialTimes: number[] = [];
  const filled = await withDeadline(
    mapLimit(
      Array.from({ length: task.participants }, (_, i) => i),
      task.joinConcurrency,
      async (i) => {
        const peer = await join(driver, room, `member-${i}`);
        members.push(peer);
        context.retain([peer]);
        return peer;
      },
    ),
    task.timeoutMs,
    `could not fill the room with ${task.participants} participants`,
  );
  await presenceComplete(filled, task.participants - 1, task.timeoutMs);
  for (let trial = 0; trial < task.trials; trial++) {
    const others = members.length;
    const peer = await driver.connect(room, `newcomer-${trial}`);
    context.retain([peer]);
    const start = now();
    await withDeadline(peer.enable(), task.timeoutMs, `enable() in a room of ${others} did not resolve`);
    await until(
      () => peer.presenceSize() >= others,
      (check) => {
        peer.onPresence = check;
        return () => (peer.onPresence = undefined);
      },
      task.timeoutMs,
      `the newcomer's view did not reach ${others} participants`,
    );
    const ms = now() - start;
    times.record(ms);
    trialTimes.push(ms);
    const everyone = [...members, peer];
    members.push(peer);
    await presenceComplete(everyone, others, task.timeoutMs);
  }
  return { kind: 'presence', totalMs: median(trialTimes) ?? 0, times: times.toData(), participants: task.participants };
}
