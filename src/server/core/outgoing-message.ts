/**
 * One outgoing protocol message, encoded once into a single buffer that holds
 * its websocket frames back to back (RFC 6455 server-to-client framing: FIN,
 * binary opcode, no mask). A binding can write that buffer to a socket as is,
 * and a fan-out writes the same buffer to every recipient; the protocol
 * packets stay available as views for transports that frame by themselves.
 *
 * This file builds bytes only; it knows nothing of sockets or of `ws`.
 */
import { DATA_PACKET_HEADER_SIZE, ENVELOPE_LENGTH_SIZE, FIRST_PACKET_HEADER_SIZE, PACKET_DATA_SIZE, messageIdParts, type MessageId } from '../../protocol/index.js';
import { frameHeaderSize, writeFrameHeader } from '../../protocol/websocket-frames.js';
import { ValidationError } from '../../errors.js';

const TWO_POW_32 = 0x1_0000_0000;
const EMPTY = new Uint8Array(0);

/** A protocol message as websocket frames in one buffer. */
export class OutgoingMessage {
  private packetViews: Uint8Array[] | undefined;

  /** @param wire - the message's websocket frames, back to back. */
  constructor(readonly wire: Buffer) {}

  /**
   * The protocol packets (the frames' payloads, packet 0 first) as views
   * into {@link OutgoingMessage.wire}, for a transport that adds its own
   * framing (e.g. `ws.send` on a connection with permessage-deflate).
   */
  get packets(): readonly Uint8Array[] {
    if (this.packetViews === undefined) this.packetViews = splitFrames(this.wire);
    return this.packetViews;
  }
}

/** The payloads of the unmasked frames in `wire`, as views. */
function splitFrames(wire: Buffer): Uint8Array[] {
  const packets: Uint8Array[] = [];
  let offset = 0;
  while (offset < wire.length) {
    let length = wire[offset + 1];
    let start = offset + 2;
    if (length === 126) {
      length = wire.readUInt16BE(offset + 2);
      start = offset + 4;
    } else if (length === 127) {
      length = wire.readUInt32BE(offset + 2) * TWO_POW_32 + wire.readUInt32BE(offset + 6);
      start = offset + 10;
    }
    packets.push(wire.subarray(start, start + length));
    offset = start + length;
  }
  return packets;
}

/** The id's big-endian halves; small ids (nearly all) skip the tuple, bigger ones are split exactly. */
function idWords(id: MessageId): readonly [high: number, low: number] | number {
  return typeof id === 'number' && id >= 0 && id <= 0xffff_ffff && Number.isInteger(id) ? id : messageIdParts(id);
}

/** Writes a big-endian u32 without Buffer's range checks (the caller sized the buffer). */
function writeU32(wire: Buffer, offset: number, value: number): void {
  wire[offset] = value >>> 24;
  wire[offset + 1] = value >>> 16;
  wire[offset + 2] = value >>> 8;
  wire[offset + 3] = value;
}

/**
 * Encodes an envelope whose header JSON `headerJson` (`headerBytes` bytes
 * of UTF-8) has no payload and fits one data packet with its length prefix
 * (the common case: responses, direct messages, presence pushes): the text
 * is encoded straight into the wire buffer, with no intermediate copy.
 */
export function encodeShortEnvelope(id: MessageId, typeBytes: Uint8Array, headerJson: string, headerBytes: number): OutgoingMessage {
  const firstLength = FIRST_PACKET_HEADER_SIZE + typeBytes.byteLength;
  const dataLength = ENVELOPE_LENGTH_SIZE + headerBytes;
  const wire = Buffer.allocUnsafe(frameHeaderSize(firstLength) + firstLength + frameHeaderSize(DATA_PACKET_HEADER_SIZE + dataLength) + DATA_PACKET_HEADER_SIZE + dataLength);
  const words = idWords(id);
  const high = typeof words === 'number' ? 0 : words[0];
  const low = typeof words === 'number' ? words : words[1];
  const body = writeDataPacketHeader(wire, writeFirstPacket(wire, high, low, 1, typeBytes), high, low, 1, dataLength);
  // Envelope length prefix: the high word is 0 (the header fits a packet).
  writeU32(wire, body, 0);
  writeU32(wire, body + 4, headerBytes);
  wire.write(headerJson, body + ENVELOPE_LENGTH_SIZE, headerBytes, 'utf8');
  return new OutgoingMessage(wire);
}

