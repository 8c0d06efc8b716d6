/**
 * Packet framing of the MeshAgent room protocol, free of I/O.
 *
 * A protocol message travels as N+1 binary websocket frames: packet 0 carries
 * a 16-byte header (message id as two big-endian u32, index 0, N) and the
 * message type as UTF-8 to the end of the frame; packets 1..N carry a 12-byte
 * header (id, index) and up to {@link PACKET_DATA_SIZE} bytes of data each.
 * See docs/PROTOCOL.md#frames-and-packets.
 */
import { CodecError } from '../errors.js';

/** Bytes of data carried by each data packet. */
export const PACKET_DATA_SIZE = 1024;
/** Header length of packet 0. */
export const FIRST_PACKET_HEADER_SIZE = 16;
/** Header length of packets 1..N. */
export const DATA_PACKET_HEADER_SIZE = 12;

const TWO_POW_32 = 0x1_0000_0000;
/** Ids whose high word is below this are safe integers (2^53 = 2^21 * 2^32). */
const SAFE_HIGH_LIMIT = 0x20_0000;
const MAX_ID = (1n << 64n) - 1n;

/** First allocation for reassembling a multi-packet message (grows by doubling). */
const INITIAL_CAPACITY = 128 * 1024;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * A 64-bit message id: a number up to `Number.MAX_SAFE_INTEGER` (the usual
 * case, kept fast), a bigint above it, so every id is exact.
 */
export type MessageId = number | bigint;

/** The id whose big-endian halves are `high` and `low`, exactly. */
export function messageIdFromParts(high: number, low: number): MessageId {
  return high < SAFE_HIGH_LIMIT ? high * TWO_POW_32 + low : (BigInt(high) << 32n) | BigInt(low);
}

/**
 * The big-endian u32 halves of `id`; throws a {@link CodecError} for an id
 * that is not an integer in 0..2^64-1.
 */
export function messageIdParts(id: MessageId): readonly [high: number, low: number] {
  if (typeof id === 'number') {
    if (!Number.isSafeInteger(id) || id < 0) throw new CodecError(`message id ${id} is not a non-negative safe integer (use a bigint above 2^53).`);
    return [Math.floor(id / TWO_POW_32), id >>> 0];
  }
  if (id < 0n || id > MAX_ID) throw new CodecError(`message id ${id} is outside the 64-bit range 0..2^64-1.`);
  return [Number(id >> 32n), Number(id & 0xffff_ffffn)];
}

/** A whole protocol message: its id, its type string and its data bytes. */
export interface ProtocolMessage {
  /**
   * The message id as a number: exact up to `Number.MAX_SAFE_INTEGER`,
   * rounded above it. Answer a message with {@link ProtocolMessage.exactId}.
   */
  readonly id: number;
  /** The exact 64-bit id: equal to `id` when that is a safe integer, a bigint otherwise. */
  readonly exactId: MessageId;
  /** The message type, e.g. `room.invoke_tool` or `__response__`. */
  readonly type: string;
  /** The reassembled data; empty when N = 0. */
  readonly data: Uint8Array;
}

/** Big-endian u32 at `offset` (the caller has checked the length). */
function readUint32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}

/** Writes a big-endian u32 at `offset`. */
function writeUint32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = value >>> 16;
  bytes[offset + 2] = value >>> 8;
  bytes[offset + 3] = value;
}

/**
 * Encodes one message into its frames (packet 0 first).
 *
 * @param typeBytes - the type string, already UTF-8 encoded; see {@link encodeType}
 *   (hot paths encode a type once and reuse it).
 */
