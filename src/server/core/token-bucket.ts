/**
 * A token bucket for per-participant rate limits.
 */

/** A clock in milliseconds; injectable for tests. */
export type Clock = () => number;

/** The default clock: a monotonic millisecond counter. */
export const monotonicClock: Clock = () => performance.now();

/**
 * Refills at `ratePerSecond` up to `capacity` tokens. `take(cost)` spends
 * tokens and answers whether there were enough; a refused take spends none.
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

  /** Spends `cost` tokens if available; false (and nothing spent) otherwise. */
  take(cost = 1): boolean {
    if (this.ratePerSecond === Infinity) return true;
    const now = this.clock();
    const elapsed = now - this.last;
    this.last = now;
    if (elapsed > 0) this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.ratePerSecond) / 1000);
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }
}
