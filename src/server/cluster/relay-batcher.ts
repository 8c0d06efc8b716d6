/**
 * Coalesces relays: consecutive relays to one channel within a tick leave as
 * one SPUBLISH (a `N` batch message), so a burst of direct messages to one
 * node costs Redis one command, not one each. A relay to another channel, or
 * any other publish (the caller flushes before its scripts), ends the batch
 * first, so publishes keep the order the messages were sent in: one sender's
 * messages stay in order across channels.
 *
 * Every relay of a batch gets the batch's receipt: how many subscribers the
 * publish reached (SPUBLISH's answer), so a sender learns whether a node took
 * its message.
 */
import { encodeBatch } from './bus.js';

/**
 * Publishes one message on a channel; resolves to the number of subscribers
 * that got it. With `stream`, the message is also kept in that relay stream
 * (some recipient is resumable: docs/cluster.md#resuming-after-a-node-died).
 */
export type Publish = (channel: string, message: Buffer, stream: string | undefined) => Promise<number>;

/** One batch's receipt, settled when its publish is answered. */
class Receipt {
  readonly promise: Promise<number>;
  resolve!: (receivers: number) => void;
  reject!: (error: unknown) => void;

  constructor() {
    this.promise = new Promise<number>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

/** Batches consecutive same-channel relays until the end of the tick. */
export class RelayBatcher {
  private channel: string | undefined;
  private readonly pending: Buffer[] = [];
  private receipt: Receipt | undefined;
  /** Set when some relay of the batch must be kept in a relay stream (one room's: a channel is one room's). */
  private stream: string | undefined;
  private scheduled = false;

  constructor(private readonly publish: Publish) {}

  /** Queues `message` for `channel` (kept in `stream` too, when given); resolves to the receivers of the publish that carries it. */
  add(channel: string, message: Buffer, stream?: string): Promise<number> {
    if (channel !== this.channel) {
      this.flush();
      this.channel = channel;
    }
    this.pending.push(message);
    if (stream !== undefined) this.stream = stream;
    this.receipt ??= new Receipt();
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flushLater);
    }
    return this.receipt.promise;
  }

  /** Publishes what is queued now. */
  flush(): void {
    const count = this.pending.length;
    const receipt = this.receipt;
    if (count === 0 || this.channel === undefined || receipt === undefined) return;
    const message = count === 1 ? this.pending[0] : encodeBatch(this.pending);
    const stream = this.stream;
    this.pending.length = 0;
    this.receipt = undefined;
    this.stream = undefined;
    let published: Promise<number>;
    try {
      published = this.publish(this.channel, message, stream);
    } catch (error) {
      published = Promise.reject(error);
    }
    published.then(receipt.resolve, receipt.reject);
  }

  private readonly flushLater = (): void => {
    this.scheduled = false;
    this.flush();
  };
}
