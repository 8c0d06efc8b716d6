/**
 * What the console knows of this server's participants, kept by listening
 * to the server observer: each live session (read at each view, so the
 * fields are what the server holds now), its `participant-session` state,
 * the events it took, and user-message counts per room.
 */
import type { StateValue } from 'xstate';
import { activeStateIds } from '../../diagram/statechart.js';
import { participantSessionMachine } from '../../../machines/participant-session.js';
import type { ObservedSession, RequestKind, ServerObserver } from '../core/observer.js';
import type { LogEntry, ParticipantView, RoomTraffic, RoomView } from '../../console/feed-protocol.js';

/** Events kept per participant. */
export const LOG_LENGTH = 200;

interface Tracked {
  readonly session: ObservedSession;
  states: string[];
  readonly log: LogEntry[];
}

interface Traffic {
  /** Participants tracked in the room. */
  participants: number;
  messages: number;
  bytes: number;
  /** Counts at the last {@link ParticipantTracker.tick}. */
  lastMessages: number;
  lastBytes: number;
  messagesPerSecond: number;
  bytesPerSecond: number;
}

/**
 * Listener of tracker changes: a participant appeared, changed or left
 * (read it with {@link ParticipantTracker.participant}), a room's traffic
 * changed ({@link ParticipantTracker.traffic}), or a participant took an event (`log`).
 */
export type TrackerListener = (
  change:
    | { kind: 'participant'; participantId: string; room: string }
    | { kind: 'room'; room: string }
    | { kind: 'log'; participantId: string; entry: LogEntry },
) => void;

const USER_MESSAGES: ReadonlySet<RequestKind> = new Set(['direct', 'broadcast']);

/** Participants and traffic of one server, for the console. */
export class ParticipantTracker {
  private readonly tracked = new Map<string, Tracked>();
  private readonly counts = new Map<string, Traffic>();
  private readonly listeners = new Set<TrackerListener>();

  constructor(
    private readonly now: () => number = Date.now,
    /** This server's cluster node id; null when not clustered. */
    private readonly node: () => string | null = () => null,
  ) {}

  /** The observer methods the tracker needs. */
  readonly observer: Partial<ServerObserver> = {
    sessionTransition: (session, event, value) => this.transition(session, event, value),
    requestReceived: (kind, bytes, room) => {
      if (!USER_MESSAGES.has(kind)) return;
      const traffic = this.trafficOf(room);
      traffic.messages++;
      traffic.bytes += bytes;
    },
    attributesChanged: (room, participantId) => this.changed(room, participantId),
    participantDetached: (room, participantId) => this.changed(room, participantId),
    participantResumed: (room, participantId) => this.changed(room, participantId),
  };

  /** Calls `listener` on every change; returns the unsubscribe. */
  subscribe(listener: TrackerListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Recomputes the per-second rates from the counts since the last tick, `seconds` ago. */
  tick(seconds: number): void {
    for (const [room, traffic] of this.counts) {
      const messagesPerSecond = (traffic.messages - traffic.lastMessages) / seconds;
      const bytesPerSecond = (traffic.bytes - traffic.lastBytes) / seconds;
      const changed = messagesPerSecond !== traffic.messagesPerSecond || bytesPerSecond !== traffic.bytesPerSecond || traffic.messages !== traffic.lastMessages;
      Object.assign(traffic, { messagesPerSecond, bytesPerSecond, lastMessages: traffic.messages, lastBytes: traffic.bytes });
      if (changed && traffic.participants > 0) this.emit({ kind: 'room', room });
    }
  }

  /** Every room with participants, by name, each with its participants in joining order. */
  rooms(): RoomView[] {
    const rooms = new Map<string, ParticipantView[]>();
    for (const tracked of this.tracked.values()) {
      const view = this.view(tracked);
      const list = rooms.get(view.room);
      if (list === undefined) rooms.set(view.room, [view]);
      else list.push(view);
    }
    return [...rooms].sort(([a], [b]) => a.localeCompare(b)).map(([name, participants]) => ({ ...this.traffic(name)!, participants }));
  }

  /** Participant `id` as the server holds it now; undefined once it left. */
  participant(id: string): ParticipantView | undefined {
    const tracked = this.tracked.get(id);
    return tracked === undefined ? undefined : this.view(tracked);
  }

  /** Room `name`'s traffic; undefined when it has no participants. */
  traffic(name: string): RoomTraffic | undefined {
    const traffic = this.counts.get(name);
    if (traffic === undefined || traffic.participants === 0) return undefined;
    const { messages, bytes, messagesPerSecond, bytesPerSecond } = traffic;
    return { name, messages, bytes, messagesPerSecond, bytesPerSecond };
  }

  /** The events participant `id` took, oldest first; empty when unknown. */
  log(id: string): readonly LogEntry[] {
    return this.tracked.get(id)?.log ?? [];
  }

  /** A tracked participant's fields changed (read live at the next view). */
  private changed(room: string, participantId: string): void {
    if (this.tracked.has(participantId)) this.emit({ kind: 'participant', participantId, room });
  }

  private view({ session, states }: Tracked): ParticipantView {
    return {
      id: session.id,
      room: session.room.name,
      name: session.name,
      role: session.role,
      enabled: session.enabled,
      detached: session.detached,
      attributes: session.attributes,
      node: this.node(),
      states,
    };
  }

  private transition(session: ObservedSession, event: string, value: StateValue): void {
    const states = activeStateIds(participantSessionMachine.id, value);
    const entry: LogEntry = { at: this.now(), event, states };
    let tracked = this.tracked.get(session.id);
    if (tracked === undefined) {
      tracked = { session, states, log: [] };
      this.tracked.set(session.id, tracked);
      if (this.trafficOf(session.room.name).participants++ === 0) this.emit({ kind: 'room', room: session.room.name });
    }
    tracked.states = states;
    tracked.log.push(entry);
    if (tracked.log.length > LOG_LENGTH) tracked.log.shift();
    if (states.some((id) => participantSessionMachine.getStateNodeById(id).type === 'final')) {
      this.tracked.delete(session.id);
      const traffic = this.trafficOf(session.room.name);
      if (--traffic.participants === 0) {
        this.counts.delete(session.room.name);
        this.emit({ kind: 'room', room: session.room.name });
      }
    }
    this.emit({ kind: 'log', participantId: session.id, entry });
    this.emit({ kind: 'participant', participantId: session.id, room: session.room.name });
  }

  private trafficOf(room: string): Traffic {
    let traffic = this.counts.get(room);
    if (traffic === undefined) {
      traffic = { participants: 0, messages: 0, bytes: 0, lastMessages: 0, lastBytes: 0, messagesPerSecond: 0, bytesPerSecond: 0 };
      this.counts.set(room, traffic);
    }
    return traffic;
  }

  private emit(change: Parameters<TrackerListener>[0]): void {
    for (const listener of this.listeners) listener(change);
  }
}
