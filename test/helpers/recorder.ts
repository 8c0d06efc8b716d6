/**
 * A queue-backed event recorder for tests: everything pushed is kept, and
 * `waitFor` resolves with the first recorded item (past or future) that
 * matches, or rejects after a deadline naming what it waited for. Nothing is
 * missed between "start listening" and "wait".
 */

/** Options of {@link Recorder.waitFor} and {@link waitUntil}. */
export interface WaitOptions {
  /**
   * How long to wait before giving up.
   * @defaultValue 30000
   */
  timeoutMs?: number;
  /** What is awaited, for the error message. */
  what?: string;
}

interface Waiter<T> {
  readonly matches: (item: T) => boolean;
  readonly resolve: (item: T) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** Records items and lets tests wait for ones that match. */
export class Recorder<T> {
  /** Every item pushed so far, in order. */
  readonly items: T[] = [];
  private readonly waiters = new Set<Waiter<T>>();
  private closedWith: Error | undefined;

  /** Records an item and wakes the waiters it satisfies. */
  push(item: T): void {
    this.items.push(item);
    for (const waiter of this.waiters) {
      if (waiter.matches(item)) {
        this.waiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.resolve(item);
      }
    }
  }

  /** The first recorded item that matches, if any. */
  find(matches: (item: T) => boolean): T | undefined {
    return this.items.find(matches);
  }

  /** All recorded items that match. */
  filter(matches: (item: T) => boolean): T[] {
    return this.items.filter(matches);
  }

  /**
   * Resolves with the first item, already recorded or still to come, that
   * matches; rejects after `timeoutMs` or when the recorder is closed.
   */
  waitFor(matches: (item: T) => boolean, options: WaitOptions = {}): Promise<T> {
    const found = this.items.find(matches);
    if (found !== undefined) return Promise.resolve(found);
    if (this.closedWith) return Promise.reject(this.closedWith);
    const timeoutMs = options.timeoutMs ?? 30_000;
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        matches,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${options.what ?? 'a matching item'} (${this.items.length} items recorded).`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Resolves once `count` matching items have been recorded; returns them. */
  async waitForCount(matches: (item: T) => boolean, count: number, options: WaitOptions = {}): Promise<T[]> {
    // The counting predicate sees the recorded items first, then each new one.
    let seen = 0;
    await this.waitFor((item) => matches(item) && ++seen >= count, options);
    return this.filter(matches);
  }

  /** Rejects every pending and future wait with `error`. */
  close(error = new Error('recorder closed')): void {
    this.closedWith = error;
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.waiters.clear();
  }
}

/**
 * Polls `check` until it returns true or the deadline passes. For state that
 * has no event to wait on (a presence map, server stats).
 */
export async function waitUntil(check: () => boolean | Promise<boolean>, options: WaitOptions & { intervalMs?: number } = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${options.what ?? 'the condition held'}.`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 20));
  }
}
