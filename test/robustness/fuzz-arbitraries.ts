/**
 * fast-check arbitraries of hostile client traffic: whole requests with
 * malformed envelopes and arguments, random and mutated frames, text frames.
 * Participant ids are placeholders ("$A", "$B", "$SELF") resolved at run time.
 */
import fc from 'fast-check';
import { encodePackets, packEnvelope, packEnvelopeJson } from '../../src/protocol/index.js';

/** A request sent intact with a known id: the server must answer it or close. */
export interface RequestChunk {
  readonly kind: 'request';
  readonly type: string | Uint8Array;
  /** Builds the data once placeholders are known. */
  readonly data: (ids: PlaceholderIds) => Uint8Array;
  /** False when the server may legitimately stay silent (set_attributes, __response__). */
  readonly expectsResponse: boolean;
}

/** Frames with no answer expected: random, mutated, text. */
export interface FramesChunk {
  readonly kind: 'frames';
  readonly label: string;
  readonly frames: readonly (Uint8Array | string)[];
}

/** One step of an attack. */
export type Chunk = RequestChunk | FramesChunk;

/** Run-time values of the placeholders. */
export interface PlaceholderIds {
  readonly A: string;
  readonly B: string;
  readonly SELF: string;
}

const utf8 = new TextEncoder();

function resolve(value: unknown, ids: PlaceholderIds): unknown {
  if (value === '$A') return ids.A;
  if (value === '$B') return ids.B;
  if (value === '$SELF') return ids.SELF;
  return value;
}

/** Deeply nested JSON text of the given depth. */
function nested(depth: number, open = '[', close = ']'): string {
  return open.repeat(depth) + close.repeat(depth);
}

const participantRef = fc.oneof(
  fc.constantFrom('$A', '$B', '$SELF'),
  fc.string({ maxLength: 40 }),
  fc.constantFrom<unknown>(null, 42, [], {}, true),
);

const messageJson = fc.oneof(
  { weight: 3, arbitrary: fc.json({ maxDepth: 4 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 30 }) }, // mostly invalid JSON
  { weight: 1, arbitrary: fc.integer({ min: 65, max: 20_000 }).map((d) => nested(d)) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 200_000 }).map((n) => JSON.stringify({ big: 'x'.repeat(n) })) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(7, null, { a: 1 }, ['[]']) },
);

const attachment = fc.oneof(
  fc.constant(undefined),
  fc.uint8Array({ maxLength: 3000 }).map((b) => Buffer.from(b).toString('base64')),
  fc.constantFrom<unknown>('@@@not base64@@@', 'abc', '====', 'YQ', 'Y===', '\u00e9\u00e9', 12, null, ['AA==']),
);

const userType = fc.oneof(
  fc.constantFrom('fuzz', 'chat'),
  fc.string({ maxLength: 20 }),
  fc.integer({ min: 257, max: 5000 }).map((n) => 't'.repeat(n)),
  fc.constantFrom<unknown>(5, null, {}, 'messaging.enabled', 'participant.enabled', 'participant.disabled', 'participant.attributes'),
);

const toolArguments = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record(
        {
          to_participant_id: participantRef,
          type: userType,
          message_json: messageJson,
          attachment_base64: attachment,
        },
        { requiredKeys: [] },
      )
      .map((json) => ({ type: 'json', json })),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((json) => ({ type: 'json', json })) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>({ type: 'empty' }, { type: 'text', text: 'hi' }, { type: 'binary' }, { type: 42 }, null, 'json', []) },
);

const invokeHeader = fc.record(
  {
    toolkit: fc.oneof({ weight: 8, arbitrary: fc.constant<unknown>('messaging') }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(null, 3, {}) }),
    tool: fc.oneof({ weight: 8, arbitrary: fc.constantFrom<unknown>('send', 'broadcast', 'enable', 'disable') }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(null, 1) }),
    arguments: toolArguments,
    tool_call_id: fc.oneof(fc.string({ maxLength: 10 }), fc.constant<unknown>(null)),
    participant_id: fc.oneof(fc.constant<unknown>(null), participantRef),
    __meshagent__: fc.constant<unknown>({ v: 1 }),
  },
  { requiredKeys: ['toolkit', 'tool', 'arguments'] },
);

