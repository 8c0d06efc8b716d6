/**
 * Work batched to the end of an event-loop turn: items added while the loop
 * handles I/O are flushed together once, after it (setImmediate), so what
 * many reads produce leaves in one go. Used for coalesced presence pushes
 * and for one socket write per connection per turn.
 *
 * A queue may have a time budget: a flush that has run that long leaves the
 * rest, in order, to the next turn, so I/O (reads, pongs) runs in between.
 * In a room of 10,000 one presence push makes 10,000 sockets' writes due in
 * the same turn; written in one go they held the loop for over half a
 * second on a loaded 2-core machine.
 */
import { monotonicClock, type Clock } from './token-bucket.js';

/** Runs a callback after the loop's pending I/O. */
export type Defer = (callback: () => void) => void;

/** The default {@link Defer}: `setImmediate`. */
export const deferToCheckPhase: Defer = (callback) => void setImmediate(callback);

/** Every queue holding items for the end of this turn. */
const armedQueues = new Set<TurnQueue<unknown>>();

/**
 * Flushes what every queue holds now, rather than at the end of the turn,
 * each within its budget: the fair scheduler does this before it serves
 * held work, so that what the turn's I/O produced (a light participant's
 * reply) leaves before a slice of a heavy one's requests. Goes round while
 * a flush fills another queue (presence pushes become writes); a queue that
 * spent its budget keeps the rest for its own flush.
 */
export function flushTurnQueues(): void {
  const spent = new Set<TurnQueue<unknown>>();
  for (;;) {
    let flushed = false;
    for (const queue of [...armedQueues]) {
      if (spent.has(queue)) continue;
      flushed = true;
      if (queue.flushWithinBudget()) spent.add(queue);
    }
    if (!flushed) return;
  }
}

/** Settings of a {@link TurnQueue}. */
export interface TurnQueueOptions {
  /** Runs the end-of-turn flush; {@link deferToCheckPhase} by default. */
  readonly defer?: Defer;
  /** How long one flush may run, in ms of `clock`, before it leaves the rest to the next turn; unbounded by default. */
  readonly budgetMs?: number;
  /** The clock the budget is measured with; {@link monotonicClock} by default. */
  readonly clock?: Clock;
}

/** A set of items flushed once per turn, in the order they were first added; `flushItem` must not throw. */
export class TurnQueue<T> {
  private readonly items = new Set<T>();
  private armed = false;
  private readonly defer: Defer;
  private readonly budgetMs: number;
  private readonly clock: Clock;

  constructor(
    private readonly flushItem: (item: T) => void,
    options: TurnQueueOptions = {},
  ) {
    this.defer = options.defer ?? deferToCheckPhase;
    this.budgetMs = options.budgetMs ?? Infinity;
    this.clock = options.clock ?? monotonicClock;
  }

  /** Schedules `item` for the end of this turn (once, however often it is added). */
  add(item: T): void {
    this.items.add(item);
    armedQueues.add(this as TurnQueue<unknown>);
    this.arm();
  }

  /** Takes `item` out of this turn's batch (it was flushed early, or is gone). */
  delete(item: T): void {
    this.items.delete(item);
  }

  /**
   * Flushes items, oldest first, until none is left or the budget is spent;
   * true when it stopped with items left, which wait for the queue's next flush.
   */
  flushWithinBudget(): boolean {
    const items = this.items;
    const bounded = Number.isFinite(this.budgetMs);
    const started = bounded && items.size > 0 ? this.clock() : 0;
    // Deleting the item being visited is safe in a Set's iteration; items added meanwhile are visited too.
    for (const item of items) {
      items.delete(item);
      this.flushItem(item);
      if (bounded && items.size > 0 && this.clock() - started >= this.budgetMs) {
        this.arm();
        return true;
      }
    }
    armedQueues.delete(this as TurnQueue<unknown>);
    return false;
  }

  private arm(): void {
    if (this.armed) return;
    this.armed = true;
    this.defer(this.flush);
  }

  private readonly flush = (): void => {
    this.armed = false;
    this.flushWithinBudget();
  };
}
