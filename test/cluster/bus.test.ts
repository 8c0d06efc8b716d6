/**
 * The cluster bus codec: what nodes publish decodes to what was meant, and
 * anything malformed on a channel decodes to nothing (the node logs and
 * ignores it) instead of throwing.
 */
import { describe, expect, it } from 'vitest';
import { broadcastHeader, decodeBus, directHeader, encodeBatch, encodePresence, withHeader } from '../../src/server/cluster/bus.js';

const wire = Buffer.from([0x82, 0x03, 1, 2, 3]);

describe('cluster bus codec', () => {
  it('round-trips a broadcast, a direct message and presence events', () => {
    expect(decodeBus(withHeader(broadcastHeader('node-1'), wire))).toEqual({ kind: 'broadcast', node: 'node-1', wire });
    expect(decodeBus(withHeader(directHeader('ro☃m', 'p-1'), wire))).toEqual({ kind: 'direct', room: 'ro☃m', id: 'p-1', wire });
    const event = { c: 'enabled', n: 'node-1', id: 'p-1', role: 'user', attributes: { name: 'alice' } } as const;
    expect(decodeBus(encodePresence(event, wire))).toEqual({ kind: 'presence', event, wire });
    expect(decodeBus(encodePresence({ c: 'disabled', n: 'node-2', id: 'p-2' }))).toEqual({ kind: 'presence', event: { c: 'disabled', n: 'node-2', id: 'p-2' }, wire: undefined });
  });

  it('round-trips a batch, in order', () => {
    const parts = [withHeader(directHeader('r', 'a'), wire), withHeader(directHeader('r', 'b'), Buffer.alloc(0))];
    const batch = decodeBus(encodeBatch(parts));
    expect(batch).toEqual({ kind: 'batch', messages: parts });
    expect(parts.map((part) => decodeBus(part))).toEqual([
      { kind: 'direct', room: 'r', id: 'a', wire },
      { kind: 'direct', room: 'r', id: 'b', wire: Buffer.alloc(0) },
    ]);
  });

  it.each([
    ['empty', Buffer.alloc(0)],
    ['unknown kind', Buffer.from('Xhello')],
    ['truncated length', Buffer.from([0x44, 0, 0])],
    ['length past the end', Buffer.from([0x42, 0, 0, 0, 99, 65])],
    ['presence that is not JSON', Buffer.from('J{nope')],
    ['a batch cut short', Buffer.from([0x4e, 0, 0, 0, 9, 1, 2])],
  ])('decodes %s to nothing', (_label, payload) => {
    expect(decodeBus(payload)).toBeUndefined();
  });
});
