/**
 * What the client writes and reads on the wire, as plain functions over the
 * codec: messaging tool invocations, `set_attributes`, and the decoding of
 * `room_ready`, `connected` and `messaging.send` pushes into machine events
 * or user messages. Browser-safe (no Node built-ins).
 *
 * @packageDocumentation
 */
import type { MessagingEvent, RoomInfo } from '../../machines/index.js';
import { CodecError, describeValue } from '../errors.js';
import { packEnvelope, packEnvelopeAscii, unpackEnvelope } from '../protocol/envelope.js';
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

/** The messaging tools the client invokes. */
export type MessagingTool = 'enable' | 'disable' | 'send' | 'broadcast';

/**
 * Encodes a `room.invoke_tool` request of the messaging toolkit. `enable`
 * and `disable` carry a `tool_call_id`, as 0.39.9 sends them. An
 * `attachment` becomes `arguments.json.attachment_base64`, its base64
 * written straight into the output buffer.
 */
export function encodeInvoke(tool: MessagingTool, json: Record<string, unknown>, toolCallId?: string, attachment?: Uint8Array): Uint8Array {
  const header: Record<string, unknown> = { toolkit: 'messaging', tool, arguments: { type: 'json', json } };
  if (toolCallId !== undefined) header.tool_call_id = toolCallId;
  if (attachment === undefined) return packEnvelope(header);
  // `{...,"json":{...}}}` becomes `{...,"json":{...,"attachment_base64":"<base64>"}}}` (the header ends with the json object).
  const text = JSON.stringify(header);
  const head = `${text.slice(0, -3)},"attachment_base64":"`;
  return packEnvelopeAscii(head, base64Length(attachment.byteLength), (out, offset) => writeBase64(attachment, out, offset), `"${text.slice(-3)}`);
}

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
// Two base64 characters (as ASCII codes packed in a u16) for each 12-bit value.
let pairs: Uint16Array | undefined;
const ascii = new TextDecoder('latin1');
const EQUALS = 61;

function base64Pairs(): Uint16Array {
  if (pairs !== undefined) return pairs;
  pairs = new Uint16Array(4096);
  const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  for (let i = 0; i < 4096; i++) {
    const hi = BASE64_ALPHABET.charCodeAt(i >> 6);
    const lo = BASE64_ALPHABET.charCodeAt(i & 63);
    pairs[i] = little ? hi | (lo << 8) : (hi << 8) | lo;
  }
  return pairs;
}

type BufferLike = {
  from(buffer: ArrayBufferLike, offset: number, length: number): { toString(encoding: 'base64'): string; latin1Write(text: string, offset?: number): number };
};
// Node's Buffer when present (native base64); the client itself never imports it.
const NodeBuffer = (globalThis as unknown as { Buffer?: BufferLike }).Buffer;

/**
 * Standard base64 of bytes. Uses the runtime's native encoder where there
 * is one (Node's `Buffer`), else a table-driven encoder that writes ASCII
 * bytes and decodes them once: never a string built character by character.
 */
export function toBase64(bytes: Uint8Array): string {
  if (NodeBuffer !== undefined) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  return toBase64Portable(bytes);
}

/** Length of the base64 of `byteLength` bytes. */
export function base64Length(byteLength: number): number {
  return Math.ceil(byteLength / 3) * 4;
}

/**
 * Writes the base64 of `bytes` into `out` at `offset` (ASCII, {@link
 * base64Length} bytes). In Node the native encoder's text is copied in as
 * latin1; elsewhere the portable encoder writes it.
 */
export function writeBase64(bytes: Uint8Array, out: Uint8Array, offset: number): void {
  if (NodeBuffer !== undefined) {
    NodeBuffer.from(out.buffer, out.byteOffset + offset, base64Length(bytes.byteLength)).latin1Write(toBase64(bytes));
    return;
  }
  const ascii = base64Ascii(bytes);
  out.set(ascii, offset);
}

