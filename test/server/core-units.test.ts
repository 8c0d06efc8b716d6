/**
 * I/O-free parts of the server core: the frame encoder against the codec,
 * base64 and JSON checks, the validation fast paths against their zod
 * schemas, and the token bucket with a fake clock.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketReassembler, encodeType, packEnvelopeJson, unpackEnvelope } from '../../src/protocol/index.js';
import { FrameEncoder, encodeDataFrames, encodeEnvelopeFrames, messagingPrefix } from '../../src/server/core/frame-encoder.js';
import {
  broadcastArgumentsSchema,
  checkJsonText,
  decodeAttachment,
  invokeToolHeaderSchema,
  isStandardBase64,
  parseBroadcastArguments,
  parseInvokeToolHeader,
  parseSendArguments,
  sendArgumentsSchema,
  utf8Length,
} from '../../src/server/core/validation.js';

function reassemble(frames: readonly Uint8Array[]) {
  const reassembler = new PacketReassembler();
  let message;
  for (const frame of frames) message = reassembler.push(frame);
  return message!;
}

describe('encodeDataFrames', () => {
  it('produces exactly the frames of encodePackets', async () => {
    const { encodePackets } = await import('../../src/protocol/index.js');
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 40 }), fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 4000 }), (id, type, data) => {
        const ours = encodeDataFrames(id, encodeType(type), data).map((f) => Buffer.from(f));
        const codec = encodePackets(id, type, data).map((f) => Buffer.from(f));
        expect(ours).toEqual(codec);
      }),
      { seed: 2, numRuns: 200 },
    );
  });
});

describe('encodeEnvelopeFrames', () => {
  it('produces exactly the frames of packEnvelopeJson + encodePackets, for any header and payload size', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 40 }), fc.string({ maxLength: 3000 }), fc.uint8Array({ maxLength: 5000 }), (id, text, payload) => {
        const headerJson = JSON.stringify({ text });
        const frames = encodeEnvelopeFrames(id, encodeType('messaging.send'), headerJson, payload);
        const message = reassemble(frames);
        expect(message.id).toBe(id);
        expect(message.type).toBe('messaging.send');
        expect(Buffer.from(message.data).equals(Buffer.from(packEnvelopeJson(headerJson, payload)))).toBe(true);
        // Data packets carry 1024 bytes except the last.
        for (const frame of frames.slice(1, -1)) expect(frame.byteLength).toBe(12 + 1024);
      }),
      { seed: 1, numRuns: 200 },
    );
  });

  it('splices validated message JSON into a messaging push without re-serialising', () => {
    const encoder = new FrameEncoder();
    const frames = encoder.messaging(messagingPrefix('p"1'), 'chat', ' {"a": [1, 2]} ', new Uint8Array([1, 2]));
    const { header, payload } = unpackEnvelope(reassemble(frames.packets).data);
    expect(header).toEqual({ from_participant_id: 'p"1', type: 'chat', message: { a: [1, 2] } });
    expect([...payload]).toEqual([1, 2]);
  });

  it('marks user messages with the broadcast flag extension, presence pushes without it', () => {
    const encoder = new FrameEncoder();
    const header = (broadcast?: boolean) => unpackEnvelope(reassemble(encoder.messaging(messagingPrefix('p1'), 'chat', '{}', undefined, broadcast).packets).data).header;
    expect(header(true)).toEqual({ from_participant_id: 'p1', type: 'chat', message: {}, broadcast: true });
    expect(header(false)).toEqual({ from_participant_id: 'p1', type: 'chat', message: {}, broadcast: false });
    expect(header()).toEqual({ from_participant_id: 'p1', type: 'chat', message: {} });
  });

  it('numbers pushes from one server-wide counter', () => {
    const encoder = new FrameEncoder();
    const a = reassemble(encoder.push('room_ready', {}).packets).id;
    const b = reassemble(encoder.messaging(messagingPrefix('x'), 'participant.disabled', '{"id":"x"}').packets).id;
    expect(b).toBe(a + 1);
  });
});

describe('base64 and JSON checks', () => {
  it.each([
    ['', true],
    ['YQ==', true],
    ['YWI=', true],
    ['YWJj', true],
    ['YWJjZA==', true],
    ['+/+/', true],
    ['YQ=', false],
    ['YQ', false],
    ['Y===', false],
    ['====', false],
    ['YW=j', false],
    ['-_-_', false],
    ['YWJj\n', false],
    ['YWJjé===', false],
  ])('isStandardBase64(%j) is %s', (text, valid) => {
    expect(isStandardBase64(text)).toBe(valid);
  });

  it('accepts exactly what Buffer encodes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = Buffer.from(bytes).toString('base64');
        expect(isStandardBase64(text)).toBe(true);
        expect(Buffer.from(decodeAttachment(text, 'f') ?? new Uint8Array(0)).equals(Buffer.from(bytes))).toBe(true);
      }),
      { seed: 3 },
    );
  });

  it('treats an empty, null or absent attachment as none', () => {
    expect(decodeAttachment('', 'f')).toBeUndefined();
    expect(decodeAttachment(null, 'f')).toBeUndefined();
    expect(decodeAttachment(undefined, 'f')).toBeUndefined();
  });

  it('checks JSON text and depth, naming the field', () => {
    expect(() => checkJsonText('{"a":1}', 'm', 4)).not.toThrow();
    expect(() => checkJsonText('', 'm', 4)).toThrow('m: expected a JSON text (got "")');
    expect(() => checkJsonText('[[[[[1]]]]]', 'm', 4)).toThrow('m: JSON is nested deeper than 4 levels');
    expect(() => checkJsonText('"[[[[[["', 'm', 4)).not.toThrow();
  });

  it('counts UTF-8 bytes like TextEncoder', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(utf8Length(text)).toBe(new TextEncoder().encode(text).byteLength);
      }),
      { seed: 5 },
    );
  });
});

describe('validation fast paths', () => {
  const field = fc.oneof(fc.string(), fc.constant(null), fc.constant(undefined), fc.integer(), fc.constant(''), fc.dictionary(fc.string(), fc.string()));

  it('accept only what the zod schemas accept', () => {
    fc.assert(
      fc.property(
        fc.record({ to_participant_id: field, type: field, message_json: field, attachment_base64: field, toolkit: field, tool: field, arguments: fc.oneof(field, fc.record({ type: field })), participant_id: field }, { requiredKeys: [] }),
        (input) => {
          for (const [fast, schema] of [
            [() => parseSendArguments(input), sendArgumentsSchema],
            [() => parseBroadcastArguments(input), broadcastArgumentsSchema],
            [() => parseInvokeToolHeader(input as Record<string, unknown>), invokeToolHeaderSchema],
          ] as const) {
            let accepted = true;
            try {
              fast();
            } catch {
              accepted = false;
            }
            expect(accepted).toBe(schema.safeParse(input).success);
          }
        },
      ),
      { seed: 11, numRuns: 500 },
    );
  });
});

describe('PacketReassembler server extensions', () => {
  const pattern = (n: number) => Uint8Array.from({ length: n }, (_, i) => i & 0xff);

  it('names the rejected message and marks size limits (rejectedId, rejectedByLimit)', async () => {
    const { encodePackets } = await import('../../src/protocol/index.js');
    const reassembler = new PacketReassembler({ maxMessageBytes: 2048, maxTypeBytes: 8 });
    expect(() => reassembler.push(encodePackets(3, 't', pattern(5000))[0])).toThrow('message of 5 packets exceeds the limit of 2048 bytes.');
    expect(reassembler.rejectedId).toBe(3);
    expect(reassembler.rejectedByLimit).toBe(true);
    expect(() => reassembler.push(encodePackets(4, 'too-long-type', pattern(1))[0])).toThrow(/message type of 13 bytes/);
    expect([reassembler.rejectedId, reassembler.rejectedByLimit]).toEqual([4, true]);
    const frames = encodePackets(5, 't', pattern(1500));
    reassembler.push(frames[0]);
    expect(() => reassembler.push(encodePackets(5, 't', pattern(3000))[2])).toThrow(/out of order/);
    expect([reassembler.rejectedId, reassembler.rejectedByLimit]).toEqual([5, false]);
    expect(() => reassembler.push(new Uint8Array(3))).toThrow(/shorter/);
    expect(reassembler.rejectedId).toBeUndefined();
    // A successful push clears the record.
    expect(reassembler.push(encodePackets(6, 't', new Uint8Array(0))[0])).toMatchObject({ id: 6 });
    expect(reassembler.rejectedId).toBeUndefined();
  });

  it('with discardRejected, drops the leftover packets of a rejected message silently until the next packet 0', async () => {
    const { encodePackets } = await import('../../src/protocol/index.js');
    const discarding = new PacketReassembler({ maxMessageBytes: 4096, discardRejected: true });
    const strict = new PacketReassembler({ maxMessageBytes: 4096 });
    const big = encodePackets(8, 't', pattern(5000));
    for (const reassembler of [discarding, strict]) expect(() => reassembler.push(big[0])).toThrow(/exceeds the limit/);
    for (const frame of big.slice(1)) {
      expect(discarding.push(frame)).toBeUndefined();
      expect(() => strict.push(frame)).toThrow(/no message in progress/);
    }
    // A stray packet of another message is still an error.
    expect(() => discarding.push(encodePackets(9, 't', pattern(10))[1])).toThrow(/no message in progress/);
    // Out-of-order remains: the rest of message 10 is dropped, message 11 goes through.
    const broken = encodePackets(10, 't', pattern(3000));
    discarding.push(broken[0]);
    expect(() => discarding.push(broken[2])).toThrow(/out of order/);
    expect(discarding.push(broken[1])).toBeUndefined();
    expect(discarding.push(broken[3])).toBeUndefined();
    const ok = encodePackets(11, 't', pattern(1500));
    expect(discarding.push(ok[0])).toBeUndefined();
    expect(discarding.push(ok[1])).toBeUndefined();
    expect(discarding.push(ok[2])).toMatchObject({ id: 11, type: 't' });
  });
});