export function encodePacketsWithTypeBytes(id: MessageId, typeBytes: Uint8Array, data: Uint8Array): Uint8Array[] {
  const [high, low] = messageIdParts(id);
  const count = Math.ceil(data.byteLength / PACKET_DATA_SIZE);
  const frames = new Array<Uint8Array>(count + 1);
  const firstLength = FIRST_PACKET_HEADER_SIZE + typeBytes.byteLength;
  // One allocation for all the frames; each frame is a view into it.
  const buffer = new Uint8Array(firstLength + count * DATA_PACKET_HEADER_SIZE + data.byteLength);
  writeUint32(buffer, 0, high);
  writeUint32(buffer, 4, low);
  writeUint32(buffer, 12, count);
  buffer.set(typeBytes, FIRST_PACKET_HEADER_SIZE);
  frames[0] = buffer.subarray(0, firstLength);
  let offset = firstLength;
  for (let index = 1; index <= count; index++) {
    const start = (index - 1) * PACKET_DATA_SIZE;
    const end = Math.min(start + PACKET_DATA_SIZE, data.byteLength);
    writeUint32(buffer, offset, high);
    writeUint32(buffer, offset + 4, low);
    writeUint32(buffer, offset + 8, index);
    buffer.set(data.subarray(start, end), offset + DATA_PACKET_HEADER_SIZE);
    const next = offset + DATA_PACKET_HEADER_SIZE + (end - start);
    frames[index] = buffer.subarray(offset, next);
    offset = next;
  }
  return frames;
}

/** UTF-8 encodes a message type for {@link encodePacketsWithTypeBytes}. */
export function encodeType(type: string): Uint8Array {
  return utf8Encoder.encode(type);
}

/**
 * Encodes one message into its frames.
 *
 * @example
 * ```ts
 * for (const frame of encodePackets(7, '__response__', data)) socket.send(frame);
 * ```
 */
export function encodePackets(id: MessageId, type: string, data: Uint8Array): Uint8Array[] {
  return encodePacketsWithTypeBytes(id, encodeType(type), data);
}

/** Options of a {@link PacketReassembler}. */
export interface PacketReassemblerOptions {
  /**
   * Largest message data accepted, in bytes. Checked from packet 0's count
   * before anything is buffered.
   * @defaultValue Infinity
   */
  maxMessageBytes?: number;
  /**
   * Longest type string accepted, in bytes.
   * @defaultValue Infinity
   */
  maxTypeBytes?: number;
  /**
   * When true, the remaining data packets of a message that was rejected
   * (too big, out of order, foreign packet) are dropped silently until the
   * next packet 0, instead of each raising "no message in progress". Servers
   * use this so one bad message costs one error.
   * @defaultValue false
   */
  discardRejected?: boolean;
}

/**
 * Message types decoded lately, with their bytes, for every reassembler of
 * the process: a protocol has a handful of types, and comparing a few bytes
 * costs less than a (fatal) TextDecoder call per message. Bounded; the
 * oldest entry makes way.
 */
const recentTypes: { readonly bytes: Uint8Array; readonly type: string }[] = [];
const RECENT_TYPES = 16;
let nextRecentType = 0;

/** The type a packet 0's type bytes decode to, when they are among {@link recentTypes}. */
function knownType(frame: Uint8Array, typeLength: number): string | undefined {
  for (const { bytes, type } of recentTypes) {
    if (bytes.byteLength !== typeLength) continue;
    let i = 0;
    while (i < typeLength && frame[FIRST_PACKET_HEADER_SIZE + i] === bytes[i]) i++;
    if (i === typeLength) return type;
  }
  return undefined;
}

function rememberType(frame: Uint8Array, type: string): void {
  // A copy: a Buffer's slice is a view, and the socket may reuse its memory.
  const entry = { bytes: new Uint8Array(frame.subarray(FIRST_PACKET_HEADER_SIZE)), type };
  if (recentTypes.length < RECENT_TYPES) recentTypes.push(entry);
  else {
    recentTypes[nextRecentType] = entry;
    nextRecentType = (nextRecentType + 1) % RECENT_TYPES;
  }
}

/**
 * Reassembles frames into {@link ProtocolMessage}s, one instance per connection.
 *
 * {@link PacketReassembler.push} returns a message when its last packet
 * arrives, `undefined` while one is incomplete, and throws a {@link CodecError}
 * for a frame that breaks the rules (short, out of order, foreign id, too
 * big). After an error the partial message is dropped and the next packet 0
 * starts afresh, as the protocol's receivers do; {@link PacketReassembler.rejectedId}
 * then names the message that was rejected or lost, when the packets identify one.
 */
