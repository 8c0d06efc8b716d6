/**
 * The token bucket and the inbound throttle, driven by an injected clock and
 * hand-run timers: costs are charged on arrival, never refused, and reading
 * pauses exactly until the debt is paid, with held frames handled in order.
 */
import { describe, expect, it } from 'vitest';
import { encodePackets } from '../../src/protocol/index.js';
import { InboundThrottle } from '../../src/server/core/inbound-throttle.js';
import { TokenBucket } from '../../src/server/core/token-bucket.js';
import { manualTime } from '../helpers/manual-time.js';

describe('TokenBucket', () => {
  it('allows a burst of capacity, then goes into debt and says how long until it is paid', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 10, () => now);
    for (let i = 0; i < 10; i++) bucket.charge();
    expect(bucket.deficitMs()).toBe(0);
    bucket.charge(3);
    expect(bucket.deficitMs()).toBe(300);
    now += 100;
    expect(bucket.deficitMs()).toBe(200);
    now += 10_000;
    expect(bucket.deficitMs()).toBe(0);
  });

  it('never limits at Infinity', () => {
    const bucket = new TokenBucket(Infinity, Infinity, () => 0);
    for (let i = 0; i < 1000; i++) bucket.charge(1e9);
    expect(bucket.deficitMs()).toBe(0);
  });
});

describe('InboundThrottle', () => {
  function setup(messagesPerSecond: number, bytesPerSecond = Infinity) {
    const time = manualTime();
    const handled: number[] = [];
    const events: string[] = [];
    const throttle = new InboundThrottle({ messagesPerSecond, bytesPerSecond, maxMessageBytes: 1 }, time.clock, time.timers, {
      handle: (frame) => handled.push(new DataView(frame.buffer, frame.byteOffset).getUint32(4)),
      pause: () => events.push('pause'),
      resume: () => events.push('resume'),
      failed: (error) => events.push(`failed ${(error as Error).message}`),
    });
    return { time, handled, events, throttle };
  }
  const request = (id: number) => encodePackets(id, 't', new Uint8Array(0))[0];

  it('handles a burst within capacity at once without pausing', () => {
    const { throttle, handled, events } = setup(5);
    for (let id = 0; id < 5; id++) throttle.receive(request(id));
    expect(handled).toEqual([0, 1, 2, 3, 4]);
    expect(events).toEqual([]);
  });

  it('pauses when in debt, holds later frames in order, and handles them all once the debt is paid', () => {
    const { throttle, handled, events, time } = setup(10);
    for (let id = 0; id < 15; id++) throttle.receive(request(id));
    // The 11th request went into debt: it is handled, then reading pauses.
    expect(handled).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(events).toEqual(['pause']);
    expect(throttle.paused).toBe(true);
    // Debt: 5 requests at 10/s = 500 ms.
    time.advance(499);
    expect(handled).toHaveLength(11);
    time.advance(1);
    expect(handled).toEqual(Array.from({ length: 15 }, (_, i) => i));
    expect(events).toEqual(['pause', 'resume']);
    expect(throttle.paused).toBe(false);
  });

  it('charges data packets to the byte rate only', () => {
    const { throttle, handled, events, time } = setup(Infinity, 2000);
    const frames = encodePackets(1, 't', new Uint8Array(4000));
    for (const frame of frames) throttle.receive(frame);
    expect(events).toEqual(['pause']);
    expect(handled.length).toBeLessThan(frames.length);
    time.advance(2000);
    expect(handled).toHaveLength(frames.length);
    expect(events).toEqual(['pause', 'resume']);
  });

  it('stop drops held frames and cancels the timer', () => {
    const { throttle, handled, time } = setup(1);
    for (let id = 0; id < 4; id++) throttle.receive(request(id));
    throttle.stop();
    expect(time.pendingCount()).toBe(0);
    time.advance(10_000);
    throttle.receive(request(9));
    expect(handled).toEqual([0, 1]);
  });

  it('reports an exception from a held frame instead of throwing from the timer', () => {
    const time = manualTime();
    const events: string[] = [];
    let calls = 0;
    const throttle = new InboundThrottle({ messagesPerSecond: 1, bytesPerSecond: Infinity, maxMessageBytes: 1 }, time.clock, time.timers, {
      handle: () => {
        if (++calls === 3) throw new Error('boom');
      },
      pause: () => events.push('pause'),
      resume: () => events.push('resume'),
      failed: (error) => events.push(`failed ${(error as Error).message}`),
    });
    for (let id = 0; id < 3; id++) throttle.receive(request(id));
    expect(() => time.advance(5000)).not.toThrow();
    expect(events).toEqual(['pause', 'failed boom']);
  });
});