/** Turns a generated invoke header into data, resolving placeholders in the arguments. */
function invokeData(header: Record<string, unknown>): (ids: PlaceholderIds) => Uint8Array {
  return (ids) => {
    const args = header.arguments as { json?: unknown } | null;
    const json = args && typeof args === 'object' && args.json && typeof args.json === 'object' && !Array.isArray(args.json)
      ? { ...args.json, to_participant_id: resolve((args.json as Record<string, unknown>).to_participant_id, ids) }
      : args?.json;
    const resolved = args && typeof args === 'object' && 'json' in args ? { ...args, json } : args;
    return packEnvelope({ ...header, participant_id: resolve(header.participant_id, ids), arguments: resolved });
  };
}

/** Envelope data that is broken in some way. */
const brokenEnvelope = fc.oneof(
  // The length runs past the data.
  fc.tuple(fc.integer({ min: 1, max: 2 ** 31 }), fc.uint8Array({ maxLength: 40 })).map(([extra, body]) => {
    const out = new Uint8Array(8 + body.length);
    const view = new DataView(out.buffer);
    const length = body.length + extra;
    view.setUint32(0, Math.floor(length / 2 ** 32));
    view.setUint32(4, length >>> 0);
    out.set(body, 8);
    return out;
  }),
  // Huge u64 length.
  fc.constant(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7b, 0x7d])),
  // Any u64 length, before a short body.
  fc.tuple(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.uint8Array({ maxLength: 40 })).map(([length, body]) => {
    const out = new Uint8Array(8 + body.length);
    new DataView(out.buffer).setBigUint64(0, length);
    out.set(body, 8);
    return out;
  }),
  // Shorter than the length prefix, or empty.
  fc.uint8Array({ maxLength: 7 }),
  // Invalid JSON, invalid UTF-8, non-object JSON.
  fc.string({ maxLength: 60 }).map((text) => packEnvelopeJson(text)),
  fc.uint8Array({ minLength: 1, maxLength: 40 }).map((bytes) => {
    const out = new Uint8Array(8 + bytes.length + 1);
    new DataView(out.buffer).setUint32(4, bytes.length + 1);
    out.set(bytes, 8);
    out[8 + bytes.length] = 0xff; // never valid UTF-8
    return out;
  }),
  fc.jsonValue({ maxDepth: 2 }).filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)).map((v) => packEnvelopeJson(JSON.stringify(v) ?? 'null')),
  // Nested deeper than any limit.
  fc.integer({ min: 65, max: 50_000 }).map((d) => packEnvelopeJson(`{"a":${nested(d)}}`)),
  // Random bytes.
  fc.uint8Array({ maxLength: 3000 }),
);

const requestType = fc.oneof(
  { weight: 10, arbitrary: fc.constant<string | Uint8Array>('room.invoke_tool') },
  { weight: 2, arbitrary: fc.constantFrom<string | Uint8Array>('messaging.send', 'messaging.enable', 'room_ready', 'connected', 'room.call', 'room.list_toolkits', '') },
  { weight: 2, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.integer({ min: 257, max: 4000 }).map((n) => 'T'.repeat(n)) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 20 }).map((b) => Uint8Array.from([...b, 0xc3])) }, // invalid UTF-8
);

/** A request with a known id (assigned when sent). */
export const requestChunk: fc.Arbitrary<RequestChunk> = fc.oneof(
  { weight: 6, arbitrary: invokeHeader.map((header): RequestChunk => ({ kind: 'request', type: 'room.invoke_tool', data: invokeData(header), expectsResponse: true })) },
  {
    weight: 3,
    arbitrary: fc.tuple(requestType, brokenEnvelope).map(([type, data]): RequestChunk => ({
      kind: 'request',
      type,
      data: () => data,
      // __response__ is ignored by design; set_attributes answers only failures.
      expectsResponse: type !== '__response__' && type !== 'set_attributes',
    })),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(requestType, fc.jsonValue({ maxDepth: 3 })).map(([type, header]): RequestChunk => ({
      kind: 'request',
      type,
      data: () => packEnvelopeJson(JSON.stringify(header) ?? 'null'),
      expectsResponse: true,
    })),
  },
  {
    weight: 2,
    arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }).map((attrs): RequestChunk => ({
      kind: 'request',
      type: 'set_attributes',
      data: () => packEnvelope(attrs),
      expectsResponse: false,
    })),
  },
);

