/**
 * A clock and one-shot timers that run only when a test advances time, for
 * the core's injectable `Clock` and `Timers`.
 */
import type { Timers } from '../../src/server/core/token-bucket.js';

/** Manual time starting at `start` ms; {@link ManualTime.advance} runs the timers that fall due, in order. */
export interface ManualTime {
  clock: () => number;
  timers: Timers;
  pendingCount: () => number;
  advance(ms: number): void;
}

/** Creates a {@link ManualTime} starting at `start` (e.g. `Date.now()` for a wall clock). */
export function manualTime(start = 0): ManualTime {
  let now = start;
  const pending = new Map<number, { at: number; callback: () => void }>();
  let next = 1;
  const timers: Timers = {
    setTimeout(callback, ms) {
      pending.set(next, { at: now + ms, callback });
      return next++;
    },
    clearTimeout(handle) {
      pending.delete(handle as number);
    },
  };
  return {
    clock: () => now,
    timers,
    pendingCount: () => pending.size,
    advance(ms: number) {
      now += ms;
      for (const [handle, timer] of [...pending].sort((a, b) => a[1].at - b[1].at)) {
        if (timer.at > now || !pending.has(handle)) continue;
        pending.delete(handle);
        timer.callback();
      }
    },
  };
}