/** Where a message of `dataLength` bytes of data puts its frames: `count` data packets in a wire of `size` bytes. */
interface Layout {
  readonly count: number;
  readonly size: number;
}

function layout(typeBytes: Uint8Array, dataLength: number): Layout {
  const count = Math.ceil(dataLength / PACKET_DATA_SIZE);
  const firstLength = FIRST_PACKET_HEADER_SIZE + typeBytes.byteLength;
  // Every packet but the last is full, so their frame headers all have one size.
  const fullLength = DATA_PACKET_HEADER_SIZE + PACKET_DATA_SIZE;
  const lastLength = count === 0 ? 0 : DATA_PACKET_HEADER_SIZE + (dataLength - (count - 1) * PACKET_DATA_SIZE);
  let size = frameHeaderSize(firstLength) + firstLength;
  if (count > 0) size += (count - 1) * (frameHeaderSize(fullLength) + fullLength) + frameHeaderSize(lastLength) + lastLength;
  return { count, size };
}

/** Writes packet 0 (id, index 0, packet count, type) in its frame; returns the offset after it. */
function writeFirstPacket(wire: Buffer, high: number, low: number, count: number, typeBytes: Uint8Array): number {
  const firstLength = FIRST_PACKET_HEADER_SIZE + typeBytes.byteLength;
  const offset = writeFrameHeader(wire, 0, firstLength);
  writeU32(wire, offset, high);
  writeU32(wire, offset + 4, low);
  writeU32(wire, offset + 8, 0);
  writeU32(wire, offset + 12, count);
  wire.set(typeBytes, offset + FIRST_PACKET_HEADER_SIZE);
  return offset + firstLength;
}

/** Writes the frame and packet header of data packet `index` holding `length` bytes; returns where its data goes. */
function writeDataPacketHeader(wire: Buffer, offset: number, high: number, low: number, index: number, length: number): number {
  offset = writeFrameHeader(wire, offset, DATA_PACKET_HEADER_SIZE + length);
  writeU32(wire, offset, high);
  writeU32(wire, offset + 4, low);
  writeU32(wire, offset + 8, index);
  return offset + DATA_PACKET_HEADER_SIZE;
}

/**
 * Writes the headers of a message's frames into `wire` (sized by
 * {@link layout} for `count` data packets of `dataLength` bytes of data):
 * packet 0 whole, then each data packet's frame and packet header, calling
 * `place(at, start, end)` to put data bytes [start, end) at `at`.
 */
function writePackets(
  wire: Buffer,
  id: MessageId,
  typeBytes: Uint8Array,
  count: number,
  dataLength: number,
  place: (at: number, start: number, end: number) => void,
): void {
  const words = idWords(id);
  const high = typeof words === 'number' ? 0 : words[0];
  const low = typeof words === 'number' ? words : words[1];
  let offset = writeFirstPacket(wire, high, low, count, typeBytes);
  for (let index = 1; index <= count; index++) {
    const start = (index - 1) * PACKET_DATA_SIZE;
    const end = index === count ? dataLength : start + PACKET_DATA_SIZE;
    const at = writeDataPacketHeader(wire, offset, high, low, index, end - start);
    place(at, start, end);
    offset = at + (end - start);
  }
}

/** Writes the 8-byte big-endian envelope length prefix. */
function writeLengthPrefix(wire: Buffer, offset: number, length: number): void {
  writeU32(wire, offset, Math.floor(length / TWO_POW_32));
  writeU32(wire, offset + 4, length >>> 0);
}

/**
 * Encodes one message whose data is the concatenation of an optional 8-byte
 * envelope length prefix (of `head`), `head` and `tail`, without building
 * that concatenation: each range is copied straight into its packet.
 *
 * @param envelope - true to prefix `head` with its 8-byte big-endian length
 *   (envelope header JSON plus payload); false when `head` is already the data.
 */
