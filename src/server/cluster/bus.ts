/**
 * The messages nodes exchange over Redis pub/sub, and the key names they
 * share. Hot-path messages carry an already-encoded outgoing message (its
 * websocket frames), so a receiving node writes the same bytes to each local
 * recipient without decoding or re-encoding anything.
 *
 * Room channel: `B` broadcast (origin node, frames), `P` presence event with
 * the announcement's frames, `J` presence event alone (published by Lua
 * scripts and by reconciliation; each node encodes its own push).
 * Direct channel (one per room and node): `D` direct message (room, target id, frames).
 * Either channel: `N` a batch of the above, each with its length; `S` one of
 * the above as it was also appended to the room's relay stream, with its
 * stream entry id (docs/cluster.md#resuming-after-a-node-died).
 */
import type { PresenceChange } from '../core/room-member.js';
import { CodecError } from '../../errors.js';

/** A participant as the cluster roster stores it. */
export interface MemberRecord {
  /** Node the participant is connected to. */
  n: string;
  id: string;
  role: string;
  attributes: Readonly<Record<string, unknown>>;
  /** Set when the participant is resumable: relays to it are kept in the room's relay stream. */
  r?: 1;
}

/** A presence event on a room channel. */
export interface PresenceEvent extends Partial<MemberRecord> {
  c: PresenceChange;
  n: string;
  id: string;
}

/** A decoded room-channel or node-channel message. */
export type BusMessage =
  | { kind: 'batch'; messages: Buffer[] }
  | { kind: 'broadcast'; node: string; wire: Buffer }
  | { kind: 'presence'; event: PresenceEvent; wire: Buffer | undefined }
  | { kind: 'direct'; room: string; id: string; wire: Buffer }
  | { kind: 'streamed'; id: string; inner: Buffer };

const BROADCAST = 0x42; // 'B'
const PRESENCE = 0x50; // 'P'
const PRESENCE_ONLY = 0x4a; // 'J'
const DIRECT = 0x44; // 'D'
const BATCH = 0x4e; // 'N'
/** Written by the relay script (scripts.ts), never encoded here. */
const STREAMED = 0x53; // 'S'

/**
 * The hash tag of a room: every key and channel of one room shares it, so
 * on Redis Cluster they live in one slot (and its scripts can touch them
 * all), while different rooms spread over the slots. Braces in a room name
 * would end the tag early, so the name goes in URI-encoded.
 */
function tag(name: string): string {
  return `{${encodeURIComponent(name)}}`;
}

/**
 * Redis key and channel names of one cluster (one key prefix). Per-room
 * names carry the room's hash tag, per-node names the node's.
 */
export class ClusterKeys {
  private readonly roomChannelStart: string;

  constructor(readonly prefix: string) {
    this.roomChannelStart = `${prefix}:r:{`;
  }

  /** Sorted set: node id -> lease deadline (Redis clock, ms). */
  get nodes(): string {
    return `${this.prefix}:nodes`;
  }

  /** Hash: node id -> the websocket URL other nodes reach it at (resumes forwarded to the session's node). */
  get nodeUrls(): string {
    return `${this.prefix}:node-urls`;
  }

  /** Set of rooms with members on some node. */
  get rooms(): string {
    return `${this.prefix}:rooms`;
  }

  /** Hash: participant id -> node, for every member of `room`. */
  members(room: string): string {
    return `${this.prefix}:room:${tag(room)}:members`;
  }

  /** Hash: participant id -> {@link MemberRecord} JSON, for enabled members of `room`. */
  roster(room: string): string {
    return `${this.prefix}:room:${tag(room)}:roster`;
  }

  /** Hash: participant id -> room, for every member on `node`. */
  nodeMembers(node: string): string {
    return `${this.prefix}:node:${tag(node)}:members`;
  }

  /** Stream of what was relayed in `room` to resumable participants (directs and broadcasts), for a resume after their node died. */
  relayStream(room: string): string {
    return `${this.prefix}:relay:${tag(room)}`;
  }

  /** Hash: what a resumable session needs to resume on another node (keyed by the SHA-256 of its resume key, never the key). */
  sessionMeta(room: string, keyHash: string): string {
    return `${this.prefix}:resume:${tag(room)}:${keyHash}`;
  }

  /** Stream: the messages sent to a resumable session its client has not acknowledged, one entry per batch. */
  sessionJournal(room: string, keyHash: string): string {
    return `${this.prefix}:resume:${tag(room)}:${keyHash}:j`;
  }

  /** Channel of one room's broadcasts and presence (in the room's slot, so its scripts may publish on it). */
  roomChannel(room: string): string {
    return `${this.roomChannelStart}${encodeURIComponent(room)}}`;
  }

