import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DATA_PACKET_HEADER_SIZE,
  FIRST_PACKET_HEADER_SIZE,
  PACKET_DATA_SIZE,
  PacketReassembler,
  encodePackets,
  encodePacketsWithTypeBytes,
  encodeType,
  messageIdFromParts,
  messageIdParts,
  type MessageId,
  type ProtocolMessage,
} from '../../src/protocol/index.js';
import { CodecError } from '../../src/errors.js';

const TWO_POW_32 = 2 ** 32;

/** Deterministic, non-repeating-per-KiB bytes, so a misplaced chunk cannot go unnoticed. */
function pattern(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + (i >>> 10) * 7 + 3) & 0xff;
  return out;
}

function view(frame: Uint8Array): DataView {
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
}

/** Pushes every frame; returns the messages completed, in order. */
function feed(reassembler: PacketReassembler, frames: readonly Uint8Array[]): ProtocolMessage[] {
  const out: ProtocolMessage[] = [];
  for (const frame of frames) {
    const message = reassembler.push(frame);
    if (message) out.push(message);
  }
  return out;
}

function roundTrip(id: MessageId, type: string, data: Uint8Array): ProtocolMessage {
  const reassembler = new PacketReassembler();
  const frames = encodePackets(id, type, data);
  const messages = feed(reassembler, frames);
  expect(messages).toHaveLength(1);
  expect(reassembler.pending).toBe(false);
  return messages[0];
}

describe('packet constants', () => {
  it('match the protocol', () => {
    expect(PACKET_DATA_SIZE).toBe(1024);
    expect(FIRST_PACKET_HEADER_SIZE).toBe(16);
    expect(DATA_PACKET_HEADER_SIZE).toBe(12);
  });
});

describe('encodePackets framing', () => {
  const cases: Array<{ size: number; packets: number; lastChunk: number }> = [
    { size: 0, packets: 0, lastChunk: 0 },
    { size: 1, packets: 1, lastChunk: 1 },
    { size: 1023, packets: 1, lastChunk: 1023 },
    { size: 1024, packets: 1, lastChunk: 1024 },
    { size: 1025, packets: 2, lastChunk: 1 },
    { size: 2048, packets: 2, lastChunk: 1024 },
    { size: 5 * 1024 * 1024, packets: 5 * 1024, lastChunk: 1024 },
    { size: 5 * 1024 * 1024 + 17, packets: 5 * 1024 + 1, lastChunk: 17 },
  ];

  it.each(cases)('$size bytes -> $packets data packets, last chunk $lastChunk bytes', ({ size, packets, lastChunk }) => {
    const data = pattern(size);
    const frames = encodePackets(7, 'room.invoke_tool', data);
    expect(frames).toHaveLength(packets + 1);

    const first = frames[0];
    const typeBytes = new TextEncoder().encode('room.invoke_tool');
    expect(first.byteLength).toBe(16 + typeBytes.byteLength);
    expect(view(first).getUint32(0)).toBe(0);
    expect(view(first).getUint32(4)).toBe(7);
    expect(view(first).getUint32(8)).toBe(0);
    expect(view(first).getUint32(12)).toBe(packets);
    expect(first.subarray(16)).toEqual(typeBytes);

    let offset = 0;
    for (let i = 1; i <= packets; i++) {
      const frame = frames[i];
      const chunk = i === packets ? lastChunk : 1024;
      expect(frame.byteLength).toBe(12 + chunk);
      expect(view(frame).getUint32(0)).toBe(0);
      expect(view(frame).getUint32(4)).toBe(7);
      expect(view(frame).getUint32(8)).toBe(i);
      // Byte-exact slice [(i-1)*1024, min(i*1024, len)).
      expect(Buffer.from(frame.subarray(12)).equals(Buffer.from(data.subarray(offset, offset + chunk)))).toBe(true);
      offset += chunk;
    }
    expect(offset).toBe(size);
  });

  it('writes packet 0 byte for byte', () => {
    const [first, second] = encodePackets(0x0102_0304_0506, 'ab', new Uint8Array([9, 8, 7]));
    expect([...first]).toEqual([0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 1, 0x61, 0x62]);
    expect([...second]).toEqual([0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0, 0, 0, 1, 9, 8, 7]);
  });

  it.each([
    { id: 0, high: 0, low: 0 },
    { id: 1, high: 0, low: 1 },
    { id: 0xffff_ffff, high: 0, low: 0xffff_ffff },
    { id: 2 ** 32, high: 1, low: 0 },
    { id: 2 ** 32 + 5, high: 1, low: 5 },
    { id: 0x1f_beef * TWO_POW_32 + 0x1234_5678, high: 0x1f_beef, low: 0x1234_5678 },
    { id: Number.MAX_SAFE_INTEGER, high: 0x1f_ffff, low: 0xffff_ffff },
  ])('writes id $id big-endian as high $high / low $low in every packet', ({ id, high, low }) => {
    const frames = encodePackets(id, 't', pattern(1500));
    for (const frame of frames) {
      expect(view(frame).getUint32(0)).toBe(high);
      expect(view(frame).getUint32(4)).toBe(low);
    }
    expect(roundTrip(id, 't', pattern(1500)).id).toBe(id);
  });

  it.each([-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1, Infinity])('rejects message id %s', (id) => {
    expect(() => encodePackets(id, 't', new Uint8Array(0))).toThrow(CodecError);
    expect(() => encodePackets(id, 't', new Uint8Array(0))).toThrow(/message id .* is not a non-negative safe integer/);
  });

  it.each([-1n, 1n << 64n])('rejects bigint message id %s outside 0..2^64-1', (id) => {
    expect(() => encodePackets(id, 't', new Uint8Array(0))).toThrow(/outside the 64-bit range/);
  });

  it('round-trips every 64-bit id exactly: a number when safe, a bigint above', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.integer({ min: 0, max: 2100 }), (big, size) => {
        const id = big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
        const message = roundTrip(id, 't', pattern(size));
        expect(message.exactId).toBe(id);
        expect(messageIdParts(id)).toEqual([Number(big >> 32n), Number(big & 0xffffffffn)]);
        expect(messageIdFromParts(...messageIdParts(id))).toBe(id);
      }),
    );
  });

  it('encodePacketsWithTypeBytes gives the same frames as encodePackets', () => {
    const data = pattern(3000);
    expect(encodePacketsWithTypeBytes(42, encodeType('messaging.send'), data)).toEqual(encodePackets(42, 'messaging.send', data));
  });

  it('encodes the type as UTF-8 with no length prefix, running to the end of packet 0', () => {
    const type = 'héllo/😀';
    const [first] = encodePackets(1, type, new Uint8Array(0));
    expect(first.byteLength).toBe(16 + Buffer.byteLength(type, 'utf8'));
    expect(new TextDecoder().decode(first.subarray(16))).toBe(type);
  });
});

