/**
 * Footprint: connects and enables participants, room by room, and keeps them
 * connected so the orchestrator can read the server's memory.
 */
import type { ConnectResult, FootprintConnectTask } from '../ipc.js';
import { now, type BenchDriver, type BenchPeer } from '../drivers/types.js';
import { PROGRESS_INTERVAL_MS, join, mapLimit, presenceComplete, withDeadline } from './common.js';

/** Connects the task's participants into `kept`; resolves once every room's presence is complete. */
export async function connectFootprint(driver: BenchDriver, task: FootprintConnectTask, kept: BenchPeer[]): Promise<ConnectResult> {
  const start = now();
  const slots = task.rooms.flatMap((room) => Array.from({ length: task.perRoom }, (_, i) => ({ room, name: `${task.namePrefix ?? 'member-'}${i}` })));
  const joining = setInterval(() => console.error(`[generator ${process.pid}] ${kept.length} of ${slots.length} joined`), PROGRESS_INTERVAL_MS);
  joining.unref();
  const peers = await withDeadline(
    mapLimit(slots, task.joinConcurrency, async ({ room, name }) => {
      const peer = await join(driver, room, name);
      kept.push(peer);
      return peer;
    }),
    task.timeoutMs,
    `could not connect ${slots.length} participants`,
  ).finally(() => clearInterval(joining));
  await presenceComplete(peers, (task.roomTotal ?? task.perRoom) - 1, task.timeoutMs);
  return { kind: 'connected', participants: peers.length, ms: now() - start };
}
