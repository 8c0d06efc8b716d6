/**
 * What a late opener of a thread is sent: the running turn's events so far
 * (bounded, oldest dropped first, as MeshAgent keeps 512), then the
 * acceptances of the turns still queued. Kept per thread, cleared when the
 * turn ends.
 *
 * @packageDocumentation
 */

type Body = Record<string, unknown>;

/** The replay buffers of an agent's threads. */
export class ThreadEvents {
  private readonly running = new Map<string, { readonly messageId: string; readonly events: Body[] }>();
  private readonly queued = new Map<string, Map<string, Body>>();

  constructor(private readonly limit: number) {}

  /** A turn was accepted and waits: its `turn.start.accepted`. */
  queue(threadId: string, messageId: string, accepted: Body): void {
    let turns = this.queued.get(threadId);
    if (turns === undefined) this.queued.set(threadId, (turns = new Map()));
    turns.set(messageId, accepted);
  }

  /** The turn started: its acceptance opens the running turn's buffer. */
  begin(threadId: string, messageId: string): void {
    const turns = this.queued.get(threadId);
    const accepted = turns?.get(messageId);
    turns?.delete(messageId);
    if (turns?.size === 0) this.queued.delete(threadId);
    this.running.set(threadId, { messageId, events: accepted === undefined ? [] : [accepted] });
  }

  /** An event of the running turn. */
  record(threadId: string, body: Body): void {
    const turn = this.running.get(threadId);
    if (turn === undefined) return;
    turn.events.push(body);
    if (turn.events.length > this.limit) turn.events.splice(0, turn.events.length - this.limit);
  }

  /** The turn ended: its buffer goes. */
  end(threadId: string, messageId: string): void {
    if (this.running.get(threadId)?.messageId === messageId) this.running.delete(threadId);
    this.queued.get(threadId)?.delete(messageId);
  }

  /** What to send a late opener, in order. */
  replay(threadId: string): Body[] {
    return [...(this.running.get(threadId)?.events ?? []), ...(this.queued.get(threadId)?.values() ?? [])];
  }
}
