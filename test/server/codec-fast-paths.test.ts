/**
 * The fast paths the server's hot loops rely on, checked against simple
 * reference implementations: the depth scan that jumps over strings, the
 * reassembler's pre-sized buffer (including oversized packets, which the
 * protocol allows), the lenient-then-fatal UTF-8 decode, and the base64
 * fast path that must accept and reject exactly what the character scan does.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CodecError } from '../../src/errors.js';
import { PacketReassembler, encodePackets, exceedsDepth, packEnvelopeJson, unpackEnvelope } from '../../src/protocol/index.js';
import { decodeBase64Field, isStandardBase64 } from '../../src/protocol/base64.js';

/** The original character-by-character depth scan. */
function referenceExceedsDepth(json: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > maxDepth) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

describe('exceedsDepth', () => {
  it('agrees with the character scan on JSON and on arbitrary text', () => {
    const text = fc.oneof(
      fc.json(),
      fc.stringMatching(/^[[\]{}"\\a]{0,60}$/),
      fc.json().map((j) => j.replace(/[a-z]/g, '\\')),
    );
    fc.assert(
      fc.property(text, fc.integer({ min: 0, max: 6 }), (json, maxDepth) => {
        expect(exceedsDepth(json, maxDepth)).toBe(referenceExceedsDepth(json, maxDepth));
      }),
      { seed: 11, numRuns: 2000 },
    );
  });

  it('skips brackets inside strings, including after escaped quotes and backslashes', () => {
    expect(exceedsDepth('{"a":"[[[[\\"[[[["}', 2)).toBe(false);
    expect(exceedsDepth('{"a":"\\\\"}', 1)).toBe(false);
    expect(exceedsDepth('{"a":"\\\\",[[]]}', 2)).toBe(true);
  });
});

describe('PacketReassembler buffer', () => {
  it('reassembles messages of any size, any packet sizes included', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 3000 }), { minLength: 1, maxLength: 6 }), (chunks) => {
        // Frames built by hand so packets can be short or longer than 1024 bytes.
        const frames: Uint8Array[] = [encodePackets(9, 't', new Uint8Array(0))[0].slice()];
        new DataView(frames[0].buffer).setUint32(12, chunks.length);
        chunks.forEach((chunk, i) => {
          const frame = new Uint8Array(12 + chunk.byteLength);
          const view = new DataView(frame.buffer);
          view.setUint32(4, 9);
          view.setUint32(8, i + 1);
          frame.set(chunk, 12);
          frames.push(frame);
        });
        const reassembler = new PacketReassembler();
        let message;
        for (const frame of frames) message = reassembler.push(frame);
        expect(Buffer.from(message!.data).equals(Buffer.concat(chunks))).toBe(true);
      }),
      { seed: 12, numRuns: 200 },
    );
  });

  it('reassembles a message bigger than the first allocation', () => {
    const data = new Uint8Array(300 * 1024 + 17).map((_, i) => i & 0xff);
    const reassembler = new PacketReassembler();
    let message;
    for (const frame of encodePackets(3, 'big', data)) message = reassembler.push(frame);
    expect(Buffer.from(message!.data).equals(Buffer.from(data))).toBe(true);
  });

  it('still enforces maxMessageBytes with oversized packets', () => {
    const reassembler = new PacketReassembler({ maxMessageBytes: 2000 });
    const first = encodePackets(4, 't', new Uint8Array(1500))[0];
    expect(reassembler.push(first)).toBeUndefined();
    const oversized = new Uint8Array(12 + 2500);
    new DataView(oversized.buffer).setUint32(4, 4);
    new DataView(oversized.buffer).setUint32(8, 1);
    expect(() => reassembler.push(oversized)).toThrow(CodecError);
    expect(reassembler.rejectedByLimit).toBe(true);
  });
});

describe('unpackEnvelope UTF-8', () => {
  it('keeps a real U+FFFD and rejects invalid bytes', () => {
    expect(unpackEnvelope(packEnvelopeJson('{"a":"\uFFFD"}')).header).toEqual({ a: '\uFFFD' });
    const bad = packEnvelopeJson('{"a":"xx"}');
    bad[14] = 0xff;
    expect(() => unpackEnvelope(bad)).toThrow('envelope header is not valid UTF-8.');
  });
});

describe('decodeBase64Field fast path', () => {
  it('accepts exactly what isStandardBase64 accepts, and decodes it', () => {
    const alphabet = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \n', 'Ł', 'é', '\u012b', '\u{1F600}', '\ud800'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...alphabet), { minLength: 1, maxLength: 16 }), (chars) => {
        const text = chars.join('');
        if (isStandardBase64(text)) {
          expect(Buffer.from(decodeBase64Field(text, 'f')!).equals(Buffer.from(text, 'base64'))).toBe(true);
        } else {
          expect(() => decodeBase64Field(text, 'f')).toThrow('f: expected standard base64');
        }
      }),
      { seed: 13, numRuns: 3000 },
    );
  });

  it('accepts non-canonical padding bits, as the character scan does', () => {
    expect(Buffer.from(decodeBase64Field('YR==', 'f')!)).toEqual(Buffer.from('a'));
    expect(() => decodeBase64Field('YQ-_', 'f')).toThrow('f: expected standard base64');
    // Node's decoder reads 'Ł' (U+0141) as 'A'; the fast path must not.
    expect(() => decodeBase64Field('ŁŁŁŁ', 'f')).toThrow('f: expected standard base64');
  });
});
