/**
 * What a console page knows of its server: the whole state of the first
 * push, with every later delta applied to it. No DOM: the views read it.
 */
import type { ClientActorView, FeedDelta, FeedMessage, InspectedClientView, LogEntry, ParticipantView, RoomTraffic, RoomView } from '../feed-protocol.js';

/** Log entries kept per client actor on the page (the cards show the last ones). */
const PAGE_LOG_LENGTH = 20;

interface Room {
  traffic: RoomTraffic;
  readonly participants: Map<string, ParticipantView>;
}

interface Actor extends Omit<ClientActorView, 'log'> {
  readonly log: LogEntry[];
}

interface Client {
  name: string;
  readonly actors: Map<string, Actor>;
}

/** The rooms and inspected clients, as pushed. */
export class FeedModel {
  private readonly rooms = new Map<string, Room>();
  private readonly clients = new Map<string, Client>();

  /** Applies a `state` (replacing everything) or a `delta` push. */
  apply(message: Extract<FeedMessage, { type: 'state' } | { type: 'delta' }>): void {
    if (message.type === 'delta') return this.applyDelta(message);
    this.rooms.clear();
    this.clients.clear();
    for (const { participants, ...traffic } of message.rooms) this.rooms.set(traffic.name, { traffic, participants: new Map(participants.map((p) => [p.id, p])) });
    for (const client of message.clients) {
      this.clients.set(client.id, { name: client.name, actors: new Map(client.actors.map((actor) => [actor.id, { ...actor, log: [...actor.log] }])) });
    }
  }

  /** Rooms by name, each with its participants in the order they came. */
  roomViews(): RoomView[] {
    return [...this.rooms.values()].sort((a, b) => a.traffic.name.localeCompare(b.traffic.name)).map((room) => ({ ...room.traffic, participants: [...room.participants.values()] }));
  }

  /** Inspected clients in the order they came, each with its actors. */
  clientViews(): InspectedClientView[] {
    return [...this.clients].map(([id, client]) => ({ id, name: client.name, actors: [...client.actors.values()] }));
  }

  /** Participant `id`, while it is connected. */
  participant(id: string): ParticipantView | undefined {
    for (const room of this.rooms.values()) {
      const found = room.participants.get(id);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  private applyDelta(delta: FeedDelta): void {
    for (const traffic of delta.rooms) this.room(traffic.name).traffic = traffic;
    for (const participant of delta.participants) this.room(participant.room).participants.set(participant.id, participant);
    for (const { id, room } of delta.removedParticipants) this.rooms.get(room)?.participants.delete(id);
    for (const name of delta.removedRooms) this.rooms.delete(name);
    for (const { id, name } of delta.clients) this.client(id).name = name;
    for (const { client: clientId, entries, ...fields } of delta.actors) {
      const actors = this.client(clientId).actors;
      const actor = actors.get(fields.id) ?? { ...fields, log: [] };
      actors.set(fields.id, Object.assign(actor, fields));
      actor.log.push(...entries);
      if (actor.log.length > PAGE_LOG_LENGTH) actor.log.splice(0, actor.log.length - PAGE_LOG_LENGTH);
    }
    for (const { client, id } of delta.removedActors) this.clients.get(client)?.actors.delete(id);
    for (const id of delta.removedClients) this.clients.delete(id);
  }

  private room(name: string): Room {
    let room = this.rooms.get(name);
    if (room === undefined) {
      room = { traffic: { name, messages: 0, bytes: 0, messagesPerSecond: 0, bytesPerSecond: 0 }, participants: new Map() };
      this.rooms.set(name, room);
    }
    return room;
  }

  private client(id: string): Client {
    let client = this.clients.get(id);
    if (client === undefined) {
      client = { name: '', actors: new Map() };
      this.clients.set(id, client);
    }
    return client;
  }
}
