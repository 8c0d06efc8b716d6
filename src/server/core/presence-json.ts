/**
 * Presence as JSON text, built once and reused: each attribute map is
 * serialised once (maps are replaced, never mutated, so the map object is
 * the cache key). Each room's `presenceEpoch` (see `Room`) lets a session
 * reuse its encoded `messaging.enabled` snapshot until presence changes.
 */
import type { RoomMember } from './room-directory.js';

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
