/**
 * The two messages a server sends on every new connection, before anything
 * else: `room_ready` (the room and this connection's session) and
 * `connected` with `type: "init"` (the participant's id and attributes).
 * See docs/PROTOCOL.md#the-handshake. Free of I/O.
 */
import { CodecError, describeValue } from '../errors.js';
import { unpackEnvelope } from './envelope.js';

/** What `room_ready` carries; a field a server left out is undefined. */
export interface RoomReady {
  readonly roomName: string | undefined;
  readonly roomUrl: string | undefined;
  readonly sessionId: string | undefined;
}

/** What `connected` (`type: "init"`) carries. */
export interface ConnectedInit {
  readonly participantId: string;
  readonly attributes: Record<string, unknown>;
}

/** The envelope header of `room_ready`. */
export function roomReadyHeader(ready: { roomName: string; roomUrl: string; sessionId: string }): Record<string, unknown> {
  return { room_name: ready.roomName, room_url: ready.roomUrl, session_id: ready.sessionId };
}

/** The envelope header of `connected`. */
export function connectedHeader(init: ConnectedInit): Record<string, unknown> {
  return { type: 'init', participantId: init.participantId, attributes: init.attributes };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Decodes `room_ready`. Throws {@link CodecError} for an undecodable envelope. */
export function decodeRoomReady(data: Uint8Array): RoomReady {
  const { header } = unpackEnvelope(data);
  return { roomName: optionalString(header.room_name), roomUrl: optionalString(header.room_url), sessionId: optionalString(header.session_id) };
}

/**
 * Decodes `connected`; `undefined` for a type other than `init` (ignored, as
 * the official clients do). Throws {@link CodecError} naming the field.
 */
export function decodeConnected(data: Uint8Array): ConnectedInit | undefined {
  const { header } = unpackEnvelope(data);
  if (header.type !== 'init') return undefined;
  if (typeof header.participantId !== 'string' || !header.participantId) {
    throw new CodecError(`connected.participantId: expected a non-empty string, got ${describeValue(header.participantId)}.`);
  }
  if (!isRecord(header.attributes)) {
    throw new CodecError(`connected.attributes: expected an object, got ${describeValue(header.attributes)}.`);
  }
  return { participantId: header.participantId, attributes: header.attributes };
}