/** A valid multi-packet message, mutated so it must not be delivered. */
const mutatedMessage: fc.Arbitrary<FramesChunk> = fc
  .tuple(
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    fc.integer({ min: 1100, max: 5000 }),
    fc.constantFrom('truncate', 'reorder', 'foreign-id', 'duplicate', 'short-frame', 'bad-count', 'flip', 'lone-data'),
    fc.nat(),
  )
  .map(([id, size, mutation, n]): FramesChunk => {
    const data = packEnvelope(
      { toolkit: 'messaging', tool: 'broadcast', arguments: { type: 'json', json: { type: 'mutated', message_json: JSON.stringify({ pad: 'p'.repeat(size) }) } } },
    );
    const frames = encodePackets(id, 'room.invoke_tool', data).map((f) => Uint8Array.from(f));
    const last = frames.length - 1;
    const pickData = 1 + (n % last);
    switch (mutation) {
      case 'truncate':
        frames.splice(last, 1);
        break;
      case 'reorder':
        [frames[1], frames[last]] = [frames[last], frames[1]];
        break;
      case 'foreign-id':
        new DataView(frames[pickData].buffer).setUint32(4, (Number(id & 0xffff_ffffn) + 1 + n) >>> 0);
        break;
      case 'duplicate':
        frames.splice(pickData, 0, frames[pickData]);
        break;
      case 'short-frame':
        frames[pickData] = frames[pickData].subarray(0, n % 12);
        break;
      case 'bad-count':
        new DataView(frames[0].buffer).setUint32(12, (n % 2 === 0 ? 0xffffffff : last + 3) >>> 0);
        break;
      case 'flip':
        frames[pickData % frames.length][n % 16] ^= 0xff;
        break;
      case 'lone-data':
        frames.splice(0, 1);
        break;
    }
    // 'reorder' with two frames, or a 'flip' of a payload byte, can stay valid; label it.
    return { kind: 'frames', label: `mutated:${mutation}`, frames };
  });

const u32 = fc.integer({ min: 0, max: 0xffff_ffff });

/** Frames that carry no request the server could answer. */
export const framesChunk: fc.Arbitrary<FramesChunk> = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 64 }).map((frame): FramesChunk => ({ kind: 'frames', label: 'random-bytes', frames: [frame] })) },
  { weight: 6, arbitrary: mutatedMessage },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.integer({ min: 2, max: 2 ** 32 - 1 }), fc.uint8Array({ maxLength: 20 })).map(([count, junk]): FramesChunk => {
      // Packet 0 announcing a huge message that never comes.
      const frame = new Uint8Array(16 + junk.length);
      const view = new DataView(frame.buffer);
      view.setUint32(0, 7);
      view.setUint32(12, count);
      frame.set(junk, 16);
      return { kind: 'frames', label: 'huge-count', frames: [frame] };
    }),
  },
  {
    weight: 3,
    // A packet header whose every field comes from its full range: id (both
    // u32 words), index (often 0: a packet 0), packet count, then junk.
    arbitrary: fc
      .tuple(u32, u32, fc.oneof(fc.constant(0), u32), u32, fc.uint8Array({ maxLength: 24 }))
      .map(([high, low, index, count, junk]): FramesChunk => {
        const frame = new Uint8Array(16 + junk.length);
        const view = new DataView(frame.buffer);
        view.setUint32(0, high);
        view.setUint32(4, low);
        view.setUint32(8, index);
        view.setUint32(12, count);
        frame.set(junk, 16);
        return { kind: 'frames', label: 'random-header', frames: [frame] };
      }),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((text): FramesChunk => ({ kind: 'frames', label: 'text', frames: [text] })) },
);

const chunk: fc.Arbitrary<Chunk> = fc.oneof({ weight: 3, arbitrary: requestChunk }, { weight: 2, arbitrary: framesChunk });

/**
 * One attacker connection's traffic: usually a few steps, sometimes a long
 * run that goes past the server's protocol-error budget.
 */
export const attack: fc.Arbitrary<Chunk[]> = fc.oneof(
  { weight: 5, arbitrary: fc.array(chunk, { minLength: 1, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.array(fc.oneof(chunk, framesChunk), { minLength: 17, maxLength: 48 }) },
);

/** UTF-8 bytes of a request type (strings), or the raw bytes. */
export function typeBytes(type: string | Uint8Array): Uint8Array {
  return typeof type === 'string' ? utf8.encode(type) : type;
}
