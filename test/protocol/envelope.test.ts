import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ENVELOPE_LENGTH_SIZE, exceedsDepth, packEnvelope, packEnvelopeJson, unpackEnvelope } from '../../src/protocol/index.js';
import { CodecError } from '../../src/errors.js';

function bytes(...values: number[]): Uint8Array {
  return new Uint8Array(values);
}

/** Builds envelope bytes by hand: 8-byte BE length, the header bytes, the payload. */
function rawEnvelope(headerText: string, payload: Uint8Array = new Uint8Array(0), lengthOverride?: number): Uint8Array {
  const header = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + header.byteLength + payload.byteLength);
  const view = new DataView(out.buffer);
  const length = lengthOverride ?? header.byteLength;
  view.setUint32(0, Math.floor(length / 2 ** 32));
  view.setUint32(4, length >>> 0);
  out.set(header, 8);
  out.set(payload, 8 + header.byteLength);
  return out;
}

function nested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

describe('packEnvelope layout', () => {
  it('writes an 8-byte big-endian length, the UTF-8 JSON header, then the payload', () => {
    expect(ENVELOPE_LENGTH_SIZE).toBe(8);
    const out = packEnvelope({ a: 'é' }, bytes(1, 2, 3));
    const json = Buffer.from('{"a":"é"}', 'utf8');
    expect([...out.subarray(0, 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, json.byteLength]);
    expect(Buffer.from(out.subarray(8, 8 + json.byteLength)).equals(json)).toBe(true);
    expect([...out.subarray(8 + json.byteLength)]).toEqual([1, 2, 3]);
  });

  it('writes lengths above 255 across bytes, big-endian', () => {
    const text = JSON.stringify({ s: 'x'.repeat(70_000) });
    const out = packEnvelopeJson(text);
    const view = new DataView(out.buffer, out.byteOffset);
    expect(view.getUint32(0)).toBe(0);
    expect(view.getUint32(4)).toBe(text.length);
    expect(out[5]).toBe((text.length >>> 16) & 0xff);
  });

  it('has no payload bytes when the payload is omitted or empty', () => {
    expect(packEnvelope({ type: 'empty' }).byteLength).toBe(8 + '{"type":"empty"}'.length);
    expect(packEnvelope({ type: 'empty' }, new Uint8Array(0))).toEqual(packEnvelope({ type: 'empty' }));
  });

  it('packEnvelopeJson is packEnvelope with the JSON already serialised', () => {
    const header = { type: 'json', json: { n: 1, list: [true, null] } };
    expect(packEnvelopeJson(JSON.stringify(header), bytes(9))).toEqual(packEnvelope(header, bytes(9)));
  });
});

describe('envelope round trip', () => {
  it.each([0, 1, 1023, 1024, 1025, 5 * 1024 * 1024])('keeps a %i-byte payload byte for byte', (size) => {
    const payload = new Uint8Array(size);
    for (let i = 0; i < size; i++) payload[i] = (i * 7 + 1) & 0xff;
    const { header, payload: out } = unpackEnvelope(packEnvelope({ type: 'binary', headers: { size } }, payload));
    expect(header).toEqual({ type: 'binary', headers: { size } });
    expect(out.byteLength).toBe(size);
    expect(Buffer.from(out).equals(Buffer.from(payload))).toBe(true);
  });

  it('property: any JSON object header and any payload survive', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'binary', maxLength: 12 }), fc.jsonValue({ maxDepth: 4 })), fc.uint8Array({ maxLength: 3000 }), (header, payload) => {
        const { header: decoded, payload: out } = unpackEnvelope(packEnvelope(header, payload));
        // JSON cannot carry -0; compare with what JSON itself gives back.
        expect(decoded).toEqual(JSON.parse(JSON.stringify(header)));
        expect(Buffer.from(out).equals(Buffer.from(payload))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps unknown header keys such as __meshagent__', () => {
    const header = { type: 'json', json: {}, __meshagent__: { v: 1, otel: { traceparent: '00-abc' } } };
    expect(unpackEnvelope(packEnvelope(header)).header).toEqual(header);
  });

  it('accepts a header written with a non-zero-copy view (subarray input)', () => {
    const packed = packEnvelope({ k: 'v' }, bytes(4, 5));
    const big = new Uint8Array(packed.byteLength + 6);
    big.set(packed, 3);
    const { header, payload } = unpackEnvelope(big.subarray(3, 3 + packed.byteLength));
    expect(header).toEqual({ k: 'v' });
    expect([...payload]).toEqual([4, 5]);
  });

  it('decodes a Node Buffer (the server reads Buffers from ws) as it decodes a Uint8Array, a real U+FFFD included', () => {
    const packed = packEnvelope({ k: 'v\uFFFD\u00e9' }, bytes(7));
    const pooled = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(packed)]).subarray(3);
    expect(unpackEnvelope(pooled)).toEqual({ header: { k: 'v\uFFFD\u00e9' }, payload: expect.anything() });
    expect([...unpackEnvelope(pooled).payload]).toEqual([7]);
  });

  it('refuses invalid UTF-8 in a Node Buffer', () => {
    const data = Buffer.from(rawEnvelope('{"a":"xx"}'));
    data[14] = 0xff;
    expect(() => unpackEnvelope(data)).toThrow('envelope header is not valid UTF-8.');
  });
});

