import { describe, expect, it } from 'vitest';
import { createActor, initialTransition, transition, type SnapshotFrom } from 'xstate';
import { PresenceRoster, presenceMachine, type PresenceEntry, type PresenceEvent } from '../../machines/presence.js';
import { coverTransitions } from '../client/helpers/machine-coverage.js';

const bob = { id: 'p-bob', role: 'user', attributes: { name: 'bob', status: 'idle' } };

describe('presence machine', () => {
  it('covers every transition definition through @xstate/graph paths', () => {
    const events: PresenceEvent[] = [
      { type: 'attributes.changed', attributes: { status: 'busy' } },
      { type: 'attributes.replaced', attributes: { name: 'bob' } },
      { type: 'participant.left' },
    ];
    const coverage = coverTransitions(presenceMachine, {
      events,
      inputs: [bob],
      serializeState: (snapshot) => {
        const s = snapshot as SnapshotFrom<typeof presenceMachine>;
        return JSON.stringify([s.status, s.value]);
      },
    });
    expect(coverage.missing).toEqual([]);
    expect(coverage.total).toBe(3);
  });

  it('starts online with the participant as given', () => {
    const [snapshot] = initialTransition(presenceMachine, bob);
    expect(snapshot.value).toBe('online');
    expect(snapshot.hasTag('online')).toBe(true);
    expect(snapshot.context).toEqual({ id: 'p-bob', role: 'user', attributes: { name: 'bob', status: 'idle' } });
  });

  it('merges changed attributes key by key', () => {
    const [online] = initialTransition(presenceMachine, bob);
    const [next] = transition(presenceMachine, online, { type: 'attributes.changed', attributes: { status: 'busy', colour: 'red' } });
    expect(next.context.attributes).toEqual({ name: 'bob', status: 'busy', colour: 'red' });
  });

  it('replaces all attributes from a fresh snapshot', () => {
    const [online] = initialTransition(presenceMachine, bob);
    const [next] = transition(presenceMachine, online, { type: 'attributes.replaced', attributes: { name: 'bob' } });
    expect(next.context.attributes).toEqual({ name: 'bob' });
  });

  it('goes offline for good when the participant leaves, and outputs its id', () => {
    const actor = createActor(presenceMachine, { input: bob }).start();
    actor.send({ type: 'participant.left' });
    const snapshot = actor.getSnapshot();
    expect(snapshot.value).toBe('offline');
    expect(snapshot.status).toBe('done');
    expect(snapshot.hasTag('online')).toBe(false);
    expect(snapshot.output).toEqual({ id: 'p-bob' });
  });

  it('does not share attribute objects with its input', () => {
    const input = { id: 'p', role: 'user', attributes: { name: 'x' } as Record<string, unknown> };
    const actor = createActor(presenceMachine, { input }).start();
    input.attributes.name = 'mutated';
    expect(actor.getSnapshot().context.attributes).toEqual({ name: 'x' });
  });
});

describe('presence roster', () => {
  const entry = (i: number, key = i, attributes: Record<string, unknown> = { name: `m${i}` }): PresenceEntry => ({ id: `p-${i}`, role: 'user', attributes, key });

  it('adds, replaces and removes by id, listing in order of appearance', () => {
    let roster = PresenceRoster.empty;
    for (let i = 0; i < 300; i++) roster = roster.with(entry(i));
    expect(roster.size).toBe(300);
    expect(roster.ids()).toEqual(Array.from({ length: 300 }, (_, i) => `p-${i}`));
    roster = roster.with(entry(7, 7, { name: 'seven' }));
    expect(roster.size).toBe(300);
    expect(roster.get('p-7')?.attributes).toEqual({ name: 'seven' });
    for (let i = 0; i < 300; i += 2) roster = roster.without(`p-${i}`);
    expect(roster.size).toBe(150);
    expect(roster.get('p-8')).toBeUndefined();
    expect(roster.list().map((e) => e.key)).toEqual(Array.from({ length: 150 }, (_, i) => 2 * i + 1));
    expect(roster.without('p-unknown')).toBe(roster);
  });

  it('never changes a roster it derived from (persistent)', () => {
    const before = PresenceRoster.of([entry(1), entry(2)], 0);
    const after = before.with(entry(3)).without('p-1').with(entry(2, 2, { name: 'changed' }));
    expect(before.ids()).toEqual(['p-1', 'p-2']);
    expect(before.get('p-2')?.attributes).toEqual({ name: 'm2' });
    expect(after.ids()).toEqual(['p-2', 'p-3']);
  });


  it('makes one version of many changes, and every version reads back right in any order', () => {
    const base = PresenceRoster.of([entry(1), entry(2), entry(3)], 0);
    const next = base.edited((draft) => {
      draft.set(entry(4));
      expect(draft.delete('p-2')).toBe(true);
      expect(draft.delete('p-2')).toBe(false);
      draft.set(entry(2, 5, { name: 'back' }));
      draft.set(entry(4, 4, { name: 'renamed' }));
      expect(draft.get('p-4')?.attributes).toEqual({ name: 'renamed' });
      expect(draft.delete('p-1')).toBe(true);
    });
    const later = next.with(entry(6)).without('p-3');
    expect(next.size).toBe(3);
    expect(next.membership).toBe(base.membership + 4);
    // Alternate reads so the shared map moves back and forth through the multi-change version.
    for (let round = 0; round < 3; round++) {
      expect(base.list()).toEqual([entry(1), entry(2), entry(3)]);
      expect(later.ids()).toEqual(['p-4', 'p-2', 'p-6']);
      expect(next.list()).toEqual([entry(3), entry(4, 4, { name: 'renamed' }), entry(2, 5, { name: 'back' })]);
    }
    expect(base.edited(() => undefined)).toBe(base);
  });
  it('moves membership on additions and removals only', () => {
    const a = PresenceRoster.empty.with(entry(1));
    const b = a.with(entry(1, 1, { name: 'renamed' }));
    expect(b.membership).toBe(a.membership);
    const c = b.with(entry(2));
    expect(c.membership).toBeGreaterThan(b.membership);
    const d = c.without('p-1');
    expect(d.membership).toBeGreaterThan(c.membership);
    const e = d.cleared();
    expect(e.size).toBe(0);
    expect(e.membership).toBeGreaterThan(d.membership);
    expect(e.cleared()).toBe(e);
  });
});
