/**
 * The fair scheduler's rules, without I/O: a manual clock (handling "takes"
 * what each frame says) and a manual defer queue standing in for
 * setImmediate. Covered: inline while the loop keeps up; held and served
 * least-used identity first once a turn spent the slice; a light identity
 * that would go first is handled at once even then; a drain yields before
 * turning to an identity whose requests overrun the slice; queued turn
 * work is flushed before each drain; the frames of one read charged from
 * the end of the one before, with one clock read each.
 */
import { describe, expect, it } from 'vitest';
import { FairScheduler, type Flow, type Schedulable } from '../../src/server/core/fair-scheduler.js';
import { manualTime } from '../helpers/manual-time.js';

function harness(sliceMs = 10) {
  const time = manualTime();
  const deferred: (() => void)[] = [];
  const log: string[] = [];
  const flushes: number[] = [];
  const scheduler = new FairScheduler({ sliceMs, clock: time.clock, defer: (callback) => void deferred.push(callback), beforeDrain: () => void flushes.push(log.length) });
  /** A session of `identity` whose frames are their handling cost in ms. */
  const session = (identity: string) => {
    const held: number[] = [];
    const flow = scheduler.flow(identity);
    const handle = (cost: number) => {
      time.advance(cost);
      log.push(`${identity}:${cost}`);
      return true;
    };
    const self: Schedulable & { send(cost: number): void } = {
      flow,
      step() {
        handle(held.shift()!);
        return held.length > 0;
      },
      send(cost: number) {
        if (held.length === 0 && scheduler.admits(flow)) return scheduler.runInline(flow, handle, cost);
        held.push(cost);
        if (held.length === 1) scheduler.enqueue(self);
      },
    };
    return self;
  };
  /** Runs the callbacks deferred so far (one check phase). */
  const turn = () => {
    for (const callback of deferred.splice(0)) callback();
  };
  return { scheduler, session, turn, log, flushes };
}

describe('FairScheduler', () => {
  it('handles frames inline while a turn stays under the slice', () => {
    const { session, log, scheduler } = harness();
    const a = session('a');
    for (let i = 0; i < 5; i++) a.send(1);
    expect(log).toHaveLength(5);
    expect(scheduler.backlogged).toBe(0);
  });

  it('holds frames once a turn spent the slice, and serves the least-used identity first', () => {
    const { session, log, turn, scheduler } = harness();
    const heavy = [session('mallory'), session('mallory'), session('mallory')];
    const light = session('alice');
    heavy[0].send(30);
    // The turn is congested: everything else is held, mallory's 16-way split gives it no more share.
    heavy[1].send(30);
    heavy[2].send(30);
    light.send(1);
    expect(log).toEqual(['mallory:30', 'alice:1']);
    expect(scheduler.backlogged).toBe(1);
    turn();
    expect(log).toEqual(['mallory:30', 'alice:1', 'mallory:30']);
  });

  it('handles a light identity at once while a heavy one is held', () => {
    const { session, log } = harness();
    const mallory = [session('mallory'), session('mallory')];
    mallory[0].send(30);
    mallory[1].send(30);
    // Alice used less than mallory: handled now, not after the next drain.
    session('alice').send(1);
    expect(log).toEqual(['mallory:30', 'alice:1']);
  });

  it('yields after a light step rather than turn to a heavy identity in the same drain, and flushes before each drain', () => {
    const { session, log, turn, flushes } = harness();
    const mallory = [session('mallory'), session('mallory')];
    const bob = session('bob');
    mallory[0].send(30); // inline: the turn is congested
    bob.send(0.5); // held: nothing was queued, the turn is over its slice
    mallory[1].send(30); // held
    turn();
    expect(log).toEqual(['mallory:30', 'bob:0.5']);
    const flushed = flushes.length;
    turn();
    expect(flushes.length).toBe(flushed + 1);
    expect(log).toEqual(['mallory:30', 'bob:0.5', 'mallory:30']);
  });

  it('charges the frames of one read back to back, and a frame that only began a message to the next one timed', () => {
    const time = manualTime();
    let reads = 0;
    const clock = () => {
      reads++;
      return time.clock();
    };
    const scheduler = new FairScheduler({ sliceMs: 10, clock, defer: () => undefined });
    const flow = scheduler.flow('a');
    const arrived = time.clock();
    time.advance(1); // the read's bytes are parsed before its first frame is handled
    scheduler.runInline(flow, () => (time.advance(2), false), 0, arrived); // began a message: not timed
    expect(reads).toBe(0);
    scheduler.runInline(flow, () => (time.advance(3), true), 0, arrived);
    // Charged from the read's arrival: 1 + 2 + 3 ms, with one clock read.
    expect(flow.vtime).toBe(6);
    expect(reads).toBe(1);
    scheduler.runInline(flow, () => (time.advance(2), true), 0, arrived);
    // The next frame of the same read starts where the one before ended.
    expect(flow.vtime).toBe(8);
    expect(reads).toBe(2);
    // A later read is charged from its own arrival, not from where the last handling ended.
    time.advance(100);
    scheduler.runInline(flow, () => (time.advance(4), true), 0, time.clock());
    expect(flow.vtime).toBe(12);
    // Without an arrival time the clock is read before handling too.
    time.advance(50);
    reads = 0;
    scheduler.runInline(flow, () => (time.advance(1), true), 0);
    expect(flow.vtime).toBe(13);
    expect(reads).toBe(2);
  });

  it('forgets a flow once nobody uses it and nothing is held', () => {
    const { scheduler } = harness();
    const flow: Flow = scheduler.flow('x');
    scheduler.release(flow);
    expect(scheduler.flow('x')).not.toBe(flow);
  });
});
