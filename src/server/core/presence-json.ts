/**
 * Presence as JSON text, built once and reused: each attribute map is
 * serialised once (maps are replaced, never mutated, so the map object is
 * the cache key), and each room has a presence epoch that changes with every
 * enable, disable and attribute change, so a session can reuse its encoded
 * `messaging.enabled` snapshot until the room's presence changes.
 */
import type { Room, RoomMember } from './room-directory.js';

const attributeJson = new WeakMap<object, string>();

/** The JSON text of an attribute map (cached per map object). */
export function attributesJson(attributes: Readonly<Record<string, unknown>>): string {
  let json = attributeJson.get(attributes);
  if (json === undefined) {
    json = JSON.stringify(attributes);
    attributeJson.set(attributes, json);
  }
  return json;
}

/** `{"id":…,"role":…,"attributes":…}`: a member as presence messages carry it. */
export function memberJson(member: RoomMember): string {
  return '{"id":' + JSON.stringify(member.id) + ',"role":' + JSON.stringify(member.role) + ',"attributes":' + attributesJson(member.attributes) + '}';
}

/** Presence epochs per room (see the file comment). */
export class PresenceEpochs {
  private readonly epochs = new WeakMap<Room, number>();

  /** The room's current epoch. */
  of(room: Room): number {
    return this.epochs.get(room) ?? 0;
  }

  /** Records a presence change in `room`. */
  bump(room: Room): void {
    this.epochs.set(room, this.of(room) + 1);
  }
}
