/**
 * Rate limits as backpressure: every incoming frame is charged when it
 * arrives (bytes, and one request per packet 0). While a bucket is in debt
 * the connection stops reading, so TCP slows the sender. Frames the
 * transport had already read are held in order and passed on once their
 * cost is paid. Nothing is refused for rate, and what is held is bounded by
 * one transport read. (Server time is shared by the {@link FairScheduler},
 * which bites only when the loop is congested.)
 */
import { DATA_PACKET_HEADER_SIZE } from '../../protocol/index.js';
import { TokenBucket, type Clock, type Timers } from './token-bucket.js';

/** Rates an {@link InboundThrottle} enforces. */
export interface ThrottleRates {
  /** Requests (packet 0s) per second; the burst is one second's worth. */
  readonly messagesPerSecond: number;
  /** Frame bytes per second; the burst is one second's worth, at least `maxMessageBytes`. */
  readonly bytesPerSecond: number;
  /** Largest message, so a maximal one always fits in a burst. */
  readonly maxMessageBytes: number;
}

/** What the throttle drives. */
export interface ThrottleTarget {
  /** Takes one frame whose cost is paid. */
  handle(frame: Uint8Array): void;
  /** Stops reading from the transport. */
  pause(): void;
  /** Reads again. */
  resume(): void;
  /** An exception escaped {@link ThrottleTarget.handle} on a timer (no caller to catch it). */
  failed(error: unknown): void;
}

/** True for a packet 0 (index bytes 8..11 all zero): one request. */
function isFirstPacket(frame: Uint8Array): boolean {
  return frame.byteLength >= DATA_PACKET_HEADER_SIZE && (frame[8] | frame[9] | frame[10] | frame[11]) === 0;
}

/** One connection's inbound rate limits (see the file comment). */
export class InboundThrottle {
  private readonly messages: TokenBucket;
  private readonly bytes: TokenBucket;
  private backlog: Uint8Array[] = [];
  private timer: unknown;
  private stopped = false;

  constructor(
    rates: ThrottleRates,
    clock: Clock,
    private readonly timers: Timers,
    private readonly target: ThrottleTarget,
  ) {
    this.messages = new TokenBucket(rates.messagesPerSecond, rates.messagesPerSecond, clock);
    this.bytes = new TokenBucket(rates.bytesPerSecond, Math.max(rates.bytesPerSecond, rates.maxMessageBytes), clock);
  }

  /** True while reading is paused until the buckets refill. */
  get paused(): boolean {
    return this.timer !== undefined;
  }

  /** Charges one arriving frame, then handles it now or, while paused, after the ones before it. */
  receive(frame: Uint8Array): void {
    if (this.stopped) return;
    this.bytes.charge(frame.byteLength);
    if (isFirstPacket(frame)) this.messages.charge(1);
    if (this.timer !== undefined) {
      this.backlog.push(frame);
      return;
    }
    this.target.handle(frame);
    this.throttle();
  }

  /** Forgets held frames but keeps the debt (a resumable session's connection dropped; its client re-sends). */
  discardBacklog(): void {
    this.backlog = [];
  }

  /** Forgets held frames and cancels the timer (the connection is gone). */
  stop(): void {
    this.stopped = true;
    this.backlog = [];
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private wait(): number {
    return Math.max(this.messages.deficitMs(), this.bytes.deficitMs());
  }

  /** Pauses reading while in debt. */
  private throttle(): void {
    if (this.stopped) return;
    const wait = this.wait();
    if (wait <= 0) return;
    this.target.pause();
    this.timer = this.timers.setTimeout(this.refilled, wait);
  }

  private readonly refilled = (): void => {
    this.timer = undefined;
    if (this.stopped) return;
    const wait = this.wait();
    if (wait > 0) {
      this.timer = this.timers.setTimeout(this.refilled, wait);
      return;
    }
    // Every held frame was charged on arrival and the debt is paid: handle them all, in order.
    const backlog = this.backlog;
    this.backlog = [];
    try {
      for (let i = 0; i < backlog.length && !this.stopped; i++) this.target.handle(backlog[i]);
    } catch (error) {
      this.target.failed(error);
      return;
    }
    if (this.stopped) return;
    this.target.resume();
  };
}
