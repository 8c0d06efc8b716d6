/**
 * Presence pushes received together, applied together. `ws` hands the
 * messages of one socket read over one by one, synchronously; filling a
 * room delivers hundreds of `participant.*` pushes per read. Each one sent
 * to the messaging machine on its own costs a whole XState step (a new
 * snapshot, its observers); collected until the end of the read (a
 * microtask) they cost one `presence.changed` step for all.
 *
 * Order is kept: anything else the pipeline routes (a user message, a
 * snapshot, a command) flushes the pushes collected so far first, so no one
 * sees a message from a participant before that participant's presence.
 *
 * @packageDocumentation
 */
import type { PresencePush } from '../../machines/index.js';

/** Pushes collected since the last flush, handed to `deliver` in order. */
export class PresenceBatch {
  private pending: PresencePush[] = [];
  private scheduled = false;
  private closed = false;

  /** `deliver` gets one or more pushes, in arrival order. */
  constructor(private readonly deliver: (pushes: readonly PresencePush[]) => void) {}

  /** Collects one push; it is delivered at the next flush (at the latest, the end of this task). */
  add(push: PresencePush): void {
    if (this.closed) return;
    this.pending.push(push);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** Delivers what was collected, if anything. */
  flush(): void {
    if (this.pending.length === 0 || this.closed) return;
    const pushes = this.pending;
    this.pending = [];
    this.deliver(pushes);
  }

  /** Drops what was collected; later pushes are ignored (the pipeline was torn down). */
  close(): void {
    this.closed = true;
    this.pending = [];
  }
}

/** True for the presence pushes a {@link PresenceBatch} may collect. */
export function isPresencePush(event: { type: string }): event is PresencePush {
  return event.type === 'participant.enabled' || event.type === 'participant.disabled' || event.type === 'participant.attributes_changed';
}
