/**
 * What the client writes and reads on the wire beyond the codec: the
 * `set_attributes` request, and `messaging.send` pushes decoded into
 * messaging-machine events or user messages. Browser-safe (no Node
 * built-ins).
 *
 * @packageDocumentation
 */
import type { MessagingEvent, PresenceParticipant } from '../../machines/index.js';
import { CodecError, describeValue } from '../errors.js';
import { packEnvelope, unpackEnvelope } from '../protocol/envelope.js';
import { MessagingControlType } from '../protocol/message-types.js';
import { changedAttributes, disabledParticipantId, isPresenceType, presenceMember, snapshotMembers } from '../protocol/presence.js';

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

// The presence pushes, one per participant and many per socket read while a
// room fills, are built with `new`, not as object literals: V8 pretenures
// object-literal sites in optimized code once a join storm has run through
// them, and these die young (docs/performance.md, "Client memory at room scale").

class ParticipantEnabled {
  readonly type = 'participant.enabled';
  constructor(
    readonly participant: PresenceParticipant,
    readonly received: RoomMessage | undefined,
  ) {}
}

class ParticipantDisabled {
  readonly type = 'participant.disabled';
  constructor(
    readonly participantId: string,
    readonly received: RoomMessage | undefined,
  ) {}
}

class AttributesChanged {
  readonly type = 'participant.attributes_changed';
  constructor(
    readonly participantId: string,
    readonly attributes: Readonly<Record<string, unknown>>,
    readonly received: RoomMessage | undefined,
  ) {}
}

/** A decoded `messaging.send` push: a presence event for the messaging machine, or a user message (see {@link isUserMessage}). */
export type MessagingPush = MessagingEvent | RoomMessage;

/** True when a decoded push is a user message (machine events never carry `fromParticipantId`). */
export function isUserMessage(push: MessagingPush): push is RoomMessage {
  return 'fromParticipantId' in push;
}

/**
 * Decodes a `messaging.send` push. Control types (`messaging.enabled`,
 * `participant.enabled`, `participant.disabled`, `participant.attributes`)
 * become machine events straight from the parsed header, never user
 * messages; with `keepControl` (someone observes control messages, as the
 * official `on('message')` does) the event's `received` is the control
 * message as received, else it is left out, as nobody would read it.
 * Throws {@link CodecError}.
 */
export function decodeMessagingPush(data: Uint8Array, keepControl: boolean): MessagingPush {
  const { header, payload } = unpackEnvelope(data);
  const type = header.type;
  if (typeof type !== 'string') throw new CodecError(`messaging.send.type: expected a string, got ${describeValue(type)}.`);
  const from = typeof header.from_participant_id === 'string' ? header.from_participant_id : '';
  const body = header.message;
  if (isPresenceType(type)) {
    const received: RoomMessage | undefined = keepControl ? { fromParticipantId: from, type, message: body } : undefined;
    switch (type) {
      case MessagingControlType.Enabled:
        return { type: 'messaging.enabled', participants: snapshotMembers(body), received };
      case MessagingControlType.ParticipantEnabled:
        return new ParticipantEnabled(presenceMember(body, 'participant.enabled'), received);
      case MessagingControlType.ParticipantDisabled:
        return new ParticipantDisabled(disabledParticipantId(body), received);
      default:
        return new AttributesChanged(from, changedAttributes(body), received);
    }
  }
  // Every user message gets the same shape (one hidden class): `broadcast` is undefined when the server does not say.
  const broadcast = typeof header.broadcast === 'boolean' ? header.broadcast : undefined;
  const attachment = payload.byteLength > 0 ? payload.slice() : undefined;
  return { fromParticipantId: from, type, message: body, attachment, broadcast };
}
