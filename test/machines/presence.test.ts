import { describe, expect, it } from 'vitest';
import { createActor, initialTransition, transition, type SnapshotFrom } from 'xstate';
import { presenceMachine, type PresenceEvent } from '../../machines/presence.js';
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