describe('unpackEnvelope errors', () => {
  const cases: Array<{ name: string; data: Uint8Array; message: string | RegExp }> = [
    { name: 'empty data', data: new Uint8Array(0), message: 'envelope of 0 bytes is shorter than its 8-byte length prefix.' },
    { name: '7 bytes', data: new Uint8Array(7), message: 'envelope of 7 bytes is shorter than its 8-byte length prefix.' },
    { name: 'length past the data', data: rawEnvelope('{}', new Uint8Array(0), 3), message: 'envelope header length 3 runs past the 2 bytes that follow it.' },
    { name: 'length in the high word', data: rawEnvelope('{}', new Uint8Array(0), 2 ** 32 + 2), message: /envelope header length 4294967298 runs past/ },
    { name: 'zero-length header', data: rawEnvelope(''), message: /envelope header is not valid JSON/ },
    { name: 'invalid JSON', data: rawEnvelope('{"a":'), message: 'envelope header is not valid JSON: "{\\"a\\":".' },
    { name: 'an array', data: rawEnvelope('[1,2]'), message: 'envelope header must be a JSON object, got [1,2].' },
    { name: 'null', data: rawEnvelope('null'), message: 'envelope header must be a JSON object, got null.' },
    { name: 'a number', data: rawEnvelope('42'), message: 'envelope header must be a JSON object, got 42.' },
    { name: 'a string', data: rawEnvelope('"x"'), message: 'envelope header must be a JSON object, got "x".' },
    { name: 'invalid UTF-8', data: (() => { const d = rawEnvelope('{"a":"xx"}'); d[14] = 0xff; return d; })(), message: 'envelope header is not valid UTF-8.' },
    { name: 'too deep', data: rawEnvelope(`{"a":${nested(64)}}`), message: 'envelope header is nested deeper than 64 levels.' },
  ];

  it.each(cases)('rejects $name', ({ data, message }) => {
    let error: unknown;
    try {
      unpackEnvelope(data);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CodecError);
    expect((error as CodecError).code).toBe('ROOM_ERR_CODEC');
    if (typeof message === 'string') expect((error as Error).message).toBe(message);
    else expect((error as Error).message).toMatch(message);
  });

  it('accepts exactly maxDepth levels and refuses one more', () => {
    expect(unpackEnvelope(rawEnvelope(`{"a":${nested(63)}}`)).header).toHaveProperty('a');
    expect(() => unpackEnvelope(rawEnvelope(`{"a":${nested(64)}}`))).toThrow(CodecError);
    expect(unpackEnvelope(rawEnvelope(`{"a":${nested(2)}}`), { maxDepth: 3 }).header).toEqual({ a: [[]] });
    expect(() => unpackEnvelope(rawEnvelope(`{"a":${nested(3)}}`), { maxDepth: 3 })).toThrow('envelope header is nested deeper than 3 levels.');
  });

  it('does not count brackets inside strings, including after escaped quotes', () => {
    const header = { s: `\\"${'['.repeat(100)}`, t: '{{{{' };
    expect(unpackEnvelope(packEnvelope(header), { maxDepth: 1 }).header).toEqual(header);
  });
});

describe('exceedsDepth', () => {
  it.each([
    { json: '{}', max: 1, deeper: false },
    { json: '{}', max: 0, deeper: true },
    { json: '[[1],[2]]', max: 2, deeper: false },
    { json: '[[[1]]]', max: 2, deeper: true },
    { json: '{"a":"[[[["}', max: 1, deeper: false },
    { json: '{"a":"\\"[[[["}', max: 1, deeper: false },
    { json: '{"a":"\\\\"}', max: 1, deeper: false },
    { json: '{"a":"\\\\",[[]]}', max: 2, deeper: true },
    { json: '1', max: 0, deeper: false },
  ])('$json with max $max -> $deeper', ({ json, max, deeper }) => {
    expect(exceedsDepth(json, max)).toBe(deeper);
  });

  it('property: agrees with the real nesting depth of any JSON value', () => {
    const depthOf = (value: unknown): number =>
      value !== null && typeof value === 'object'
        ? 1 + Math.max(0, ...Object.values(value as Record<string, unknown>).map(depthOf))
        : 0;
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.nat({ max: 8 }), (value, max) => {
        expect(exceedsDepth(JSON.stringify(value), max)).toBe(depthOf(value) > max);
      }),
      { numRuns: 500 },
    );
  });
});