describe('encode then reassemble', () => {
  it.each([0, 1, 1023, 1024, 1025, 4096, 5 * 1024 * 1024])('round-trips %i bytes of data', (size) => {
    const data = pattern(size);
    const message = roundTrip(12345, '__response__', data);
    expect(message.type).toBe('__response__');
    expect(message.id).toBe(12345);
    expect(message.data.byteLength).toBe(size);
    expect(Buffer.from(message.data).equals(Buffer.from(data))).toBe(true);
  });

  it('delivers an empty Uint8Array for N = 0', () => {
    const message = roundTrip(3, 'room_ready', new Uint8Array(0));
    expect(message.data).toBeInstanceOf(Uint8Array);
    expect(message.data.byteLength).toBe(0);
  });

  it('property: any id, type string and data survive the round trip', () => {
    fc.assert(
      fc.property(
        fc.maxSafeNat(),
        fc.string({ unit: 'binary', maxLength: 64 }),
        fc.uint8Array({ maxLength: 5000 }),
        (id, type, data) => {
          const message = roundTrip(id, type, data);
          expect(message.id).toBe(id);
          expect(message.type).toBe(type);
          expect(Buffer.from(message.data).equals(Buffer.from(data))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: frame sizes are exact for any data length', () => {
    fc.assert(
      fc.property(fc.nat({ max: 20_000 }), fc.string({ maxLength: 20 }), (size, type) => {
        const frames = encodePackets(1, type, new Uint8Array(size));
        const count = Math.ceil(size / 1024);
        expect(frames).toHaveLength(count + 1);
        expect(view(frames[0]).getUint32(12)).toBe(count);
        let total = 0;
        for (let i = 1; i < frames.length; i++) {
          const chunk = frames[i].byteLength - 12;
          if (i < count) expect(chunk).toBe(1024);
          expect(chunk).toBeGreaterThan(0);
          total += chunk;
        }
        expect(total).toBe(size);
      }),
    );
  });

  it('reassembles consecutive messages on one reassembler', () => {
    const reassembler = new PacketReassembler();
    const a = pattern(2500);
    const b = pattern(10);
    const messages = feed(reassembler, [...encodePackets(1, 'a', a), ...encodePackets(2, 'b', new Uint8Array(0)), ...encodePackets(3, 'c', b)]);
    expect(messages.map((m) => [m.id, m.type, m.data.byteLength])).toEqual([
      [1, 'a', 2500],
      [2, 'b', 0],
      [3, 'c', 10],
    ]);
  });

  it('tells types of one length apart, from frames whose memory is reused after each push', () => {
    const reassembler = new PacketReassembler();
    const reused = new Uint8Array(64);
    const types: string[] = [];
    for (const [id, type] of [[1, 'abc'], [2, 'abc'], [3, 'abd'], [4, 'abc'], [5, 'é!']] as const) {
      for (const frame of encodePackets(id, type, new Uint8Array([id]))) {
        reused.set(frame);
        const message = reassembler.push(reused.subarray(0, frame.byteLength));
        if (message !== undefined) types.push(message.type);
        reused.fill(0x61);
      }
    }
    expect(types).toEqual(['abc', 'abc', 'abd', 'abc', 'é!']);
    // A type of the last type's length that is not UTF-8 is still refused.
    const bad = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 1, 0xc3, 0x28, 0x21]);
    expect(() => reassembler.push(bad)).toThrow(CodecError);
  });

  it('accepts chunks of any size (the receiver only counts packets)', () => {
    // Hand-built message of 3 data packets carrying 100, 1 and 0 bytes.
    const header = (index: number, extra: number[]) => new Uint8Array([0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, index, ...extra]);
    const first = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 3, 0x78]);
    const reassembler = new PacketReassembler();
    const messages = feed(reassembler, [first, header(1, new Array(100).fill(5)), header(2, [6]), header(3, [])]);
    expect(messages).toHaveLength(1);
    expect(messages[0].type).toBe('x');
    expect(messages[0].data.byteLength).toBe(101);
    expect(messages[0].data[100]).toBe(6);
  });

  it('accepts frames that are views into a larger buffer', () => {
    const frames = encodePackets(77, 'view', pattern(1500));
    const reassembler = new PacketReassembler();
    const out = feed(
      reassembler,
      frames.map((frame) => {
        const big = new Uint8Array(frame.byteLength + 10);
        big.set(frame, 5);
        return big.subarray(5, 5 + frame.byteLength);
      }),
    );
    expect(out).toHaveLength(1);
    expect(out[0].id).toBe(77);
    expect(Buffer.from(out[0].data).equals(Buffer.from(pattern(1500)))).toBe(true);
  });
});
