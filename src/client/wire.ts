/**
 * What the client writes and reads on the wire beyond the codec: the
 * `set_attributes` request, and `messaging.send` pushes decoded into
 * messaging-machine events or user messages. Browser-safe (no Node
 * built-ins).
 *
 * @packageDocumentation
 */
import type { MessagingEvent } from '../../machines/index.js';
import { CodecError, describeValue } from '../errors.js';
import { packEnvelope, unpackEnvelope } from '../protocol/envelope.js';
import { MessagingControlType } from '../protocol/message-types.js';
import { decodePresence, type PresenceMessage } from '../protocol/presence.js';

/** A user message as received. Presence control messages never take this shape. */
export interface RoomMessage {
  /** Who sent it. */
  readonly fromParticipantId: string;
  /** The application-defined type, e.g. "chat". */
  readonly type: string;
  /** The JSON body. */
  readonly message: unknown;
  /** Raw bytes sent along, if any. */
  readonly attachment?: Uint8Array;
  /**
   * True for a broadcast, false for a message sent to this participant
   * alone; absent when the server does not say (a server other than
   * roomstate: docs/PROTOCOL.md, "Extension: broadcast flag").
   */
  readonly broadcast?: boolean;
}

/** Encodes `set_attributes`: a flat attribute map as the envelope header. */
export function encodeSetAttributes(attributes: Readonly<Record<string, unknown>>): Uint8Array {
  return packEnvelope(attributes);
}

/** A decoded `messaging.send` push: a presence event for the messaging machine, or a user message. */
export type MessagingPush = { kind: 'presence'; event: MessagingEvent; message: RoomMessage } | { kind: 'message'; message: RoomMessage };

/** The messaging machine's event for a decoded presence control message (`received`, handed on in the notification). */
function presenceEvent(presence: PresenceMessage, received: RoomMessage): MessagingEvent {
  switch (presence.type) {
    case MessagingControlType.Enabled:
      return { type: 'messaging.enabled', participants: presence.participants };
    case MessagingControlType.ParticipantEnabled:
      return { type: 'participant.enabled', participant: presence.participant, received };
    case MessagingControlType.ParticipantDisabled:
      return { type: 'participant.disabled', participantId: presence.participantId, received };
    case MessagingControlType.ParticipantAttributes:
      return { type: 'participant.attributes_changed', participantId: presence.participantId, attributes: presence.attributes, received };
  }
}

/**
 * Decodes a `messaging.send` push. Control types (`messaging.enabled`,
 * `participant.enabled`, `participant.disabled`, `participant.attributes`)
 * become machine events and never user messages (`message` keeps the
 * control message as received, for the official `on('message')`). Throws
 * {@link CodecError}.
 */
export function decodeMessagingPush(data: Uint8Array): MessagingPush {
  const { header, payload } = unpackEnvelope(data);
  const type = header.type;
  if (typeof type !== 'string') throw new CodecError(`messaging.send.type: expected a string, got ${describeValue(type)}.`);
  const from = typeof header.from_participant_id === 'string' ? header.from_participant_id : '';
  const body = header.message;
  const presence = decodePresence(type, body, from);
  if (presence !== undefined) {
    const message: RoomMessage = { fromParticipantId: from, type, message: body };
    return { kind: 'presence', event: presenceEvent(presence, message), message };
  }
  // Every user message gets the same shape (one hidden class): `broadcast` is undefined when the server does not say.
  const broadcast = typeof header.broadcast === 'boolean' ? header.broadcast : undefined;
  const attachment = payload.byteLength > 0 ? payload.slice() : undefined;
  return { kind: 'message', message: { fromParticipantId: from, type, message: body, attachment, broadcast } };
}
