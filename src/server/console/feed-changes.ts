/**
 * What changed in the console's state since the last push: the tracker and
 * the inspected clients mark what they touched, and {@link FeedChanges.take}
 * reads those things as they are now into one {@link FeedDelta}, encoded
 * once for every viewer. A push costs what changed, never the whole state.
 */
import type { ClientActorDelta, FeedDelta, LogEntry, ParticipantView, RoomTraffic } from '../../console/feed-protocol.js';
import { CLIENT_LOG_LENGTH, type InspectedChange, type InspectedClients } from './inspected-clients.js';
import type { ParticipantTracker, TrackerListener } from './participant-tracker.js';

/** The changes since the last push. */
export class FeedChanges {
  private rooms = new Set<string>();
  /** Changed participants, with their room (to say where a gone one was). */
  private participants = new Map<string, string>();
  private clients = new Set<string>();
  /** Changed actors by client, with the entries they took since the last push. */
  private actors = new Map<string, Map<string, LogEntry[]>>();

  constructor(
    private readonly tracker: ParticipantTracker,
    private readonly inspected: InspectedClients,
  ) {}

  /** True when nothing changed since the last {@link FeedChanges.take}. */
  get empty(): boolean {
    return this.rooms.size === 0 && this.participants.size === 0 && this.clients.size === 0 && this.actors.size === 0;
  }

  /** Records a tracker change. */
  tracked(change: Parameters<TrackerListener>[0]): void {
    if (change.kind === 'room') this.rooms.add(change.room);
    else if (change.kind === 'participant') this.participants.set(change.participantId, change.room);
  }

  /** Records an inspected-client change. */
  inspectedChanged(change: InspectedChange): void {
    if (change.kind === 'client') {
      this.clients.add(change.client);
      return;
    }
    let actors = this.actors.get(change.client);
    if (actors === undefined) this.actors.set(change.client, (actors = new Map()));
    const entries = actors.get(change.actor) ?? [];
    actors.set(change.actor, entries);
    if (change.entry === undefined) return;
    entries.push(change.entry);
    // The page keeps no more than the server does.
    if (entries.length > CLIENT_LOG_LENGTH) entries.shift();
  }

  /** The delta of everything marked, read now; clears the marks. */
  take(): FeedDelta {
    const rooms: RoomTraffic[] = [];
    const removedRooms: string[] = [];
    for (const name of this.rooms) {
      const traffic = this.tracker.traffic(name);
      if (traffic === undefined) removedRooms.push(name);
      else rooms.push(traffic);
    }
    const participants: ParticipantView[] = [];
    const removedParticipants: { id: string; room: string }[] = [];
    for (const [id, room] of this.participants) {
      const view = this.tracker.participant(id);
      if (view === undefined) removedParticipants.push({ id, room });
      else participants.push(view);
    }
    const clients: { id: string; name: string }[] = [];
    const removedClients: string[] = [];
    for (const id of this.clients) {
      const name = this.inspected.clientName(id);
      if (name === undefined) removedClients.push(id);
      else clients.push({ id, name });
    }
    const actors: ClientActorDelta[] = [];
    const removedActors: { client: string; id: string }[] = [];
    for (const [client, changed] of this.actors) {
      for (const [id, entries] of changed) {
        const view = this.inspected.actorView(client, id);
        if (view === undefined) {
          // A removed client takes its actors with it.
          if (this.inspected.clientName(client) !== undefined) removedActors.push({ client, id });
          continue;
        }
        const { machine, label, title, attributes, states } = view;
        actors.push({ client, id, machine, label, title, attributes, states, entries });
      }
    }
    this.rooms = new Set();
    this.participants = new Map();
    this.clients = new Set();
    this.actors = new Map();
    return { type: 'delta', rooms, removedRooms, participants, removedParticipants, clients, removedClients, actors, removedActors };
  }
}
