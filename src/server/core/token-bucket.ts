/**
 * A token bucket for per-participant rate limits, and the clock and timers
 * the core reads time from (both injectable for tests).
 */

/** A clock in milliseconds; injectable for tests. */
export type Clock = () => number;

/** The default clock: a monotonic millisecond counter. */
export const monotonicClock: Clock = () => performance.now();

/**
 * The default wall clock: milliseconds since the epoch, what a token's `exp`
 * is compared with (as jose does at the upgrade: expired from `exp * 1000` on).
 */
export const systemWallClock: Clock = () => Date.now();

/** One-shot timers the core schedules with; injectable for tests. */
export interface Timers {
  /** Runs `callback` once after `ms` milliseconds; returns a handle for {@link Timers.clearTimeout}. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Cancels a timer that has not fired yet. */
  clearTimeout(handle: unknown): void;
}

/** The default timers: Node's, unref'd so that they never keep a process alive. */
export const realTimers: Timers = {
  setTimeout(callback, ms) {
    const timer = setTimeout(callback, ms);
    timer.unref();
    return timer;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

/**
 * Refills at `ratePerSecond` up to `capacity` tokens. Costs are charged when
 * they arrive and never refused: the balance may go negative, and
 * {@link TokenBucket.deficitMs} says how long until it is paid back, which
 * is how long the caller stops reading.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly capacity: number,
    private readonly clock: Clock = monotonicClock,
  ) {
    this.tokens = capacity;
    this.last = clock();
  }

  /** Spends `cost` tokens, going into debt when there are not enough. */
  charge(cost = 1): void {
    if (this.ratePerSecond === Infinity) return;
    this.refill();
    this.tokens -= cost;
  }

  /** Milliseconds until the balance is back to zero; 0 when not in debt. */
  deficitMs(): number {
    if (this.ratePerSecond === Infinity) return 0;
    this.refill();
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.ratePerSecond);
  }

  private refill(): void {
    const now = this.clock();
    const elapsed = now - this.last;
    this.last = now;
    if (elapsed > 0) this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.ratePerSecond) / 1000);
  }
}
