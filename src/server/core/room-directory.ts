/**
 * Room membership and fan-out, behind one interface with two implementations:
 * {@link InMemoryRoomDirectory} (one process, the default) and the Redis
 * directory of `src/server/cluster` (rooms that span several nodes).
 *
 * Admission is the one asynchronous step, because a cluster-wide count needs
 * a round trip: `reserve` (before the websocket handshake) counts the
 * participant against the limits and readies the room. Everything after that
 * stays synchronous, so the relay hot path never awaits.
 */
import type { FrameEncoder } from './frame-encoder.js';
import type { OutgoingMessage } from './outgoing-message.js';
import { PresenceRoster } from './presence-roster.js';
import type { PresenceChange, RoomMember } from './room-member.js';

/** One room: its members and the messaging-enabled subset. */
export interface Room {
  /** The room name (URL-decoded). */
  readonly name: string;
  /** Members (and reserved places) on this node. */
  readonly size: number;
  /** Members with messaging enabled (on every node the directory spans). */
  readonly enabledCount: number;
  /** The messaging-enabled member with this id, if any. */
  enabledMember(id: string): RoomMember | undefined;
  /**
   * The `messaging.enabled` push for `recipient`: the other enabled members
   * (on every node), or nobody when `listed` is false. Built at most once
   * per presence change and shared (see {@link PresenceRoster}).
   */
  snapshot(recipient: RoomMember, encoder: FrameEncoder, listed: boolean): OutgoingMessage;
  /**
   * Records `member`'s presence change (joins or leaves the enabled set, or
   * new attributes) and sends `announcement` to every other enabled member.
   * Never throws: a backplane that is down catches up when it is back.
   */
  announce(member: RoomMember, change: PresenceChange, announcement: OutgoingMessage): void;
  /**
   * Sends one encoded user message to every messaging-enabled member except
   * `except`. Throws a `RequestError` (and delivers nothing) when some
   * recipients are out of reach. With recipients on other nodes, returns a
   * promise that settles when the relay is published (rejecting with a
   * `RequestError` when it could not be).
   */
  fanOut(message: OutgoingMessage, except?: RoomMember): void | Promise<void>;
}

/** Why a participant cannot join now. */
export interface AdmissionRefusal {
  /** HTTP status for a refusal at the upgrade. */
  readonly status: number;
  /** Short reason (HTTP status text, or close reason). */
  readonly reason: string;
}

/** Room, participant and messaging-enabled counts. */
export interface DirectoryStats {
  rooms: number;
  participants: number;
  enabled: number;
}

/** The rooms of one server (or, with a backplane, of a cluster). */
export interface RoomDirectory {
  /**
   * Reserves a place for participant `id` in `roomName` (counted against the
   * limits across the directory) and readies the room; a refusal when full.
   */
  reserve(roomName: string, id: string): Promise<Room | AdmissionRefusal>;
  /** Removes a member or releases a reservation; a room left empty is freed. */
  leave(room: Room, member: Pick<RoomMember, 'id'>): void;
  /** The room named `roomName`, if it has members on this node. */
  get(roomName: string): Room | undefined;
  /** Counts on this node. */
  stats(): DirectoryStats;
  /** Extra `GET /` fields (a cluster's node id and cluster-wide counts); none in memory. */
  status(): Promise<Record<string, unknown>>;
  /** Connects to whatever backs the directory; rejects with a clear error when it cannot. */
  open(): Promise<void>;
  /** Waits for pending work and releases resources (after every member left). */
  close(): Promise<void>;
}

/** Capacity limits of a directory. */
export interface RoomDirectoryLimits {
  maxRooms: number;
  maxParticipantsPerRoom: number;
}

/** Refusal when the room has `maxParticipantsPerRoom` members. */
export const ROOM_FULL: AdmissionRefusal = Object.freeze({ status: 503, reason: 'room is full' });
/** Refusal when `maxRooms` rooms are open. */
export const TOO_MANY_ROOMS: AdmissionRefusal = Object.freeze({ status: 503, reason: 'too many rooms' });

/**
 * A set of messaging-enabled members to deliver to, in enabling order: a
 * cluster room's local members (its {@link PresenceRoster} holds every node's).
 */
export class EnabledSet {
  readonly members = new Map<string, RoomMember>();

  /** Applies a presence change to the set. */
  apply(member: RoomMember, change: PresenceChange): void {
    if (change === 'enabled') this.members.set(member.id, member);
    else if (change === 'disabled') this.members.delete(member.id);
  }

  /** Delivers `message` to every member in the set except `except`. */
  deliver(message: OutgoingMessage, except?: RoomMember): void {
    // One encoded buffer for every recipient.
    for (const member of this.members.values()) {
      if (member !== except) member.deliver(message);
    }
  }
}

class InMemoryRoom implements Room {
  /** Ids of members and reserved places. */
  readonly ids = new Set<string>();
  private readonly roster = new PresenceRoster();

  constructor(readonly name: string) {}

  get size(): number {
    return this.ids.size;
  }

  get enabledCount(): number {
    return this.roster.size;
  }

  enabledMember(id: string): RoomMember | undefined {
    return this.roster.get(id);
  }

  snapshot(recipient: RoomMember, encoder: FrameEncoder, listed: boolean): OutgoingMessage {
    return this.roster.snapshot(recipient, encoder, listed);
  }

  announce(member: RoomMember, change: PresenceChange, announcement: OutgoingMessage): void {
    this.roster.apply(member, change);
    this.roster.deliver(announcement, member);
  }

  fanOut(message: OutgoingMessage, except?: RoomMember): void {
    this.roster.deliver(message, except);
  }

  remove(id: string): void {
    this.roster.remove(id);
    this.ids.delete(id);
  }
}

/** The default directory: plain maps in this process. */
export class InMemoryRoomDirectory implements RoomDirectory {
  private readonly rooms = new Map<string, InMemoryRoom>();
  private participants = 0;

  constructor(private readonly limits: RoomDirectoryLimits) {}

  reserve(roomName: string, id: string): Promise<Room | AdmissionRefusal> {
    let room = this.rooms.get(roomName);
    if (room === undefined) {
      if (this.rooms.size >= this.limits.maxRooms) return Promise.resolve(TOO_MANY_ROOMS);
      room = new InMemoryRoom(roomName);
      this.rooms.set(roomName, room);
    } else if (room.size >= this.limits.maxParticipantsPerRoom) {
      return Promise.resolve(ROOM_FULL);
    }
    room.ids.add(id);
    this.participants++;
    return Promise.resolve(room);
  }

  leave(room: Room, member: Pick<RoomMember, 'id'>): void {
    const own = this.rooms.get(room.name);
    if (own === undefined || !own.ids.has(member.id)) return;
    own.remove(member.id);
    this.participants--;
    if (own.size === 0) this.rooms.delete(room.name);
  }

  get(roomName: string): Room | undefined {
    return this.rooms.get(roomName);
  }

  stats(): DirectoryStats {
    let enabled = 0;
    for (const room of this.rooms.values()) enabled += room.enabledCount;
    return { rooms: this.rooms.size, participants: this.participants, enabled };
  }

  status(): Promise<Record<string, unknown>> {
    return Promise.resolve({});
  }

  open(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** True when `value` is a refusal rather than a room or session. */
export function isRefusal<T extends object>(value: T | AdmissionRefusal): value is AdmissionRefusal {
  return typeof (value as Partial<AdmissionRefusal>).status === 'number';
}
