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
    if (this.armed) return;
    this.armed = true;
    this.defer(this.flush);
  }

  /** Takes `item` out of this turn's batch (it was flushed early, or is gone). */
  delete(item: T): void {
    this.items.delete(item);
  }

  private readonly flush = (): void => {
    this.armed = false;
    const items = this.items;
    this.items = new Set();
    for (const item of items) this.flushItem(item);
  };
}