export function encodeMessage(id: MessageId, typeBytes: Uint8Array, envelope: boolean, head: Uint8Array, tail: Uint8Array = EMPTY): OutgoingMessage {
  const prefix = envelope ? ENVELOPE_LENGTH_SIZE : 0;
  const headEnd = prefix + head.byteLength;
  const dataLength = headEnd + tail.byteLength;
  const { count, size } = layout(typeBytes, dataLength);
  // Every byte is written below, so the buffer need not be zeroed.
  const wire = Buffer.allocUnsafe(size);
  writePackets(wire, id, typeBytes, count, dataLength, (at, start, end) => {
    const body = at - start;
    // Data positions: [0, prefix) length prefix, [prefix, headEnd) head, then tail.
    let pos = start;
    if (pos < prefix) {
      // The 8-byte length always fits in the first packet.
      writeLengthPrefix(wire, body, head.byteLength);
      pos = prefix;
    }
    if (pos < headEnd && pos < end) {
      const stop = Math.min(end, headEnd);
      wire.set(head.subarray(pos - prefix, stop - prefix), body + pos);
      pos = stop;
    }
    if (pos < end) wire.set(tail.subarray(pos - headEnd, end - headEnd), body + pos);
  });
  return new OutgoingMessage(wire);
}

/**
 * Encodes an envelope (no payload) whose header JSON is `head`, then the
 * `items` joined by `separator`, then `tail`, writing each text's UTF-8
 * straight into the wire buffer: a room's presence snapshot (thousands of
 * cached member texts) is never joined into one string nor copied out of an
 * intermediate buffer. `itemsBytes` is the items' total UTF-8 length, which
 * the caller keeps per item.
 *
 * The texts are written back to back at the end of the wire, then each
 * packet's share is moved forward into place behind its headers (every
 * move goes toward the start, past data already moved, so nothing is
 * overwritten before it is read).
 */
export function encodeListEnvelope(
  id: MessageId,
  typeBytes: Uint8Array,
  head: string,
  items: readonly string[],
  itemsBytes: number,
  separator: string,
  tail: string,
): OutgoingMessage {
  const separators = items.length === 0 ? 0 : (items.length - 1) * Buffer.byteLength(separator, 'utf8');
  const headerLength = Buffer.byteLength(head, 'utf8') + itemsBytes + separators + Buffer.byteLength(tail, 'utf8');
  const dataLength = ENVELOPE_LENGTH_SIZE + headerLength;
  const { count, size } = layout(typeBytes, dataLength);
  const wire = Buffer.allocUnsafe(size);
  const dataStart = size - dataLength;
  writeLengthPrefix(wire, dataStart, headerLength);
  let pos = dataStart + ENVELOPE_LENGTH_SIZE;
  pos += wire.write(head, pos, 'utf8');
  let written = 0;
  for (let i = 0; i < items.length; i++) {
    if (i > 0) pos += wire.write(separator, pos, 'utf8');
    const length = wire.write(items[i], pos, 'utf8');
    pos += length;
    written += length;
  }
  pos += wire.write(tail, pos, 'utf8');
  // A wrong total would shift every later byte: a bug of the caller, never sent.
  if (written !== itemsBytes || pos !== size) throw new ValidationError('itemsBytes', `itemsBytes: the items are ${written} bytes of UTF-8, not itemsBytes ${itemsBytes}.`);
  writePackets(wire, id, typeBytes, count, dataLength, (body, start, end) => {
    if (body !== dataStart + start) wire.copyWithin(body, dataStart + start, dataStart + end);
  });
  return new OutgoingMessage(wire);
}

/**
 * A message whose frames are the same for every id (a response of fixed
 * content, such as `empty`): encoded once, then copied per use with the id
 * written into each packet, instead of being encoded afresh.
 */
export class IdTemplate {
  private readonly wire: Buffer;
  /** Offset of each packet's 8-byte id in {@link IdTemplate.wire}. */
  private readonly idOffsets: readonly number[];

  constructor(typeBytes: Uint8Array, data: Uint8Array) {
    const message = encodeMessage(0, typeBytes, false, data);
    this.wire = message.wire;
    this.idOffsets = message.packets.map((packet) => packet.byteOffset - message.wire.byteOffset);
  }

  /** The message with id `id`. */
  encode(id: MessageId): OutgoingMessage {
    const words = idWords(id);
    const high = typeof words === 'number' ? 0 : words[0];
    const low = typeof words === 'number' ? words : words[1];
    const wire = Buffer.allocUnsafe(this.wire.length);
    this.wire.copy(wire);
    const offsets = this.idOffsets;
    for (let i = 0; i < offsets.length; i++) {
      writeU32(wire, offsets[i], high);
      writeU32(wire, offsets[i] + 4, low);
    }
    return new OutgoingMessage(wire);
  }
}
