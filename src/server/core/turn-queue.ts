/**
 * Work batched to the end of an event-loop turn: items added while the loop
 * handles I/O are flushed together once, after it (setImmediate), so what
 * many reads produce leaves in one go. Used for coalesced presence pushes
 * and for one socket write per connection per turn.
 */

/** Runs a callback after the loop's pending I/O. */
export type Defer = (callback: () => void) => void;

/** The default {@link Defer}: `setImmediate`. */
export const deferToCheckPhase: Defer = (callback) => void setImmediate(callback);

/** Every queue holding items for the end of this turn. */
const armedQueues = new Set<TurnQueue<unknown>>();

/**
 * Flushes every queue that holds items now, rather than at the end of the
 * turn: the fair scheduler does this before it serves held work, so that
 * what the turn's I/O produced (a light participant's reply) leaves before
 * a slice of a heavy one's requests. Repeats until none holds anything,
 * since a flush may fill another queue (presence pushes become writes).
 */
export function flushTurnQueues(): void {
  while (armedQueues.size > 0) for (const queue of [...armedQueues]) queue.flushNow();
}

/** A set of items flushed once per turn, in the order they were first added; `flushItem` must not throw. */
export class TurnQueue<T> {
  private items = new Set<T>();
  private armed = false;

  constructor(
    private readonly flushItem: (item: T) => void,
    private readonly defer: Defer = deferToCheckPhase,
  ) {}

  /** Schedules `item` for the end of this turn (once, however often it is added). */
  add(item: T): void {
    this.items.add(item);
    armedQueues.add(this as TurnQueue<unknown>);
    if (this.armed) return;
    this.armed = true;
    this.defer(this.flush);
  }

  /** Flushes now what was added this turn (the deferred flush then finds less, or nothing). */
  flushNow(): void {
    armedQueues.delete(this as TurnQueue<unknown>);
    const items = this.items;
    this.items = new Set();
    for (const item of items) this.flushItem(item);
  }

  /** Takes `item` out of this turn's batch (it was flushed early, or is gone). */
  delete(item: T): void {
    this.items.delete(item);
  }

  private readonly flush = (): void => {
    this.armed = false;
    this.flushNow();
  };
}
