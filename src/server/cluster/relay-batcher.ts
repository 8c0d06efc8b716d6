/**
 * Coalesces relays: consecutive relays to one channel within a tick leave as
 * one SPUBLISH (a `N` batch message), so a burst of direct messages to one
 * node costs Redis one command, not one each. A relay to another channel, or
 * any other publish (the caller flushes before its scripts), ends the batch
 * first, so publishes keep the order the messages were sent in: one sender's
 * messages stay in order across channels.
 */
import { encodeBatch } from './bus.js';

/** Publishes one message on a channel. */
export type Publish = (channel: string, message: Buffer) => void;

/** Batches consecutive same-channel relays until the end of the tick. */
export class RelayBatcher {
  private channel: string | undefined;
  private readonly pending: Buffer[] = [];
  private scheduled = false;

  constructor(private readonly publish: Publish) {}

  /** Queues `message` for `channel`. */
  add(channel: string, message: Buffer): void {
    if (channel !== this.channel) {
      this.flush();
      this.channel = channel;
    }
    this.pending.push(message);
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flushLater);
    }
  }

  /** Publishes what is queued now. */
  flush(): void {
    const count = this.pending.length;
    if (count === 0 || this.channel === undefined) return;
    const message = count === 1 ? this.pending[0] : encodeBatch(this.pending);
    this.pending.length = 0;
    this.publish(this.channel, message);
  }

  private readonly flushLater = (): void => {
    this.scheduled = false;
    this.flush();
  };
}
