/**
 * The participant-session machine without I/O: next states and emitted
 * effects for every (state, event) pair, graph coverage, and presence
 * invariants over random event sequences.
 */
import { getSimplePaths } from '@xstate/graph';
import fc from 'fast-check';
import { createActor, initialTransition, transition, type SnapshotFrom } from 'xstate';
import { describe, expect, it } from 'vitest';
import {
  participantSessionMachine as machine,
  type ParticipantSessionEmitted,
  type ParticipantSessionEvent,
} from '../../machines/participant-session.js';

type Snapshot = SnapshotFrom<typeof machine>;

const EVENTS: readonly ParticipantSessionEvent[] = [
  { type: 'messaging.enable' },
  { type: 'messaging.disable' },
  { type: 'attributes.changed', changed: { status: 'busy' } },
  { type: 'transport.closed' },
];

/** The events a list of executed actions emits, in order. */
function emitted(actions: readonly { type: string; params?: unknown }[]): ParticipantSessionEmitted[] {
  return actions.filter((a) => a.type === 'xstate.emit').map((a) => (a.params as { event: ParticipantSessionEmitted }).event);
}

function step(snapshot: Snapshot, event: ParticipantSessionEvent): [Snapshot, ParticipantSessionEmitted[]] {
  const [next, actions] = transition(machine, snapshot, event);
  return [next, emitted(actions)];
}

const [initial, initialActions] = initialTransition(machine);
const [enabled] = step(initial, { type: 'messaging.enable' });

describe('participant-session machine', () => {
  it('starts connected with messaging disabled, emitting nothing', () => {
    expect(initial.value).toEqual({ connected: 'disabled' });
    expect(initial.hasTag('messagingEnabled')).toBe(false);
    expect(emitted(initialActions)).toEqual([]);
  });

  it.each<[string, () => Snapshot, ParticipantSessionEvent, unknown, ParticipantSessionEmitted[]]>([
    ['disabled', () => initial, { type: 'messaging.enable' }, { connected: 'enabled' }, [{ type: 'presence.snapshot' }, { type: 'presence.enabled' }]],
    ['disabled', () => initial, { type: 'messaging.disable' }, { connected: 'disabled' }, []],
    ['disabled', () => initial, { type: 'attributes.changed', changed: { a: 1 } }, { connected: 'disabled' }, []],
    ['disabled', () => initial, { type: 'transport.closed' }, 'gone', [{ type: 'session.ended' }]],
    ['enabled', () => enabled, { type: 'messaging.enable' }, { connected: 'enabled' }, [{ type: 'presence.snapshot' }]],
    ['enabled', () => enabled, { type: 'messaging.disable' }, { connected: 'disabled' }, [{ type: 'presence.disabled' }]],
    [
      'enabled',
      () => enabled,
      { type: 'attributes.changed', changed: { a: 1 } },
      { connected: 'enabled' },
      [{ type: 'presence.attributes', changed: { a: 1 } }],
    ],
    ['enabled', () => enabled, { type: 'transport.closed' }, 'gone', [{ type: 'presence.disabled' }, { type: 'session.ended' }]],
  ])('in %s, %o goes to %o emitting %o', (_state, from, event, value, effects) => {
    const [next, out] = step(from(), event);
    expect(next.value).toEqual(value);
    expect(out).toEqual(effects);
  });

  it('tags only the enabled state with messagingEnabled', () => {
    expect(enabled.hasTag('messagingEnabled')).toBe(true);
    expect(step(enabled, { type: 'messaging.disable' })[0].hasTag('messagingEnabled')).toBe(false);
  });

  it('is final once gone and ignores everything after', () => {
    const [gone] = step(enabled, { type: 'transport.closed' });
    expect(gone.status).toBe('done');
    for (const event of EVENTS) {
      const [after, out] = step(gone, event);
      expect(after.value).toBe('gone');
      expect(out).toEqual([]);
    }
  });

  it('reaches every state, and every non-final state leaves to gone on transport.closed (graph paths)', () => {
    const paths = getSimplePaths(machine, { events: EVENTS as ParticipantSessionEvent[] });
    const reached = new Set(paths.map((p) => JSON.stringify(p.state.value)));
    expect(reached).toEqual(new Set([JSON.stringify({ connected: 'disabled' }), JSON.stringify({ connected: 'enabled' }), JSON.stringify('gone')]));
    for (const path of paths) {
      if (path.state.status === 'done') continue;
      const [after] = step(path.state as Snapshot, { type: 'transport.closed' });
      expect(after.value).toBe('gone');
    }
  });

  it('keeps presence balanced over any event sequence: announced exactly while enabled, ended exactly once', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...EVENTS), { maxLength: 40 }), (events) => {
        let snapshot = initial;
        let announced = 0;
        let ended = 0;
        for (const event of [...events, { type: 'transport.closed' } as const]) {
          const [next, out] = step(snapshot, event);
          for (const effect of out) {
            if (effect.type === 'presence.enabled') announced++;
            if (effect.type === 'presence.disabled') announced--;
            if (effect.type === 'session.ended') ended++;
            // Attribute pushes only ever come from an enabled participant.
            if (effect.type === 'presence.attributes') expect(snapshot.hasTag('messagingEnabled')).toBe(true);
          }
          expect(announced).toBe(next.hasTag('messagingEnabled') ? 1 : 0);
          snapshot = next;
        }
        expect(snapshot.value).toBe('gone');
        expect(announced).toBe(0);
        expect(ended).toBe(1);
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it('delivers emitted effects synchronously to actor.on listeners, in order', () => {
    const actor = createActor(machine);
    const seen: string[] = [];
    for (const type of ['presence.snapshot', 'presence.enabled', 'presence.disabled', 'presence.attributes', 'session.ended'] as const) {
      actor.on(type, (event) => seen.push(event.type));
    }
    actor.start();
    actor.send({ type: 'messaging.enable' });
    expect(seen).toEqual(['presence.snapshot', 'presence.enabled']);
    actor.send({ type: 'attributes.changed', changed: { x: 1 } });
    actor.send({ type: 'transport.closed' });
    expect(seen).toEqual(['presence.snapshot', 'presence.enabled', 'presence.attributes', 'presence.disabled', 'session.ended']);
    expect(actor.getSnapshot().status).toBe('done');
  });
});
