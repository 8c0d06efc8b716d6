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
  const dataLength = DATA_PACKET_HEADER_SIZE + ENVELOPE_LENGTH_SIZE + headerBytes;
  const firstHeader = frameHeaderSize(firstLength);
  const wire = Buffer.allocUnsafe(firstHeader + firstLength + frameHeaderSize(dataLength) + dataLength);
  const words = idWords(id);
  const high = typeof words === 'number' ? 0 : words[0];
  const low = typeof words === 'number' ? words : words[1];
  let offset = writeFrameHeader(wire, 0, firstLength);
  writeU32(wire, offset, high);
  writeU32(wire, offset + 4, low);
  writeU32(wire, offset + 8, 0);
  writeU32(wire, offset + 12, 1);
  wire.set(typeBytes, offset + FIRST_PACKET_HEADER_SIZE);
  offset = writeFrameHeader(wire, offset + firstLength, dataLength);
  writeU32(wire, offset, high);
  writeU32(wire, offset + 4, low);
  writeU32(wire, offset + 8, 1);
  // Envelope length prefix: the high word is 0 (the header fits a packet).
  writeU32(wire, offset + 12, 0);
  writeU32(wire, offset + 16, headerBytes);
  wire.write(headerJson, offset + DATA_PACKET_HEADER_SIZE + ENVELOPE_LENGTH_SIZE, headerBytes, 'utf8');
  return new OutgoingMessage(wire);
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
  const count = Math.ceil(dataLength / PACKET_DATA_SIZE);
  const firstLength = FIRST_PACKET_HEADER_SIZE + typeBytes.byteLength;
  // Every packet but the last is full, so their frame headers all have one size.
  const fullLength = DATA_PACKET_HEADER_SIZE + PACKET_DATA_SIZE;
  const lastLength = count === 0 ? 0 : DATA_PACKET_HEADER_SIZE + (dataLength - (count - 1) * PACKET_DATA_SIZE);
  let size = frameHeaderSize(firstLength) + firstLength;
  if (count > 0) size += (count - 1) * (frameHeaderSize(fullLength) + fullLength) + frameHeaderSize(lastLength) + lastLength;
  // Every byte is written below, so the buffer need not be zeroed.
  const wire = Buffer.allocUnsafe(size);
  const words = idWords(id);
  const high = typeof words === 'number' ? 0 : words[0];
  const low = typeof words === 'number' ? words : words[1];
  let offset = writeFrameHeader(wire, 0, firstLength);
  wire.writeUInt32BE(high, offset);
  wire.writeUInt32BE(low, offset + 4);
  wire.writeUInt32BE(0, offset + 8);
  wire.writeUInt32BE(count, offset + 12);
  wire.set(typeBytes, offset + FIRST_PACKET_HEADER_SIZE);
  offset += firstLength;
  for (let index = 1; index <= count; index++) {
    const start = (index - 1) * PACKET_DATA_SIZE;
    const end = index === count ? dataLength : start + PACKET_DATA_SIZE;
    offset = writeFrameHeader(wire, offset, DATA_PACKET_HEADER_SIZE + (end - start));
    wire.writeUInt32BE(high, offset);
    wire.writeUInt32BE(low, offset + 4);
    wire.writeUInt32BE(index, offset + 8);
    const body = offset + DATA_PACKET_HEADER_SIZE - start;
    // Data positions: [0, prefix) length prefix, [prefix, headEnd) head, then tail.
    let pos = start;
    if (pos < prefix) {
      // The 8-byte length always fits in the first packet.
      wire.writeUInt32BE(Math.floor(head.byteLength / TWO_POW_32), body);
      wire.writeUInt32BE(head.byteLength >>> 0, body + 4);
      pos = prefix;
    }
    if (pos < headEnd && pos < end) {
      const stop = Math.min(end, headEnd);
      wire.set(head.subarray(pos - prefix, stop - prefix), body + pos);
      pos = stop;
    }
    if (pos < end) wire.set(tail.subarray(pos - headEnd, end - headEnd), body + pos);
    offset = body + end;
  }
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
