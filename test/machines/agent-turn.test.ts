/**
 * The caller's turn machine without I/O: lifecycle, steering and
 * interruption in parallel, the agent leaving, both timeouts on a simulated
 * clock, and every transition covered by graph paths.
 */
import { SimulatedClock, createActor, type SnapshotFrom } from 'xstate';
import { describe, expect, it } from 'vitest';
import { agentTurnMachine, agentTurnStateName, type AgentTurnEmitted, type AgentTurnEvent, type AgentTurnInput } from '../../machines/agent-turn.js';
import { coverTransitions } from '../client/helpers/machine-coverage.js';

type Snapshot = SnapshotFrom<typeof agentTurnMachine>;

function run(input: AgentTurnInput = { threadId: 't', messageId: 'm1' }) {
  const clock = new SimulatedClock();
  const actor = createActor(agentTurnMachine, { clock, input });
  const emitted: AgentTurnEmitted[] = [];
  actor.on('*', (event) => emitted.push(event));
  actor.start();
  const state = () => agentTurnStateName(actor.getSnapshot());
  const region = (name: 'steering' | 'interruption' | 'deadline') => (actor.getSnapshot().value as { active: Record<string, string> }).active[name];
  return { actor, clock, emitted, state, region };
}

describe('agent turn machine: lifecycle', () => {
  it('goes starting → queued → started → streaming → ended on a clean run', () => {
    const { actor, state } = run();
    expect(state()).toBe('starting');
    actor.send({ type: 'turn.accepted', turnId: 'T' });
    expect(state()).toBe('queued');
    expect(actor.getSnapshot().context.turnId).toBe('T');
    actor.send({ type: 'turn.started', turnId: 'T' });
    expect(state()).toBe('started');
    actor.send({ type: 'turn.output' });
    actor.send({ type: 'turn.output' });
    expect(state()).toBe('streaming');
    expect(actor.getSnapshot().context.outputs).toBe(2);
    actor.send({ type: 'turn.ended' });
    expect(state()).toBe('ended');
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('ends as rejected with the agent error', () => {
    const { actor, state } = run();
    actor.send({ type: 'turn.rejected', error: { message: 'unknown model', code: 'unknown_model' } });
    expect(state()).toBe('rejected');
    expect(actor.getSnapshot().context.error).toEqual({ message: 'unknown model', code: 'unknown_model' });
  });

  it.each<[string, AgentTurnEvent, string]>([
    ['cancelled', { type: 'turn.ended', error: { message: 'turn cancelled', code: 'cancelled' } }, 'cancelled'],
    ['failed', { type: 'turn.ended', error: { message: 'boom', code: null } }, 'failed'],
  ])('ends as %s on turn.ended with that error', (_name, event, final) => {
    const { actor, state } = run();
    actor.send({ type: 'turn.accepted', turnId: 'T' });
    actor.send(event);
    expect(state()).toBe(final);
    expect(actor.getSnapshot().context.error).toEqual((event as { error: unknown }).error);
  });

  it('takes turn.started while starting (a late opener never saw the acceptance)', () => {
    const { actor, state } = run();
    actor.send({ type: 'turn.started', turnId: 'T' });
    expect(state()).toBe('started');
    expect(actor.getSnapshot().context.turnId).toBe('T');
  });

  it('ends as agentLeft from any lifecycle state', () => {
    for (const before of [[], [{ type: 'turn.accepted', turnId: 'T' }], [{ type: 'turn.started', turnId: 'T' }, { type: 'turn.output' }]] as AgentTurnEvent[][]) {
      const { actor, state } = run();
      for (const event of before) actor.send(event);
      actor.send({ type: 'agent.left' });
      expect(state()).toBe('agentLeft');
    }
  });
});

describe('agent turn machine: timeouts', () => {
  it('times out when the agent does not answer the start in answerTimeoutMs', () => {
    const { actor, clock, state } = run({ threadId: 't', messageId: 'm', answerTimeoutMs: 5000 });
    clock.increment(4999);
    expect(state()).toBe('starting');
    clock.increment(1);
    expect(state()).toBe('timedOut');
    expect(actor.getSnapshot().context.timeout).toBe('answer');
  });

  it('stops the answer timer once accepted', () => {
    const { actor, clock, state } = run({ threadId: 't', messageId: 'm', answerTimeoutMs: 5000 });
    actor.send({ type: 'turn.accepted', turnId: 'T' });
    clock.increment(60_000);
    expect(state()).toBe('queued');
  });

  it('bounds the whole turn by turnTimeoutMs when given, and never otherwise', () => {
    const bounded = run({ threadId: 't', messageId: 'm', turnTimeoutMs: 10_000 });
    expect(bounded.region('deadline')).toBe('bounded');
    bounded.actor.send({ type: 'turn.started', turnId: 'T' });
    bounded.clock.increment(10_000);
    expect(bounded.state()).toBe('timedOut');
    expect(bounded.actor.getSnapshot().context.timeout).toBe('turn');

    const unbounded = run({ threadId: 't', messageId: 'm' });
    expect(unbounded.region('deadline')).toBe('unbounded');
    unbounded.actor.send({ type: 'turn.started', turnId: 'T' });
    unbounded.clock.increment(24 * 3600_000);
    expect(unbounded.state()).toBe('started');
  });
});

describe('agent turn machine: steering and interruption', () => {
  it('refuses a steer before the turn has an id, and sends one after', () => {
    const { actor, emitted, region } = run();
    actor.send({ type: 'turn.steer', messageId: 's0' });
    expect(emitted).toEqual([{ type: 'steer.refused', messageId: 's0' }]);
    expect(region('steering')).toBe('idle');
    actor.send({ type: 'turn.accepted', turnId: 'T' });
    actor.send({ type: 'turn.steer', messageId: 's1' });
    actor.send({ type: 'turn.steer', messageId: 's2' });
    expect(emitted.slice(1)).toEqual([
      { type: 'steer.send', messageId: 's1', turnId: 'T' },
      { type: 'steer.send', messageId: 's2', turnId: 'T' },
    ]);
    expect(region('steering')).toBe('pending');
    expect(actor.getSnapshot().context.steers).toBe(2);
    actor.send({ type: 'steer.accepted' });
    actor.send({ type: 'steer.applied' });
    expect(region('steering')).toBe('pending');
    actor.send({ type: 'steer.rejected' });
    expect(region('steering')).toBe('idle');
    expect(actor.getSnapshot().context.steers).toBe(0);
  });

  it('sends an interrupt at once when the turn has an id, and follows its answers', () => {
    const { actor, emitted, region, state } = run();
    actor.send({ type: 'turn.started', turnId: 'T' });
    actor.send({ type: 'turn.interrupt' });
    expect(emitted).toEqual([{ type: 'interrupt.send', turnId: 'T' }]);
    expect(region('interruption')).toBe('requested');
    actor.send({ type: 'interrupt.accepted' });
    expect(region('interruption')).toBe('accepted');
    actor.send({ type: 'turn.interrupted' });
    expect(region('interruption')).toBe('interrupted');
    actor.send({ type: 'turn.ended', error: { message: 'turn cancelled', code: 'cancelled' } });
    expect(state()).toBe('cancelled');
  });

  it('defers an interrupt asked while starting until the turn is accepted', () => {
    const { actor, emitted, region } = run();
    actor.send({ type: 'turn.interrupt' });
    expect(region('interruption')).toBe('deferred');
    expect(emitted).toEqual([]);
    actor.send({ type: 'turn.accepted', turnId: 'T' });
    expect(emitted).toEqual([{ type: 'interrupt.send', turnId: 'T' }]);
    expect(region('interruption')).toBe('requested');
  });

  it('steers while an interrupt is pending: the regions are independent', () => {
    const { actor, region } = run();
    actor.send({ type: 'turn.started', turnId: 'T' });
    actor.send({ type: 'turn.interrupt' });
    actor.send({ type: 'turn.steer', messageId: 's' });
    expect(region('interruption')).toBe('requested');
    expect(region('steering')).toBe('pending');
  });
});

describe('agent turn machine: coverage', () => {
  it('takes every transition (graph paths, each followed by every event)', () => {
    const events: AgentTurnEvent[] = [
      { type: 'turn.accepted', turnId: 'T' },
      { type: 'turn.rejected', error: { message: 'no', code: 'unknown_model' } },
      { type: 'turn.started', turnId: 'T' },
      { type: 'turn.output' },
      { type: 'turn.ended' },
      { type: 'turn.ended', error: { message: 'turn cancelled', code: 'cancelled' } },
      { type: 'turn.ended', error: { message: 'boom', code: null } },
      { type: 'steer.accepted' },
      { type: 'steer.applied' },
      { type: 'steer.rejected' },
      { type: 'interrupt.accepted' },
      { type: 'turn.interrupted' },
      { type: 'agent.left' },
      { type: 'turn.steer', messageId: 's' },
      { type: 'turn.interrupt' },
      { type: 'xstate.after.answerTimeout.agentTurn.active.lifecycle.starting' } as never,
      { type: 'xstate.after.turnTimeout.agentTurn.active.deadline.bounded' } as never,
    ];
    const coverage = coverTransitions(agentTurnMachine, {
      events,
      inputs: [
        { threadId: 't', messageId: 'm' },
        { threadId: 't', messageId: 'm', turnTimeoutMs: 1000 },
      ],
      serializeState: (snapshot) => {
        const s = snapshot as Snapshot;
        return JSON.stringify([s.status, s.value, Math.min(s.context.steers, 2), s.context.turnId === undefined]);
      },
    });
    expect(coverage.missing).toEqual([]);
    expect(coverage.total).toBeGreaterThanOrEqual(29);
  });
});
