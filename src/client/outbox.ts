/**
 * The outbox: user sends and broadcasts, in the order they were made.
 *
 * A send goes out at once while the messaging machine's state has the
 * `canSend` tag; otherwise (enabling, reconnecting, not started) it waits in
 * the queue, and the machine's `outbox.flush` effect sends the queue in
 * order. Nothing is dropped silently:
 * - the room closing for good, or the user disabling messaging, rejects each
 *   queued send with a typed error (or resolves it, for `ignoreOffline`);
 * - a send already written when its websocket closes is put back in the
 *   queue in its original place and sent again after the reconnect
 *   (at-least-once: if the server had delivered it before the drop, the
 *   recipient sees it twice);
 * - the target is resolved when the send goes out, so a participant that
 *   left while the send waited fails with {@link ParticipantNotFoundError}.
 *
 * At most `window` sends are written and unanswered at a time; the rest wait
 * in the queue, in order, and go out as answers come back. A burst of any
 * size is therefore paced by the server's answers (which a rate-limited
 * server delays), never refused by the client, and what sits in the
 * socket's buffer stays bounded.
 *
 * @packageDocumentation
 */
import { RoomServerError } from '../errors.js';
import { ErrorCode, PARTICIPANT_NOT_FOUND_TEXT } from '../protocol/error-codes.js';
import { ParticipantNotFoundError } from './errors.js';
import { LinkLostError } from './requests.js';
import type { SocketPort } from './socket-port.js';
import { messageArguments } from '../protocol/messaging.js';

/** One queued or in-flight send. */
export interface OutboxItem {
  readonly tool: 'send' | 'broadcast';
  /** The target as given; resolved to an id when the send goes out. */
  readonly to?: unknown;
  readonly type: string;
  readonly message: unknown;
  /** `JSON.stringify(message)`, if already computed (saves a second stringify per send). */
  readonly messageJson?: string;
  readonly attachment?: Uint8Array;
  readonly ignoreOffline: boolean;
}

interface Entry {
  readonly item: OutboxItem;
  readonly seq: number;
  resolve(): void;
  reject(error: unknown): void;
  /** The resolved target of the send in flight. */
  target: string | undefined;
}

/** What the outbox needs from the client. */
export interface OutboxDeps {
  /** True while sends may go out now (the `canSend` tag). */
  canSend(): boolean;
  /** The error to refuse sends with when messaging has ended for good, else undefined. */
  refusal(): Error | undefined;
  /** Most sends written and awaiting their answer at once. */
  readonly window: number;
  /** The participant id a target resolves to, or undefined when it is not (or no longer) present. */
  resolveTarget(to: unknown): string | undefined;
}

/** True when `error` is the server's "the participant was not found" answer. */
export function isNotFound(error: unknown): boolean {
  return error instanceof RoomServerError && (error.message === PARTICIPANT_NOT_FOUND_TEXT || error.protocolCode === ErrorCode.NotFound);
}

/** The ordered queue of user sends. */
export class Outbox {
  private seq = 0;
  private queue: Entry[] = [];
  private readonly inFlight = new Set<Entry>();
  private port: SocketPort | undefined;

  constructor(private readonly deps: OutboxDeps) {}

  /**
   * Sends go out through `port` (handed over by the pipeline; the one road
   * to the socket), and "not found" answers go back out of it. Until a port
   * is given, nothing is written: a send that would go out fails as if the
   * socket had closed, and waits for the next flush.
   */
  use(port: SocketPort): void {
    this.port = port;
  }

  /** Number of sends waiting to go out. */
  get queued(): number {
    return this.queue.length;
  }

  /** Number of sends written and awaiting their answer. */
  get pending(): number {
    return this.inFlight.size;
  }

  /** Queues a send; it goes out now if allowed. Settles with the server's answer. */
  submit(item: OutboxItem): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const entry: Entry = { item, seq: this.seq++, resolve, reject, target: undefined };
      const refusal = this.deps.refusal();
      if (refusal !== undefined) {
        this.fail(entry, refusal);
        return;
      }
      // Nothing waiting, room in the window and sending allowed: straight out, order is kept.
      if (this.queue.length === 0 && this.inFlight.size < this.deps.window && this.deps.canSend()) this.dispatch(entry);
      else {
        this.queue.push(entry);
        this.flush();
      }
    });
  }

  /** Sends what is queued, in order, while sending is allowed and the window has room. */
  flush(): void {
    while (this.queue.length > 0 && this.inFlight.size < this.deps.window && this.deps.canSend()) this.dispatch(this.queue.shift()!);
  }

  /** Rejects every queued send with `error` (resolving those sent with `ignoreOffline`). */
  rejectAll(error: Error): void {
    const queue = this.queue;
    this.queue = [];
    for (const entry of queue) this.fail(entry, error);
  }

  private fail(entry: Entry, error: unknown): void {
    if (entry.item.ignoreOffline) entry.resolve();
    else entry.reject(error);
  }

  private dispatch(entry: Entry): void {
    const item = entry.item;
    let json: Record<string, unknown>;
    if (item.tool === 'send') {
      const target = this.deps.resolveTarget(item.to);
      if (target === undefined) {
        this.fail(entry, new ParticipantNotFoundError(typeof item.to === 'string' ? item.to : String((item.to as { id?: unknown })?.id ?? '')));
        return;
      }
      entry.target = target;
      json = messageArguments({ toParticipantId: target, type: item.type, message: item.message, messageJson: item.messageJson });
    } else {
      json = messageArguments({ type: item.type, message: item.message, messageJson: item.messageJson });
    }
    this.inFlight.add(entry);
    // The entry's own promise is settled from the answer: one promise per send, not two.
    const pending = {
      resolve: () => {
        this.inFlight.delete(entry);
        entry.resolve();
        this.flush();
      },
      reject: (error: unknown) => {
        this.inFlight.delete(entry);
        this.failed(entry, error);
        // A lost link puts the entry back; the next connection's `outbox.flush` sends it.
        if (!(error instanceof LinkLostError)) this.flush();
      },
    };
    if (this.port === undefined) queueMicrotask(() => pending.reject(new LinkLostError()));
    else this.port.invoke(item.tool, json, pending, item.attachment);
  }

  private failed(entry: Entry, error: unknown): void {
    const target = entry.target;
    if (error instanceof LinkLostError) {
      const refusal = this.deps.refusal();
      if (refusal !== undefined) {
        this.fail(entry, refusal);
        return;
      }
      // Back in its original place; the next `outbox.flush` (after the reconnect) sends it again.
      const at = this.queue.findIndex((queued) => queued.seq > entry.seq);
      if (at === -1) this.queue.push(entry);
      else this.queue.splice(at, 0, entry);
      return;
    }
    if (target !== undefined && isNotFound(error)) {
      // The recipient is gone: the messaging machine drops it from presence, as the official client does.
      this.port?.answer({ type: 'participant.not_found', participantId: target });
      this.fail(entry, new ParticipantNotFoundError(target, { cause: error }));
      return;
    }
    entry.reject(error);
  }
}
