/**
 * PacketReassembler: broken framing is rejected with a CodecError naming what
 * was wrong, and the next packet 0 always recovers.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PacketReassembler, encodePackets, type ProtocolMessage } from '../../src/protocol/index.js';
import { CodecError } from '../../src/errors.js';

function pattern(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + (i >>> 10) * 7 + 3) & 0xff;
  return out;
}

function feed(reassembler: PacketReassembler, frames: readonly Uint8Array[]): ProtocolMessage[] {
  const out: ProtocolMessage[] = [];
  for (const frame of frames) {
    const message = reassembler.push(frame);
    if (message) out.push(message);
  }
  return out;
}

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
