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

function roundTrip(id: number, type: string, data: Uint8Array): ProtocolMessage {
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

describe('PacketReassembler rejects broken framing and recovers on the next packet 0', () => {
  function expectRecovers(reassembler: PacketReassembler): void {
    expect(reassembler.pending).toBe(false);
    const messages = feed(reassembler, encodePackets(99, 'next', pattern(1100)));
    expect(messages).toHaveLength(1);
    expect(messages[0].id).toBe(99);
    expect(messages[0].type).toBe('next');
    expect(messages[0].data.byteLength).toBe(1100);
  }

  it('rejects an out-of-order packet', () => {
    const reassembler = new PacketReassembler();
    const frames = encodePackets(5, 't', pattern(3000));
    reassembler.push(frames[0]);
    expect(reassembler.pending).toBe(true);
    expect(reassembler.pendingId).toBe(5);
    expect(() => reassembler.push(frames[2])).toThrow(new CodecError('packet 2 arrived out of order; expected packet 1.'));
    // The rest of the broken message is refused too, it never completes.
    expect(() => reassembler.push(frames[3])).toThrow(CodecError);
    expectRecovers(reassembler);
  });

  it('rejects a repeated packet', () => {
    const reassembler = new PacketReassembler();
    const frames = encodePackets(5, 't', pattern(3000));
    reassembler.push(frames[0]);
    reassembler.push(frames[1]);
    expect(() => reassembler.push(frames[1])).toThrow(/packet 1 arrived out of order; expected packet 2/);
    expectRecovers(reassembler);
  });

  it('rejects a data packet with a foreign id', () => {
    const reassembler = new PacketReassembler();
    const mine = encodePackets(2 ** 32 + 1, 't', pattern(3000));
    const foreign = encodePackets(1, 't', pattern(3000));
    reassembler.push(mine[0]);
    reassembler.push(mine[1]);
    expect(() => reassembler.push(foreign[2])).toThrow(
      new CodecError(`packet for message 1 arrived while message ${2 ** 32 + 1} was in progress.`),
    );
    expectRecovers(reassembler);
  });

  it('compares both id words (same low word, different high word is foreign)', () => {
    const reassembler = new PacketReassembler();
    reassembler.push(encodePackets(2 ** 32 + 7, 't', pattern(2000))[0]);
    expect(() => reassembler.push(encodePackets(7, 't', pattern(2000))[1])).toThrow(/arrived while message/);
  });

  it('rejects a data packet with no message in progress', () => {
    const reassembler = new PacketReassembler();
    expect(() => reassembler.push(encodePackets(4, 't', pattern(10))[1])).toThrow(
      new CodecError('data packet 1 arrived with no message in progress.'),
    );
    expectRecovers(reassembler);
  });

  it.each([0, 1, 11])('rejects a %i-byte packet', (size) => {
    const reassembler = new PacketReassembler();
    reassembler.push(encodePackets(5, 't', pattern(3000))[0]);
    expect(() => reassembler.push(new Uint8Array(size))).toThrow(
      new CodecError(`packet of ${size} bytes is shorter than the 12-byte header.`),
    );
    expect(reassembler.pending).toBe(false);
    expectRecovers(reassembler);
  });

  it.each([12, 15])('rejects a %i-byte packet 0', (size) => {
    const reassembler = new PacketReassembler();
    expect(() => reassembler.push(new Uint8Array(size))).toThrow(
      new CodecError(`first packet of ${size} bytes is shorter than the 16-byte header.`),
    );
    expectRecovers(reassembler);
  });

  it('abandons a partial message when a new packet 0 arrives', () => {
    const reassembler = new PacketReassembler();
    const broken = encodePackets(1, 'broken', pattern(3000));
    reassembler.push(broken[0]);
    reassembler.push(broken[1]);
    expect(reassembler.pending).toBe(true);
    const messages = feed(reassembler, encodePackets(99, 'next', pattern(1100)));
    expect(messages.map((m) => [m.id, m.type, m.data.byteLength])).toEqual([[99, 'next', 1100]]);
    // The abandoned message's remaining packet is now foreign to nothing: refused.
    expect(() => reassembler.push(broken[2])).toThrow(/no message in progress/);
  });

  it('rejects a type that is not UTF-8', () => {
    const reassembler = new PacketReassembler();
    const frame = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe]);
    expect(() => reassembler.push(frame)).toThrow(new CodecError('message type is not valid UTF-8.'));
    expectRecovers(reassembler);
  });

  it('enforces maxTypeBytes', () => {
    const reassembler = new PacketReassembler({ maxTypeBytes: 4 });
    expect(feed(reassembler, encodePackets(1, 'abcd', new Uint8Array(0)))).toHaveLength(1);
    expect(() => reassembler.push(encodePackets(1, 'abcde', new Uint8Array(0))[0])).toThrow(
      new CodecError('message type of 5 bytes exceeds the limit of 4 bytes.'),
    );
  });

  it('enforces maxMessageBytes from the packet count before buffering', () => {
    const reassembler = new PacketReassembler({ maxMessageBytes: 2048 });
    expect(feed(reassembler, encodePackets(1, 't', pattern(2048)))).toHaveLength(1);
    // 4 packets hold at least 3 * 1024 + 1 bytes: refused at packet 0.
    expect(() => reassembler.push(encodePackets(2, 't', pattern(3073))[0])).toThrow(
      new CodecError('message of 4 packets exceeds the limit of 2048 bytes.'),
    );
    expect(reassembler.pending).toBe(false);
  });

  it('enforces maxMessageBytes on the bytes actually received', () => {
    // A sender may use chunks larger than 1024 bytes: 2 packets of 1500 bytes pass the
    // packet-count check at packet 0 but carry 3000 bytes.
    const reassembler = new PacketReassembler({ maxMessageBytes: 2048 });
    const first = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 2, 0x74]);
    const data = (index: number) => {
      const frame = new Uint8Array(12 + 1500);
      frame.set([0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, index]);
      return frame;
    };
    expect(reassembler.push(first)).toBeUndefined();
    expect(reassembler.push(data(1))).toBeUndefined();
    expect(() => reassembler.push(data(2))).toThrow(new CodecError('message data exceeds the limit of 2048 bytes.'));
    expectRecovers(reassembler);
  });

  it('property: any corruption is either rejected or yields the original message, and the next message always gets through', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 4000 }),
        fc.nat(),
        fc.constantFrom('drop', 'swap', 'truncate', 'foreign'),
        (data, pick, corruption) => {
          const frames = encodePackets(10, 'msg', data);
          const i = 1 + (pick % (frames.length - 1));
          const broken = frames.slice();
          if (corruption === 'drop') broken.splice(i, 1);
          else if (corruption === 'swap' && i + 1 < broken.length) [broken[i], broken[i + 1]] = [broken[i + 1], broken[i]];
          else if (corruption === 'truncate') broken[i] = broken[i].subarray(0, 11);
          else if (corruption === 'foreign') broken[i] = encodePackets(11, 'msg', data)[i];
          const reassembler = new PacketReassembler();
          const delivered: ProtocolMessage[] = [];
          for (const frame of broken) {
            try {
              const m = reassembler.push(frame);
              if (m) delivered.push(m);
            } catch (error) {
              expect(error).toBeInstanceOf(CodecError);
            }
          }
          const unchanged = broken.length === frames.length && broken.every((f, k) => f === frames[k]);
          if (unchanged) expect(delivered).toHaveLength(1);
          else expect(delivered).toHaveLength(0);
          const next = feed(reassembler, encodePackets(12, 'after', data));
          expect(next).toHaveLength(1);
          expect(Buffer.from(next[0].data).equals(Buffer.from(data))).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
  it('property: with discardRejected, a corrupted message costs exactly one error, which names its id', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1025, maxLength: 6000 }),
        fc.nat(),
        fc.constantFrom('drop', 'swap', 'truncate', 'foreign'),
        (data, pick, corruption) => {
          const frames = encodePackets(10, 'msg', data);
          const i = 1 + (pick % (frames.length - 2));
          const broken = frames.slice();
          if (corruption === 'drop') broken.splice(i, 1);
          else if (corruption === 'swap') [broken[i], broken[i + 1]] = [broken[i + 1], broken[i]];
          else if (corruption === 'truncate') broken[i] = broken[i].subarray(0, 11);
          else broken[i] = encodePackets(11, 'msg', data)[i];
          const reassembler = new PacketReassembler({ discardRejected: true });
          let errors = 0;
          let delivered = 0;
          for (const frame of broken) {
            try {
              if (reassembler.push(frame)) delivered++;
            } catch (error) {
              expect(error).toBeInstanceOf(CodecError);
              expect(reassembler.rejectedId).toBe(10);
              expect(reassembler.rejectedByLimit).toBe(false);
              errors++;
            }
          }
          expect(errors).toBe(1);
          expect(delivered).toBe(0);
          expect(feed(reassembler, encodePackets(12, 'after', data)).map((m) => m.id)).toEqual([12]);
        },
      ),
      { numRuns: 200 },
    );
  });
});