export class PacketReassembler {
  private readonly maxMessageBytes: number;
  private readonly maxTypeBytes: number;
  private readonly discardRejected: boolean;
  private idHigh = 0;
  private idLow = 0;
  private type = '';
  private expected = 0;
  private next = 0;
  // A single-packet message keeps its packet's bytes as a view (no copy);
  // longer ones are copied into `buffer`, sized from packet 0's count.
  private single: Uint8Array | undefined;
  private buffer: Uint8Array | undefined;
  private size = 0;
  private inMessage = false;
  // The message whose leftover data packets are being dropped (discardRejected).
  private discarding = false;
  private discardHigh = 0;
  private discardLow = 0;
  private lastRejectedId: MessageId | undefined;
  private lastRejectedByLimit = false;

  constructor(options: PacketReassemblerOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? Infinity;
    this.maxTypeBytes = options.maxTypeBytes ?? Infinity;
    this.discardRejected = options.discardRejected ?? false;
  }

  /** True while a message has started and not all its packets have arrived. */
  get pending(): boolean {
    return this.inMessage;
  }

  /**
   * True while a message has begun and none of its data has arrived yet:
   * the last frame was a packet 0, whose handling a server need not time.
   */
  get awaitingData(): boolean {
    return this.inMessage && this.size === 0;
  }

  /** The id of the message being reassembled, if any (for error responses). */
  get pendingId(): MessageId | undefined {
    return this.inMessage ? messageIdFromParts(this.idHigh, this.idLow) : undefined;
  }

  /**
   * After {@link PacketReassembler.push} threw: the id of the message that
   * error rejected or lost, so a server can answer that request; `undefined`
   * when the bad packet identifies none (e.g. a stray data packet).
   */
  get rejectedId(): MessageId | undefined {
    return this.lastRejectedId;
  }

  /**
   * After {@link PacketReassembler.push} threw: true when the error was a
   * configured limit (`maxMessageBytes`, `maxTypeBytes`) rather than broken
   * framing, so a server can answer it without counting a protocol violation.
   */
  get rejectedByLimit(): boolean {
    return this.lastRejectedByLimit;
  }

  /** Feeds one frame; returns the message it completes, if any. */
  push(frame: Uint8Array): ProtocolMessage | undefined {
    this.lastRejectedId = undefined;
    this.lastRejectedByLimit = false;
    if (frame.byteLength < DATA_PACKET_HEADER_SIZE) {
      const lost = this.pendingId;
      this.abandon();
      throw this.fail(`packet of ${frame.byteLength} bytes is shorter than the ${DATA_PACKET_HEADER_SIZE}-byte header.`, lost);
    }
    // Read by hand: a DataView per frame is an allocation on the hot path.
    const high = readUint32(frame, 0);
    const low = readUint32(frame, 4);
    const index = readUint32(frame, 8);
    if (index === 0) return this.first(frame, high, low);
    if (!this.inMessage) {
      if (this.discarding && high === this.discardHigh && low === this.discardLow) return undefined;
      throw new CodecError(`data packet ${index} arrived with no message in progress.`);
    }
    if (high !== this.idHigh || low !== this.idLow) {
      const expectedId = messageIdFromParts(this.idHigh, this.idLow);
      this.abandon();
      throw this.fail(`packet for message ${messageIdFromParts(high, low)} arrived while message ${expectedId} was in progress.`, expectedId);
    }
    if (index !== this.next) {
      const next = this.next;
      const id = messageIdFromParts(this.idHigh, this.idLow);
      this.abandon();
      throw this.fail(`packet ${index} arrived out of order; expected packet ${next}.`, id);
    }
    const length = frame.byteLength - DATA_PACKET_HEADER_SIZE;
    const size = this.size + length;
    if (size > this.maxMessageBytes) {
      const id = messageIdFromParts(this.idHigh, this.idLow);
      this.abandon();
      throw this.fail(`message data exceeds the limit of ${this.maxMessageBytes} bytes.`, id, undefined, true);
    }
    if (this.expected === 1) {
      this.single = frame.subarray(DATA_PACKET_HEADER_SIZE);
    } else {
      this.append(frame, size);
    }
    this.size = size;
    if (index < this.expected) {
      this.next = index + 1;
      return undefined;
    }
    return this.complete();
  }