  /** The room of a {@link ClusterKeys.roomChannel}, or undefined for any other channel. */
  roomOfChannel(channel: string): string | undefined {
    if (!channel.startsWith(this.roomChannelStart)) return undefined;
    try {
      return decodeURIComponent(channel.slice(this.roomChannelStart.length, -1));
    } catch {
      return undefined;
    }
  }

  /**
   * Channel of the direct messages to `node`'s members of `room`: in the
   * room's slot, so a room's traffic keeps one order and depends on one
   * Redis master.
   */
  directChannel(room: string, node: string): string {
    return `${this.prefix}:d:${tag(room)}:${node}`;
  }
}

/** `kind`, then each part behind its u32 length, then `tail` as it is. */
function lengthPrefixed(kind: number, parts: readonly Uint8Array[], tail: Uint8Array | undefined): Buffer {
  let size = 1 + (tail?.byteLength ?? 0);
  for (const part of parts) size += 4 + part.byteLength;
  const out = Buffer.allocUnsafe(size);
  out[0] = kind;
  let offset = 1;
  for (const part of parts) {
    out.writeUInt32BE(part.byteLength, offset);
    out.set(part, offset + 4);
    offset += 4 + part.byteLength;
  }
  if (tail) out.set(tail, offset);
  return out;
}

function withStrings(kind: number, strings: string[], wire: Uint8Array | undefined): Buffer {
  return lengthPrefixed(kind, strings.map((text) => Buffer.from(text, 'utf8')), wire);
}

function readStrings(buffer: Buffer, count: number): { strings: string[]; rest: Buffer } {
  const strings: string[] = [];
  let offset = 1;
  for (let i = 0; i < count; i++) {
    const length = buffer.readUInt32BE(offset);
    if (offset + 4 + length > buffer.length) throw new CodecError('a string runs past the end of the cluster bus message.');
    strings.push(buffer.toString('utf8', offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return { strings, rest: buffer.subarray(offset) };
}

/** The bytes before the frames of every broadcast from `node`. */
export function broadcastHeader(node: string): Buffer {
  return withStrings(BROADCAST, [node], undefined);
}

/** The bytes before the frames of every direct message to participant `id` of `room`. */
export function directHeader(room: string, id: string): Buffer {
  return withStrings(DIRECT, [room, id], undefined);
}

/** A relayed message: a cached header, then the encoded frames. */
export function withHeader(header: Buffer, wire: Buffer): Buffer {
  return Buffer.concat([header, wire], header.byteLength + wire.byteLength);
}

/** A presence event, with the encoded announcement when there is one. */
export function encodePresence(event: PresenceEvent, wire?: Uint8Array): Buffer {
  const json = JSON.stringify(event);
  return wire === undefined ? Buffer.from(String.fromCharCode(PRESENCE_ONLY) + json, 'utf8') : withStrings(PRESENCE, [json], wire);
}

/** Several bus messages for one channel, in order, as one. */
export function encodeBatch(messages: readonly Buffer[]): Buffer {
  return lengthPrefixed(BATCH, messages, undefined);
}

function splitBatch(buffer: Buffer): Buffer[] {
  const messages: Buffer[] = [];
  let offset = 1;
  while (offset < buffer.length) {
    const length = buffer.readUInt32BE(offset);
    if (offset + 4 + length > buffer.length) throw new CodecError('a batched message runs past the end of the cluster bus message.');
    messages.push(buffer.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return messages;
}

/** Decodes a bus message; undefined for anything malformed (logged by the caller). */
export function decodeBus(buffer: Buffer): BusMessage | undefined {
  try {
    switch (buffer[0]) {
      case BROADCAST: {
        const { strings, rest } = readStrings(buffer, 1);
        return { kind: 'broadcast', node: strings[0], wire: rest };
      }
      case PRESENCE: {
        const { strings, rest } = readStrings(buffer, 1);
        return { kind: 'presence', event: JSON.parse(strings[0]) as PresenceEvent, wire: rest };
      }
      case PRESENCE_ONLY:
        return { kind: 'presence', event: JSON.parse(buffer.toString('utf8', 1)) as PresenceEvent, wire: undefined };
      case BATCH:
        return { kind: 'batch', messages: splitBatch(buffer) };
      case STREAMED: {
        const { strings, rest } = readStrings(buffer, 1);
        return { kind: 'streamed', id: strings[0], inner: rest };
      }
      case DIRECT: {
        const { strings, rest } = readStrings(buffer, 2);
        return { kind: 'direct', room: strings[0], id: strings[1], wire: rest };
      }
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}
