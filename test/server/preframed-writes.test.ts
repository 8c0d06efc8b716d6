/**
 * Pre-framed writes: the server encodes each outgoing message once into its
 * websocket frames and writes those bytes to the socket itself. The frames
 * must be byte-identical to what ws's own Sender makes, connections that
 * negotiated permessage-deflate must go through `ws.send` instead, and the
 * messages must arrive intact either way.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { PacketReassembler, encodeType } from '../../src/protocol/index.js';
import { IdTemplate, encodeListEnvelope, encodeMessage, encodeShortEnvelope } from '../../src/server/core/outgoing-message.js';
import { uniqueRoom, useServers, type TestServer } from '../helpers/server.js';

/** ws's frame builder (exported by ws, missing from its type definitions). */
const { Sender } = createRequire(import.meta.url)('ws') as {
  Sender: { frame(data: Buffer, options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[] };
};

/** What ws.send would write for these packets: one unmasked binary frame each. */
function wsFrames(packets: readonly Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  for (const packet of packets) {
    const framed = Sender.frame(Buffer.from(packet), { fin: true, opcode: 0x2, mask: false, readOnly: true, rsv1: false });
    parts.push(...framed);
  }
  return Buffer.concat(parts);
}

describe('OutgoingMessage', () => {
  it('holds exactly the frames ws.send makes for its packets, for any size', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 2 ** 40 }),
        fc.string({ maxLength: 200 }),
        fc.boolean(),
        fc.uint8Array({ maxLength: 3000 }),
        fc.uint8Array({ maxLength: 5000 }),
        (id, type, envelope, head, tail) => {
          const message = encodeMessage(id, encodeType(type), envelope, head, tail);
          expect(message.wire.equals(wsFrames(message.packets))).toBe(true);
          // And the packets reassemble into the data: [length prefix] head tail.
          const reassembler = new PacketReassembler();
          let result;
          for (const packet of message.packets) result = reassembler.push(packet);
          const prefix = Buffer.alloc(envelope ? 8 : 0);
          if (envelope) prefix.writeUInt32BE(head.byteLength, 4);
          expect(result?.id).toBe(id);
          expect(result?.type).toBe(type);
          expect(Buffer.from(result!.data).equals(Buffer.concat([prefix, head, tail]))).toBe(true);
        },
      ),
      { seed: 5, numRuns: 300 },
    );
  });

  it('uses the 16-bit and 64-bit length forms at their boundaries', () => {
    for (const typeLength of [125 - 16, 126 - 16, 0xffff - 16, 0x10000 - 16, 70000]) {
      const message = encodeMessage(1, new Uint8Array(typeLength).fill(97), false, new Uint8Array(0));
      expect(message.packets).toHaveLength(1);
      expect(message.packets[0].byteLength).toBe(16 + typeLength);
      expect(message.wire.equals(wsFrames(message.packets))).toBe(true);
    }
  });
});

describe('encodeListEnvelope', () => {
  const text = fc.string({ unit: 'binary', maxLength: 300 });

  it('makes exactly the message encodeMessage makes for the joined text, across packet boundaries and multi-byte characters', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.nat({ max: 2 ** 53 - 1 }), fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n })),
        fc.string({ maxLength: 40 }),
        text,
        fc.array(text, { maxLength: 40 }),
        fc.constantFrom(',', '', '\u00e9,'),
        text,
        (id, type, head, items, separator, tail) => {
          const bytes = items.reduce((sum, item) => sum + Buffer.byteLength(item, 'utf8'), 0);
          const message = encodeListEnvelope(id, encodeType(type), head, items, bytes, separator, tail);
          const joined = Buffer.from(head + items.join(separator) + tail, 'utf8');
          expect(message.wire.equals(encodeMessage(id, encodeType(type), true, joined).wire)).toBe(true);
        },
      ),
      { seed: 11, numRuns: 300 },
    );
  });

  it('refuses an itemsBytes that is not the items\' UTF-8 length rather than sending a corrupt message', () => {
    expect(() => encodeListEnvelope(1, encodeType('messaging.send'), '{"a":[', ['"\u00e9"'], 3, ',', ']}')).toThrow(/itemsBytes 3/);
  });
});

