/**
 * The four presence control messages that ride inside `messaging.send`
 * pushes, encoded and decoded in one place for the server and the client:
 * `messaging.enabled` (the snapshot a participant gets when it enables),
 * `participant.enabled`, `participant.disabled` and `participant.attributes`.
 * See docs/PROTOCOL.md#messages-and-presence-pushes. Free of I/O.
 *
 * Encoders return the JSON text of the push's `message` body. Attribute maps
 * are replaced, never mutated, by every holder of presence, so each map's
 * JSON is computed once and cached by the map object: a snapshot of N members
 * costs N string concatenations, not N `JSON.stringify` calls.
 *
 * @packageDocumentation
 */
import { CodecError, describeValue } from '../errors.js';
import { MessagingControlType } from './message-types.js';

/** A participant as presence messages carry it. */
export interface PresenceMember {
  /** The participant id. */
  readonly id: string;
  /** The participant's role (`user` when a server leaves it out). */
  readonly role: string;
  /** The participant's attributes (`name` among them). */
  readonly attributes: Readonly<Record<string, unknown>>;
}

/** A decoded presence control message. */
export type PresenceMessage =
  | { readonly type: typeof MessagingControlType.Enabled; readonly participants: readonly PresenceMember[] }
  | { readonly type: typeof MessagingControlType.ParticipantEnabled; readonly participant: PresenceMember }
  | { readonly type: typeof MessagingControlType.ParticipantDisabled; readonly participantId: string }
  | { readonly type: typeof MessagingControlType.ParticipantAttributes; readonly participantId: string; readonly attributes: Readonly<Record<string, unknown>> };

/** The `type`s of the presence control messages; no user message may carry one. */
export const PRESENCE_TYPES: ReadonlySet<string> = new Set(Object.values(MessagingControlType));

/** True for the `type` of a presence control message. */
export function isPresenceType(type: string): boolean {
  return PRESENCE_TYPES.has(type);
}

const attributeJson = new WeakMap<object, string>();

/** The JSON text of an attribute map, computed once per map object. */
export function attributesJson(attributes: Readonly<Record<string, unknown>>): string {
  let json = attributeJson.get(attributes);
  if (json === undefined) {
    json = JSON.stringify(attributes);
    attributeJson.set(attributes, json);
  }
  return json;
}

/** `{"id":…,"role":…,"attributes":…}`: one member, as every presence message carries it. */
export function memberJson(member: PresenceMember): string {
  return '{"id":' + JSON.stringify(member.id) + ',"role":' + JSON.stringify(member.role) + ',"attributes":' + attributesJson(member.attributes) + '}';
}

/**
 * The text around and between the members' JSON texts in a
 * `messaging.enabled` body, for encoders that write the members one by one
 * rather than joining them into one string.
 */
export const SNAPSHOT_BODY = { open: '{"participants":[', separator: ',', close: ']}' } as const;

/** The body of `messaging.enabled` from members' JSON texts (see {@link memberJson}). */
export function snapshotBodyJson(memberJsons: readonly string[]): string {
  return SNAPSHOT_BODY.open + memberJsons.join(SNAPSHOT_BODY.separator) + SNAPSHOT_BODY.close;
}

/** The body of `participant.enabled`. */
export function participantEnabledBodyJson(member: PresenceMember): string {
  return memberJson(member);
}

/** The body of `participant.disabled`. */
export function participantDisabledBodyJson(participantId: string): string {
  return '{"id":' + JSON.stringify(participantId) + '}';
}

/** The body of `participant.attributes` (the sender is the push's `from_participant_id`). */
export function participantAttributesBodyJson(attributes: Readonly<Record<string, unknown>>): string {
  return '{"attributes":' + attributesJson(attributes) + '}';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The engine's one shared copy of `id` (a property key is internalized):
 * every presence message of a room repeats the same participant ids, and a
 * process running n clients in a room of n would otherwise keep n copies of
 * each (n^2 strings), where the official client, which keys objects by id,
 * keeps one. Once per participant and client, never per user message.
 */
function sharedId(id: string): string {
  for (const key in { [id]: 0 }) return key;
  return id;
}

/**
 * The participant a presence body carries. A well-formed body (a JSON object
 * the caller parsed and owns) is returned itself, its `id` swapped for the
 * shared copy, rather than copied: a process of many clients decodes n
 * pushes per client and every copy would be garbage by the next read.
 * Throws {@link CodecError} naming `field`.
 */
export function presenceMember(value: unknown, field: string): PresenceMember {
  if (!isRecord(value) || typeof value.id !== 'string' || value.id.length === 0) {
    throw new CodecError(`${field}: expected a participant {id, role, attributes}, got ${describeValue(value)}.`);
  }
  const id = sharedId(value.id);
  if (typeof value.role === 'string' && isRecord(value.attributes)) {
    value.id = id;
    return value as unknown as PresenceMember;
  }
  return { id, role: typeof value.role === 'string' ? value.role : 'user', attributes: isRecord(value.attributes) ? value.attributes : {} };
}

/** The members of a `messaging.enabled` body (see {@link presenceMember}). Throws {@link CodecError}. */
export function snapshotMembers(body: unknown): PresenceMember[] {
  const list = isRecord(body) ? body.participants : undefined;
  if (!Array.isArray(list)) throw new CodecError(`messaging.enabled.participants: expected an array, got ${describeValue(list)}.`);
  // The parsed array itself when every member is well-formed; a copy (never a change to the body) when one is not.
  let members: unknown[] = list;
  for (let i = 0; i < list.length; i++) {
    const member = presenceMember(list[i], `messaging.enabled.participants.${i}`);
    if (member === list[i]) continue;
    if (members === list) members = list.slice();
    members[i] = member;
  }
  return members as PresenceMember[];
}

/** The participant id of a `participant.disabled` body. Throws {@link CodecError}. */
export function disabledParticipantId(body: unknown): string {
  const id = isRecord(body) ? body.id : undefined;
  if (typeof id !== 'string') throw new CodecError(`participant.disabled.id: expected a string, got ${describeValue(id)}.`);
  return id;
}

/** The changed attributes of a `participant.attributes` body. Throws {@link CodecError}. */
export function changedAttributes(body: unknown): Readonly<Record<string, unknown>> {
  const attributes = isRecord(body) ? body.attributes : undefined;
  if (!isRecord(attributes)) throw new CodecError(`participant.attributes.attributes: expected an object, got ${describeValue(attributes)}.`);
  return attributes;
}

/**
 * Decodes a presence control message from its push's `type`, `message` body
 * and `from_participant_id`. Returns `undefined` for any other type (a user
 * message). Throws {@link CodecError} naming the field when a body is
 * malformed. Well-formed bodies are reused, not copied (see {@link presenceMember}).
 */
export function decodePresence(type: string, body: unknown, fromParticipantId: string): PresenceMessage | undefined {
  switch (type) {
    case MessagingControlType.Enabled:
      return { type, participants: snapshotMembers(body) };
    case MessagingControlType.ParticipantEnabled:
      return { type, participant: presenceMember(body, 'participant.enabled') };
    case MessagingControlType.ParticipantDisabled:
      return { type, participantId: disabledParticipantId(body) };
    case MessagingControlType.ParticipantAttributes:
      return { type, participantId: fromParticipantId, attributes: changedAttributes(body) };
    default:
      return undefined;
  }
}
