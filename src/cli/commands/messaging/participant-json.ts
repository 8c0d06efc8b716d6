/**
 * The JSON shapes the messaging commands print: participants as
 * `{ id, role, attributes }` (as MeshAgent's CLI prints them) and `listen`'s
 * NDJSON events.
 */
import type { ParticipantAttributesUpdate, RemoteParticipant, RoomMessage } from '../../../client/node.js';
import { toBase64 } from '../../../protocol/base64.js';

/** A participant as `list` prints it. */
export interface ParticipantJson {
  readonly id: string;
  readonly role: string;
  readonly attributes: Record<string, unknown>;
}

/** `{ id, role, attributes }` of a remote participant. */
export function participantJson(participant: RemoteParticipant): ParticipantJson {
  return { id: participant.id, role: participant.role, attributes: { ...participant.attributes } };
}

/** The `name` attribute of a participant, when it is a string. */
export function participantName(participant: RemoteParticipant | null): string | undefined {
  const name = participant?.getAttribute('name');
  return typeof name === 'string' ? name : undefined;
}

/**
 * `{"event":"message","from":ID,"from_name"?:NAME,"type":T,"message":M,"attachment_base64"?:B64}`.
 * `from_name` is the sender's `name` attribute when the sender is in presence.
 */
export function messageEvent(message: RoomMessage, sender: RemoteParticipant | null): Record<string, unknown> {
  const name = participantName(sender);
  return {
    event: 'message',
    from: message.fromParticipantId,
    ...(name === undefined ? {} : { from_name: name }),
    type: message.type,
    message: message.message,
    ...(message.attachment === undefined ? {} : { attachment_base64: toBase64(message.attachment) }),
  };
}

/** `{"event":"participant_added","id","role","attributes"}`. */
export function addedEvent(participant: RemoteParticipant): Record<string, unknown> {
  return { event: 'participant_added', ...participantJson(participant) };
}

/** `{"event":"participant_removed","id","role","attributes"}` (the last known attributes). */
export function removedEvent(participant: RemoteParticipant): Record<string, unknown> {
  return { event: 'participant_removed', ...participantJson(participant) };
}

/** `{"event":"participant_attributes_updated","id","role","changed","attributes"}`. */
export function attributesEvent(update: ParticipantAttributesUpdate): Record<string, unknown> {
  return {
    event: 'participant_attributes_updated',
    id: update.participant.id,
    role: update.participant.role,
    changed: { ...update.changed },
    attributes: { ...update.attributes },
  };
}
