/**
 * A participant session's lifecycle, run by the `participant-session`
 * machine (machines/participant-session.ts, the definition) without an actor
 * per session: XState's pure `transition()` computes each step, and every
 * session in the same state shares one snapshot object (the machine has no
 * context, so a state value names its snapshot). A session then holds a
 * reference and a callback instead of an actor (about 5 KB each: mailbox,
 * system, listeners, bound methods), which matters at 10,000 in a room.
 * Emitted effects run in order, as an actor runs them; an event sent while
 * one is being handled waits for it, as in an actor's mailbox.
 */
import { initialTransition, transition, type SnapshotFrom, type StateValue } from 'xstate';
import { participantSessionMachine, type ParticipantSessionEmitted, type ParticipantSessionEvent } from '../../../machines/participant-session.js';

type Snapshot = SnapshotFrom<typeof participantSessionMachine>;

/** Told of every step: the event's type (`xstate.init` at the start) and the state it led to. */
export type LifecycleInspector = (eventType: string, value: StateValue) => void;

/** One shared snapshot per state the machine reaches. */
const shared = new Map<string, Snapshot>();

function canonical(snapshot: Snapshot): Snapshot {
  const key = `${snapshot.status}:${JSON.stringify(snapshot.value)}`;
  const known = shared.get(key);
  if (known !== undefined) return known;
  shared.set(key, snapshot);
  return snapshot;
}

/** The machine's initial step, computed once for every session. */
const initial = initialTransition(participantSessionMachine);
const INITIAL = canonical(initial[0]);
const INITIAL_EMITTED = emittedOf(initial[1]);

function emittedOf(actions: ReadonlyArray<{ type: string; params?: unknown }>): ParticipantSessionEmitted[] {
  const out: ParticipantSessionEmitted[] = [];
  for (const action of actions) {
    if (action.type === 'xstate.emit') out.push((action.params as { event: ParticipantSessionEmitted }).event);
  }
  return out;
}

/** One session's place in the `participant-session` machine (see the file comment). */
export class SessionLifecycle {
  private snapshot: Snapshot | undefined;
  /** Events sent while one was being handled (an actor's mailbox); undefined when idle. */
  private queue: ParticipantSessionEvent[] | undefined;

  constructor(
    private readonly effect: (emitted: ParticipantSessionEmitted) => void,
    private readonly inspect?: LifecycleInspector,
  ) {}

  /** Enters the initial state (`connected.disabled`). */
  start(): void {
    if (this.snapshot !== undefined) return;
    this.snapshot = INITIAL;
    this.inspect?.('xstate.init', INITIAL.value);
    for (const emitted of INITIAL_EMITTED) this.effect(emitted);
  }

  /**
   * Enters `connected.enabled` (or `connected.disabled`) without performing
   * what getting there emits: a session taken over from a dead node was in
   * that state already, and the room was told so then.
   */
  restore(enabled: boolean): void {
    if (this.snapshot !== undefined) return;
    this.snapshot = enabled ? canonical(transition(participantSessionMachine, INITIAL, { type: 'messaging.enable' })[0]) : INITIAL;
    this.inspect?.('xstate.init', this.snapshot.value);
  }

  /** Sends an event; ignored before the start and once the machine is done. */
  send(event: ParticipantSessionEvent): void {
    if (this.queue !== undefined) {
      this.queue.push(event);
      return;
    }
    this.queue = [];
    try {
      for (let next: ParticipantSessionEvent | undefined = event; next !== undefined; next = this.queue.shift()) this.step(next);
    } finally {
      this.queue = undefined;
    }
  }

  private step(event: ParticipantSessionEvent): void {
    const current = this.snapshot;
    if (current === undefined || current.status !== 'active') return;
    const [next, actions] = transition(participantSessionMachine, current, event);
    this.snapshot = canonical(next);
    this.inspect?.(event.type, next.value);
    for (const emitted of emittedOf(actions)) this.effect(emitted);
  }
}