describe('encodeShortEnvelope', () => {
  it('makes exactly the message encodeMessage makes for a header that fits one packet', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 53 - 1 }), fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 330 }), (id, type, header) => {
        const bytes = Buffer.byteLength(header, 'utf8');
        fc.pre(bytes + 8 <= 1024);
        const message = encodeShortEnvelope(id, encodeType(type), header, bytes);
        expect(message.wire.equals(encodeMessage(id, encodeType(type), true, Buffer.from(header, 'utf8')).wire)).toBe(true);
      }),
      { seed: 13, numRuns: 300 },
    );
  });
});

describe('IdTemplate', () => {
  it('makes, for any 64-bit id, exactly the message encodeMessage makes for it', () => {
    const type = encodeType('__response__');
    fc.assert(
      fc.property(fc.oneof(fc.nat({ max: 2 ** 53 - 1 }), fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n })), fc.uint8Array({ maxLength: 3000 }), (id, data) => {
        expect(new IdTemplate(type, data).encode(id).wire.equals(encodeMessage(id, type, false, data).wire)).toBe(true);
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  it('gives every message its own buffer', () => {
    const template = new IdTemplate(encodeType('__response__'), new Uint8Array([1, 2, 3]));
    const first = template.encode(1);
    template.encode(2);
    expect(first.wire.equals(encodeMessage(1, encodeType('__response__'), false, new Uint8Array([1, 2, 3])).wire)).toBe(true);
  });
});

const servers = useServers();

/** Counts `ws.send` calls made on server-side sockets while `body` runs. */
async function countServerSends(body: () => Promise<void>): Promise<number> {
  const proto = WebSocket.prototype as unknown as { send: (...args: unknown[]) => void };
  const original = proto.send;
  let sends = 0;
  proto.send = function (this: { _isServer?: boolean }, ...args: unknown[]) {
    if (this._isServer) sends++;
    return original.apply(this, args);
  };
  try {
    await body();
  } finally {
    proto.send = original;
  }
  return sends;
}

describe('server writes', () => {
  const attachment = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff));

  async function relay(server: TestServer, deflate: boolean): Promise<{ extensions: string; sends: number }> {
    const room = uniqueRoom();
    const wsOptions = { perMessageDeflate: deflate };
    const alice = await server.connect(room, 'alice', { wsOptions });
    const bob = await server.connect(room, 'bob', { wsOptions });
    await bob.invoke('enable', {});
    await bob.waitForPush('messaging.enabled');
    let extensions = '';
    const sends = await countServerSends(async () => {
      const reply = await alice.invoke('send', {
        to_participant_id: bob.participantId,
        type: 'chat',
        message_json: JSON.stringify({ text: 'x'.repeat(3000) }),
        attachment_base64: attachment.toString('base64'),
      });
      expect(reply).toEqual({ type: 'empty' });
      const push = await bob.waitForPush('chat');
      expect(push.message).toEqual({ text: 'x'.repeat(3000) });
      expect(Buffer.from(push.attachment).equals(attachment)).toBe(true);
      extensions = bob.ws.extensions;
    });
    return { extensions, sends };
  }

  it('writes pre-framed bytes to the socket when no extension was negotiated', async () => {
    const fx = await servers.start();
    const { extensions, sends } = await relay(fx, false);
    expect(extensions).toBe('');
    expect(sends).toBe(0);
  });

  it('falls back to ws.send, one call per packet, when permessage-deflate was negotiated', async () => {
    const fx = await servers.start({ perMessageDeflate: true });
    const { extensions, sends } = await relay(fx, true);
    expect(extensions).toContain('permessage-deflate');
    // The push alone is packet 0 + 8 data packets (~8.1 KB); the response is 2 more.
    expect(sends).toBeGreaterThanOrEqual(11);
  });
});
