/**
 * The end-of-turn queue, without I/O: a manual defer queue stands in for
 * setImmediate and a manual clock for the time each item's flush takes.
 * Covered: one flush per turn in the order items were first added; a
 * budget that leaves the rest, in order, to the next turn; flushTurnQueues
 * flushing every queue within its budget, round again while a flush fills
 * another queue.
 */
import { describe, expect, it } from 'vitest';
import { TurnQueue, flushTurnQueues } from '../../src/server/core/turn-queue.js';
import { manualTime } from '../helpers/manual-time.js';

function harness() {
  const time = manualTime();
  const deferred: (() => void)[] = [];
  const flushed: string[] = [];
  const defer = (callback: () => void) => void deferred.push(callback);
  /** Runs the callbacks deferred so far (one check phase). */
  const turn = () => {
    for (const callback of deferred.splice(0)) callback();
  };
  /** A queue whose items take `costMs` each to flush. */
  const queue = (costMs: number, budgetMs?: number) =>
    new TurnQueue<string>(
      (item) => {
        time.advance(costMs);
        flushed.push(item);
      },
      { defer, clock: time.clock, ...(budgetMs === undefined ? {} : { budgetMs }) },
    );
  return { queue, turn, flushed, deferred, time };
}

describe('TurnQueue', () => {
  it('flushes once per turn, each item once, in the order first added, leaving out deleted ones', () => {
    const { queue, turn, flushed, deferred } = harness();
    const q = queue(1);
    q.add('a');
    q.add('b');
    q.add('a');
    q.add('c');
    q.delete('b');
    expect(deferred).toHaveLength(1);
    expect(flushed).toEqual([]);
    turn();
    expect(flushed).toEqual(['a', 'c']);
  });

  it('stops a flush once its budget is spent and flushes the rest, in order, the next turn', () => {
    const { queue, turn, flushed } = harness();
    const q = queue(4, 10);
    for (const item of ['a', 'b', 'c', 'd', 'e']) q.add(item);
    turn();
    // 4 + 4 + 4 ms: the third item spends the budget.
    expect(flushed).toEqual(['a', 'b', 'c']);
    q.add('f');
    turn();
    expect(flushed).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('flushes every queue at once within its budget, going round while a flush fills another queue', () => {
    const { queue, turn, flushed, time } = harness();
    const writes = queue(1);
    const presence = new TurnQueue<string>(
      (item) => {
        time.advance(3);
        flushed.push(item);
        writes.add(`write of ${item}`);
      },
      { defer: () => undefined, clock: time.clock, budgetMs: 5 },
    );
    for (const item of ['p1', 'p2', 'p3']) presence.add(item);
    flushTurnQueues();
    // presence spends its budget after two items; their writes still leave now.
    expect(flushed).toEqual(['p1', 'p2', 'write of p1', 'write of p2']);
    turn();
    expect(flushed).toEqual(['p1', 'p2', 'write of p1', 'write of p2']);
    flushTurnQueues();
    expect(flushed).toEqual(['p1', 'p2', 'write of p1', 'write of p2', 'p3', 'write of p3']);
  });
});