  /** Drops any partial message. */
  reset(): void {
    this.inMessage = false;
    this.single = undefined;
    this.buffer = undefined;
    this.size = 0;
  }

  /** Copies a data packet's bytes after the ones received so far. */
  private append(frame: Uint8Array, size: number): void {
    let buffer = this.buffer;
    if (buffer === undefined || size > buffer.byteLength) {
      // Packets are usually full, so expected * PACKET_DATA_SIZE is the usual
      // size. Only up to a cap is allocated before the data arrives, so a
      // packet 0 that merely announces a big message costs little; past it
      // the buffer doubles (oversized packets are legal, hence `size`).
      const full = this.expected * PACKET_DATA_SIZE;
      const target = buffer === undefined ? Math.min(full, INITIAL_CAPACITY) : size <= full ? Math.min(2 * buffer.byteLength, full) : 2 * buffer.byteLength;
      const grown = new Uint8Array(Math.max(size, Math.min(target, this.maxMessageBytes)));
      if (buffer !== undefined) grown.set(buffer.subarray(0, this.size));
      this.buffer = buffer = grown;
    }
    buffer.set(frame.subarray(DATA_PACKET_HEADER_SIZE), this.size);
  }

  private fail(message: string, id: MessageId | undefined, cause?: unknown, limit = false): CodecError {
    this.lastRejectedId = id;
    this.lastRejectedByLimit = limit;
    return cause === undefined ? new CodecError(message) : new CodecError(message, { cause });
  }

  /** Drops the partial message and, with discardRejected, its leftover packets. */
  private abandon(): void {
    if (this.inMessage) this.discardFrom(this.idHigh, this.idLow);
    this.reset();
  }

  private discardFrom(high: number, low: number): void {
    if (!this.discardRejected) return;
    this.discarding = true;
    this.discardHigh = high;
    this.discardLow = low;
  }

  private first(frame: Uint8Array, high: number, low: number): ProtocolMessage | undefined {
    // A new packet 0 always recovers: any partial message is abandoned.
    this.reset();
    this.discarding = false;
    if (frame.byteLength < FIRST_PACKET_HEADER_SIZE) {
      throw this.fail(`first packet of ${frame.byteLength} bytes is shorter than the ${FIRST_PACKET_HEADER_SIZE}-byte header.`, messageIdFromParts(high, low));
    }
    const count = readUint32(frame, 12);
    const typeLength = frame.byteLength - FIRST_PACKET_HEADER_SIZE;
    const id = messageIdFromParts(high, low);
    if (typeLength > this.maxTypeBytes) {
      this.discardFrom(high, low);
      throw this.fail(`message type of ${typeLength} bytes exceeds the limit of ${this.maxTypeBytes} bytes.`, id, undefined, true);
    }
    // The last packet may be short, so (count - 1) full packets is the least the message holds.
    if (count > 0 && (count - 1) * PACKET_DATA_SIZE + 1 > this.maxMessageBytes) {
      this.discardFrom(high, low);
      throw this.fail(`message of ${count} packets exceeds the limit of ${this.maxMessageBytes} bytes.`, id, undefined, true);
    }
    let type = knownType(frame, typeLength);
    if (type === undefined) {
      try {
        type = utf8Decoder.decode(frame.subarray(FIRST_PACKET_HEADER_SIZE));
      } catch (cause) {
        this.discardFrom(high, low);
        throw this.fail('message type is not valid UTF-8.', id, cause);
      }
      rememberType(frame, type);
    }
    if (count === 0) return { id: Number(id), exactId: id, type, data: new Uint8Array(0) };
    this.inMessage = true;
    this.idHigh = high;
    this.idLow = low;
    this.type = type;
    this.expected = count;
    this.next = 1;
    return undefined;
  }

  private complete(): ProtocolMessage {
    const data = this.expected === 1 ? this.single! : this.buffer!.subarray(0, this.size);
    const exactId = messageIdFromParts(this.idHigh, this.idLow);
    const message = { id: Number(exactId), exactId, type: this.type, data };
    this.reset();
    return message;
  }
}