/** {@link toBase64} without any runtime encoder (browsers). Exported for tests. */
export function toBase64Portable(bytes: Uint8Array): string {
  return ascii.decode(base64Ascii(bytes));
}

/** The base64 of `bytes` as ASCII bytes, table-driven. */
function base64Ascii(bytes: Uint8Array): Uint8Array {
  const table = base64Pairs();
  const length = bytes.byteLength;
  const out = new Uint8Array(base64Length(length));
  const words = new Uint16Array(out.buffer);
  const whole = length - (length % 3);
  let w = 0;
  for (let i = 0; i < whole; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    words[w++] = table[n >> 12]!;
    words[w++] = table[n & 0xfff]!;
  }
  const rest = length - whole;
  if (rest > 0) {
    const n = (bytes[whole]! << 16) | (rest === 2 ? bytes[whole + 1]! << 8 : 0);
    const o = w * 2;
    out[o] = BASE64_ALPHABET.charCodeAt(n >> 18);
    out[o + 1] = BASE64_ALPHABET.charCodeAt((n >> 12) & 63);
    out[o + 2] = rest === 2 ? BASE64_ALPHABET.charCodeAt((n >> 6) & 63) : EQUALS;
    out[o + 3] = EQUALS;
  }
  return out;
}

/**
 * The `arguments.json` of `send` (with a target) or `broadcast` (without),
 * without the attachment: {@link encodeInvoke} adds `attachment_base64`.
 */
export function messageArguments(input: {
  toParticipantId?: string;
  type: string;
  message: unknown;
  /** `JSON.stringify(message)`, when the caller already has it (validation computes it). */
  messageJson?: string;
}): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  if (input.toParticipantId !== undefined) json.to_participant_id = input.toParticipantId;
  json.type = input.type;
  json.message_json = input.messageJson ?? JSON.stringify(input.message);
  return json;
}

/** Encodes `set_attributes`: a flat attribute map as the envelope header. */
export function encodeSetAttributes(attributes: Readonly<Record<string, unknown>>): Uint8Array {
  return packEnvelope(attributes);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Decodes `room_ready`. */
export function decodeRoomReady(data: Uint8Array): RoomInfo {
  const { header } = unpackEnvelope(data);
  return { roomName: optionalString(header.room_name), roomUrl: optionalString(header.room_url), sessionId: optionalString(header.session_id) };
}

/** Decodes `connected`; `undefined` for a type other than `init` (ignored, as TS clients do). */
export function decodeConnected(data: Uint8Array): { participantId: string; attributes: Record<string, unknown> } | undefined {
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

/** A decoded `messaging.send` push: a presence event for the messaging machine, or a user message. */
export type MessagingPush = { kind: 'presence'; event: MessagingEvent; message: RoomMessage } | { kind: 'message'; message: RoomMessage };

/** The messaging machine's event for a decoded presence control message. */
function presenceEvent(presence: PresenceMessage): MessagingEvent {
  switch (presence.type) {
    case MessagingControlType.Enabled:
      return { type: 'messaging.enabled', participants: presence.participants };
    case MessagingControlType.ParticipantEnabled:
      return { type: 'participant.enabled', participant: presence.participant };
    case MessagingControlType.ParticipantDisabled:
      return { type: 'participant.disabled', participantId: presence.participantId };
    case MessagingControlType.ParticipantAttributes:
      return { type: 'participant.attributes_changed', participantId: presence.participantId, attributes: presence.attributes };
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
  if (presence !== undefined) return { kind: 'presence', event: presenceEvent(presence), message: { fromParticipantId: from, type, message: body } };
  // Every user message gets the same shape (one hidden class): `broadcast` is undefined when the server does not say.
  const broadcast = typeof header.broadcast === 'boolean' ? header.broadcast : undefined;
  const attachment = payload.byteLength > 0 ? payload.slice() : undefined;
  return { kind: 'message', message: { fromParticipantId: from, type, message: body, attachment, broadcast } };
}
