/**
 * The roster's snapshot bytes (appended to in a join storm, rebuilt after
 * other changes) always decode to exactly the members a fresh build lists.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PresenceRoster } from '../../src/server/core/presence-roster.js';
import { FrameEncoder } from '../../src/server/core/frame-encoder.js';
import type { OutgoingMessage } from '../../src/server/core/outgoing-message.js';
import type { RoomMember } from '../../src/server/core/room-directory.js';
import { PacketReassembler, unpackEnvelope, type ProtocolMessage } from '../../src/protocol/index.js';

function member(id: string, name: string): RoomMember {
  return { id, role: 'user', attributes: { name }, deliver: () => undefined } as unknown as RoomMember;
}

function decode(message: OutgoingMessage): Record<string, unknown> {
  const reassembler = new PacketReassembler();
  let whole: ProtocolMessage | undefined;
  for (const packet of message.packets) whole = reassembler.push(packet) ?? whole;
  return unpackEnvelope(whole!.data).header;
}

const step = fc.oneof(
  fc.record({ op: fc.constant('enable' as const), id: fc.integer({ min: 0, max: 30 }), name: fc.string({ maxLength: 300 }) }),
  fc.record({ op: fc.constant('disable' as const), id: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ op: fc.constant('attributes' as const), id: fc.integer({ min: 0, max: 30 }), name: fc.string() }),
  fc.record({ op: fc.constant('snapshot' as const), id: fc.integer({ min: 0, max: 40 }) }),
);

describe('presence roster snapshots', () => {
  it('list every other member with its current attributes, whatever came before', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
        const roster = new PresenceRoster();
        const encoder = new FrameEncoder();
        const members = new Map<string, RoomMember>();
        for (const s of steps) {
          const id = `p${s.id}`;
          if (s.op === 'enable') {
            const m = members.get(id) ?? member(id, s.name);
            members.set(id, m);
            roster.apply(m, 'enabled');
          } else if (s.op === 'disable') {
            const m = members.get(id);
            if (m) roster.apply(m, 'disabled');
            members.delete(id);
          } else if (s.op === 'attributes') {
            const m = members.get(id);
            if (!m || roster.get(id) === undefined) continue;
            (m as { attributes: unknown }).attributes = { name: s.name };
            roster.apply(m, 'attributes');
          } else {
            const recipient = members.get(id) ?? member(id, 'x');
            const header = decode(roster.snapshot(recipient, encoder));
            const expected = [...roster.members()].filter((m) => m.id !== id).map((m) => ({ id: m.id, role: m.role, attributes: m.attributes }));
            expect(header).toEqual({ from_participant_id: id, type: 'messaging.enabled', message: { participants: expected } });
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
