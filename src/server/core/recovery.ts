/**
 * The recovery buffer of one resumable session
 * (docs/PROTOCOL.md#extension-resumable-participants): every message the
 * session is sent after `connected` gets the next sequence number, and the
 * latest ones are held (references to the encoded frames, which a fan-out
 * shares) so that a client whose connection dropped can be sent what it
 * missed. Only sessions that asked for a resume key have one; the others
 * pay nothing.
 *
 * While attached, what the client is known to have read is let go
 * ({@link RecoveryBuffer.acknowledge}: a heartbeat's pong vouches for every
 * message written before its ping), and the oldest messages make room for
 * new ones. While detached, only messages sent before the drop may make
 * room: one more message than the limits hold ends the session
 * ({@link RecoveryBuffer.push} says so).
 */
import { MessageType, type ProtocolMessage } from '../../protocol/index.js';
import { ResumeRefusal } from '../../protocol/resume.js';
import type { OutgoingMessage } from './outgoing-message.js';

/** The limits of one buffer. */
export interface RecoveryLimits {
  readonly maxRecoveryMessages: number;
  readonly maxRecoveryBytes: number;
}

/** The session's sent messages and the requests it handled, for a resume. */
export class RecoveryBuffer {
  /** Sequence number of the last message sent (0 before the first). */
  private sent = 0;
  /** Held messages, oldest first from {@link RecoveryBuffer.head}; the one at `head` has sequence {@link RecoveryBuffer.first}. */
  private held: OutgoingMessage[] = [];
  private head = 0;
  private first = 1;
  private bytes = 0;
  /** Sequence number of the last message sent before the drop; undefined while attached. */
  private detachedAt: number | undefined;
  /** Highest request id the session handled (client requests are numbered upwards); -1 before any. */
  lastRequestId = -1;

  /**
   * `start`: messages the client already received (a session restored on
   * another node goes on numbering from there), and the last request id it
   * had handled.
   */
  constructor(
    private readonly limits: RecoveryLimits,
    start?: { readonly received: number; readonly lastRequestId: number },
  ) {
    if (start === undefined) return;
    this.sent = start.received;
    this.first = start.received + 1;
    this.lastRequestId = start.lastRequestId;
  }

  /** The held messages numbered `from` to `to`, oldest first (those let go already are skipped). */
  range(from: number, to: number): OutgoingMessage[] {
    const start = Math.max(from, this.first) - this.first + this.head;
    return this.held.slice(start, Math.max(start, to - this.first + 1 + this.head));
  }

  /** Messages held now. */
  get count(): number {
    return this.held.length - this.head;
  }

  /** Sequence number of the last message sent (0 before the first). */
  get sentCount(): number {
    return this.sent;
  }

  /**
   * The client has read every message up to sequence `received` (a pong to a
   * ping written after them): they are let go, since a resume never asks for
   * them again. Ignored while detached.
   */
  acknowledge(received: number): void {
    if (this.detachedAt !== undefined) return;
    while (this.count > 0 && this.first <= received) this.dropOldest();
  }

  /** Whether the connection is gone and the session waits for a resume. */
  get detached(): boolean {
    return this.detachedAt !== undefined;
  }

  /**
   * Numbers and holds `message`. False when the session is detached and
   * holding it would go over a limit with nothing sent before the drop left
   * to let go of: the session must end.
   */
  push(message: OutgoingMessage): boolean {
    this.sent++;
    this.held.push(message);
    this.bytes += message.wire.length;
    const { maxRecoveryMessages, maxRecoveryBytes } = this.limits;
    while (this.count > maxRecoveryMessages || this.bytes > maxRecoveryBytes) {
      if (this.detachedAt !== undefined && this.first > this.detachedAt) return false;
      this.dropOldest();
    }
    return true;
  }

  private dropOldest(): void {
    this.bytes -= this.held[this.head]!.wire.length;
    this.held[this.head] = undefined as unknown as OutgoingMessage;
    this.head++;
    this.first++;
    // Compacted now and then, so dropping stays O(1) amortised.
    if (this.head > 1024 && this.head * 2 > this.held.length) {
      this.held = this.held.slice(this.head);
      this.head = 0;
    }
  }

  /** The connection dropped: from now on only what was sent before may make room. */
  detach(): void {
    this.detachedAt = this.sent;
  }

  /**
   * The messages after the client's `received` count, oldest first, or why
   * they cannot be had; on success the buffer is attached again.
   */
  resume(received: number): OutgoingMessage[] | ResumeRefusal {
    const refusal = this.check(received);
    if (refusal !== undefined) return refusal;
    this.detachedAt = undefined;
    return this.held.slice(this.head + (received + 1 - this.first));
  }

  /** Why a client that received `received` messages cannot resume; undefined when it can. */
  check(received: number): ResumeRefusal | undefined {
    if (received > this.sent) return ResumeRefusal.BadCount;
    if (received + 1 < this.first) return ResumeRefusal.Gap;
    return undefined;
  }

  /**
   * Whether a client request is new: its id is above every id handled so
   * far. A request re-sent after a resume, already handled, is not (its
   * answer is in the replay).
   */
  admit(message: ProtocolMessage): boolean {
    if (message.type !== MessageType.InvokeTool && message.type !== MessageType.SetAttributes) return true;
    if (message.id <= this.lastRequestId) return false;
    this.lastRequestId = message.id;
    return true;
  }
}
