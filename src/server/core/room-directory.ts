/**
 * Room membership and fan-out, behind an interface a cluster backplane (e.g.
 * Redis pub/sub) can implement; {@link InMemoryRoomDirectory} is the default.
 */
import type { OutgoingMessage } from './outgoing-message.js';

/** What a room needs to know about one participant. */
export interface RoomMember {
  /** The participant id (unique per connection). */
  readonly id: string;
  /** The role from the token. */
  readonly role: string;
  /** The current attribute map. */
  readonly attributes: Readonly<Record<string, unknown>>;
  /** Delivers an already-encoded message to this participant's connection. */
  deliver(message: OutgoingMessage): void;
}

/** One room: its members and the messaging-enabled subset. */
export interface Room {
  /** The room name (URL-decoded). */
  readonly name: string;
  /** Members connected to the room. */
  readonly size: number;
  /** Members with messaging enabled. */
  readonly enabledCount: number;
  /** The messaging-enabled member with this id, if any. */
  enabledMember(id: string): RoomMember | undefined;
  /** Messaging-enabled members, in the order they enabled. */
  enabledMembers(): IterableIterator<RoomMember>;
  /** Adds or removes a member from the messaging-enabled set. */
  setEnabled(member: RoomMember, enabled: boolean): void;
  /** Sends one encoded message to every messaging-enabled member except `except`. */
  fanOut(message: OutgoingMessage, except?: RoomMember): void;
}

/** Why a participant cannot join now. */
export interface AdmissionRefusal {
  /** HTTP status for a refusal at the upgrade. */
  readonly status: number;
  /** Short reason (HTTP status text, or close reason). */
  readonly reason: string;
}

/** The rooms of one server (or, with a backplane, of a cluster). */
export interface RoomDirectory {
  /** Whether a participant could join `roomName` now; a refusal if not. */
  admission(roomName: string): AdmissionRefusal | undefined;
  /** Adds a member, creating the room when needed; a refusal when full. */
  join(roomName: string, member: RoomMember): Room | AdmissionRefusal;
  /** Removes a member; a room left empty is freed. */
  leave(room: Room, member: RoomMember): void;
  /** The room named `roomName`, if it has members. */
  get(roomName: string): Room | undefined;
  /** Counts for status pages. */
  stats(): { rooms: number; participants: number; enabled: number };
}

/** Capacity limits of an {@link InMemoryRoomDirectory}. */
export interface RoomDirectoryLimits {
  maxRooms: number;
  maxParticipantsPerRoom: number;
}

class InMemoryRoom implements Room {
  readonly members = new Set<RoomMember>();
  private readonly enabled = new Map<string, RoomMember>();

  constructor(readonly name: string) {}

  get size(): number {
    return this.members.size;
  }

  get enabledCount(): number {
    return this.enabled.size;
  }

  enabledMember(id: string): RoomMember | undefined {
    return this.enabled.get(id);
  }

  enabledMembers(): IterableIterator<RoomMember> {
    return this.enabled.values();
  }

  setEnabled(member: RoomMember, enabled: boolean): void {
    if (enabled) this.enabled.set(member.id, member);
    else this.enabled.delete(member.id);
  }

  fanOut(message: OutgoingMessage, except?: RoomMember): void {
    // One encoded buffer for every recipient.
    for (const member of this.enabled.values()) {
      if (member !== except) member.deliver(message);
    }
  }
}

/** The default directory: plain maps in this process. */
export class InMemoryRoomDirectory implements RoomDirectory {
  private readonly rooms = new Map<string, InMemoryRoom>();
  private participants = 0;

  constructor(private readonly limits: RoomDirectoryLimits) {}

  admission(roomName: string): AdmissionRefusal | undefined {
    const room = this.rooms.get(roomName);
    if (room === undefined) {
      if (this.rooms.size >= this.limits.maxRooms) return { status: 503, reason: 'too many rooms' };
    } else if (room.size >= this.limits.maxParticipantsPerRoom) {
      return { status: 503, reason: 'room is full' };
    }
    return undefined;
  }

  join(roomName: string, member: RoomMember): Room | AdmissionRefusal {
    const refusal = this.admission(roomName);
    if (refusal) return refusal;
    let room = this.rooms.get(roomName);
    if (room === undefined) {
      room = new InMemoryRoom(roomName);
      this.rooms.set(roomName, room);
    }
    room.members.add(member);
    this.participants++;
    return room;
  }

  leave(room: Room, member: RoomMember): void {
    const own = this.rooms.get(room.name);
    if (own === undefined || !own.members.delete(member)) return;
    own.setEnabled(member, false);
    this.participants--;
    if (own.members.size === 0) this.rooms.delete(room.name);
  }

  get(roomName: string): Room | undefined {
    return this.rooms.get(roomName);
  }

  stats(): { rooms: number; participants: number; enabled: number } {
    let enabled = 0;
    for (const room of this.rooms.values()) enabled += room.enabledCount;
    return { rooms: this.rooms.size, participants: this.participants, enabled };
  }
}

/** True when `value` is a refusal rather than a room or session. */
export function isRefusal<T extends object>(value: T | AdmissionRefusal): value is AdmissionRefusal {
  return typeof (value as Partial<AdmissionRefusal>).status === 'number';
}
