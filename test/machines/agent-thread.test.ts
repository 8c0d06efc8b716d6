/**
 * The agent runtime's thread machine without I/O: one active turn, a FIFO
 * queue, steers delivered and rejected when the turn ends before taking
 * them, interruption ending the turn as cancelled, openers, the agent
 * stopping, and every transition covered by graph paths.
 */
import { createActor, type SnapshotFrom } from 'xstate';
import { describe, expect, it } from 'vitest';
import { agentThreadMachine, STEER_NOT_IN_PROGRESS, STEER_TURN_ENDED, TURN_CANCELLED, type AgentThreadEmitted, type AgentThreadEvent, type ThreadTurn } from '../../machines/agent-thread.js';
import { coverTransitions } from '../client/helpers/machine-coverage.js';

type Snapshot = SnapshotFrom<typeof agentThreadMachine>;

const turn = (n: number, senderId = 'alice'): ThreadTurn => ({ turnId: `T${n}`, messageId: `m${n}`, senderId });

function run() {
  const actor = createActor(agentThreadMachine, { input: { threadId: 'thread-1' } });
  const emitted: AgentThreadEmitted[] = [];
  actor.on('*', (event) => emitted.push(event));
  actor.start();
  let seen = 0;
  /** Emitted effects since the last call, as `type:turnId[:steer]`. */
  const since = (): string[] => {
    const out = emitted.slice(seen).map((e) => {
      const id = 'turn' in e ? e.turn.turnId : 'turnId' in e ? e.turnId : e.participantId;
      const steer = 'steer' in e ? `:${e.steer.messageId}` : '';
      const code = 'error' in e && e.error !== undefined ? `:${e.error.code}` : '';
      return `${e.type}:${id}${steer}${code}`;
    });
    seen = emitted.length;
    return out;
  };
  const state = () => JSON.stringify(actor.getSnapshot().value);
  return { actor, since, state, emitted };
}

describe('agent thread machine: turns', () => {
  it('accepts a turn, begins it at once, and ends it when the handler finishes', () => {
    const { actor, since, state } = run();
    actor.send({ type: 'turn.requested', turn: turn(1) });
    expect(since()).toEqual(['turn.accept:T1', 'turn.begin:T1']);
    expect(state()).toBe('{"running":"working"}');
    actor.send({ type: 'handler.finished' });
    expect(since()).toEqual(['turn.end:T1']);
    expect(state()).toBe('"idle"');
  });

  it('runs one turn at a time, first in first out', () => {
    const { actor, since } = run();
    actor.send({ type: 'turn.requested', turn: turn(1) });
    actor.send({ type: 'turn.requested', turn: turn(2, 'bob') });
    actor.send({ type: 'turn.requested', turn: turn(3) });
    expect(since()).toEqual(['turn.accept:T1', 'turn.begin:T1', 'turn.accept:T2', 'turn.accept:T3']);
    expect(actor.getSnapshot().context.queue.map((t) => t.turnId)).toEqual(['T2', 'T3']);
    actor.send({ type: 'handler.finished', error: { message: 'boom', code: null } });
    expect(since()).toEqual(['turn.end:T1:null', 'turn.begin:T2']);
    actor.send({ type: 'handler.finished' });
    expect(since()).toEqual(['turn.end:T2', 'turn.begin:T3']);
    actor.send({ type: 'handler.finished' });
    expect(since()).toEqual(['turn.end:T3']);
  });

  it('rejects a turn the runtime refused, without queueing it', () => {
    const { actor, since, state } = run();
    actor.send({ type: 'turn.requested', turn: turn(1), rejection: { message: 'unknown model', code: 'unknown_model' } });
    expect(since()).toEqual(['turn.reject:T1:unknown_model']);
    expect(state()).toBe('"idle"');
  });
});

describe('agent thread machine: steering', () => {
  it('accepts and delivers a steer for the active turn; applies it when taken', () => {
    const { actor, since } = run();
    actor.send({ type: 'turn.requested', turn: turn(1) });
    since();
    actor.send({ type: 'turn.steer', turnId: 'T1', steer: { messageId: 's1', senderId: 'bob' } });
    expect(since()).toEqual(['steer.accept:T1:s1', 'steer.deliver:T1:s1']);
    actor.send({ type: 'steer.taken', messageId: 's1' });
    expect(since()).toEqual(['steer.applied:T1:s1']);
    actor.send({ type: 'steer.taken', messageId: 's1' });
    expect(since()).toEqual([]);
  });

  it('rejects steers for a turn that is not running', () => {
    const { actor, since } = run();
    actor.send({ type: 'turn.steer', turnId: 'T9', steer: { messageId: 's', senderId: 'bob' } });
    expect(since()).toEqual([`steer.reject:T9:s:${STEER_NOT_IN_PROGRESS.code}`]);
    actor.send({ type: 'turn.requested', turn: turn(1) });
    actor.send({ type: 'turn.requested', turn: turn(2) });
    since();
    actor.send({ type: 'turn.steer', turnId: 'T2', steer: { messageId: 's2', senderId: 'bob' } });
    expect(since()).toEqual([`steer.reject:T2:s2:${STEER_NOT_IN_PROGRESS.code}`]);
  });

  it('rejects the steers the turn never took with turn_ended, before turn.end', () => {
    const { actor, since } = run();
    actor.send({ type: 'turn.requested', turn: turn(1) });
    actor.send({ type: 'turn.steer', turnId: 'T1', steer: { messageId: 's1', senderId: 'bob' } });
    actor.send({ type: 'turn.steer', turnId: 'T1', steer: { messageId: 's2', senderId: 'bob' } });
    actor.send({ type: 'steer.taken', messageId: 's1' });
    since();
    actor.send({ type: 'handler.finished' });
    expect(since()).toEqual([`steer.reject:T1:s2:${STEER_TURN_ENDED.code}`, 'turn.end:T1']);
  });
});

describe('agent thread machine: interruption', () => {
  it('accepts an interrupt for the active turn, aborts it, and ends it as cancelled', () => {
    const { actor, since, state } = run();
    actor.send({ type: 'turn.requested', turn: turn(1) });
    since();
    actor.send({ type: 'turn.interrupt', turnId: 'T1', messageId: 'i1' });
    expect(since()).toEqual(['interrupt.accept:T1', 'turn.abort:T1']);
    expect(state()).toBe('{"running":"interrupting"}');
    actor.send({ type: 'turn.interrupt', turnId: 'T1', messageId: 'i2' });
    expect(since()).toEqual([]);
    actor.send({ type: 'handler.finished' });
    expect(since()).toEqual(['turn.interrupted:T1', `turn.end:T1:${TURN_CANCELLED.code}`]);
  });

  it('ignores an interrupt for a turn that is not running', () => {
    const { actor, since } = run();
    actor.send({ type: 'turn.interrupt', turnId: 'T1', messageId: 'i' });
    actor.send({ type: 'turn.requested', turn: turn(1) });
    since();
    actor.send({ type: 'turn.interrupt', turnId: 'T0', messageId: 'i' });
    expect(since()).toEqual([]);
  });
});

describe('agent thread machine: openers and stopping', () => {
  it('keeps the openers once each, replays to every open, and forgets closers and leavers', () => {
    const { actor, since } = run();
    actor.send({ type: 'thread.opened', participantId: 'alice' });
    actor.send({ type: 'thread.opened', participantId: 'bob' });
    actor.send({ type: 'thread.opened', participantId: 'alice' });
    expect(since()).toEqual(['thread.replay:alice', 'thread.replay:bob', 'thread.replay:alice']);
    expect(actor.getSnapshot().context.openers).toEqual(['alice', 'bob']);
    actor.send({ type: 'thread.closed', participantId: 'alice' });
    actor.send({ type: 'participant.left', participantId: 'bob' });
    expect(actor.getSnapshot().context.openers).toEqual([]);
  });

  it('on stop aborts and cancels the active turn and cancels the queue', () => {
    const { actor, since } = run();
    actor.send({ type: 'turn.requested', turn: turn(1) });
    actor.send({ type: 'turn.requested', turn: turn(2) });
    actor.send({ type: 'turn.steer', turnId: 'T1', steer: { messageId: 's', senderId: 'bob' } });
    since();
    actor.send({ type: 'agent.stop' });
    expect(since()).toEqual(['turn.abort:T1', 'steer.reject:T1:s:turn_ended', 'turn.end:T1:cancelled', 'turn.end:T2:cancelled']);
    expect(actor.getSnapshot().status).toBe('done');
  });
});

describe('agent thread machine: coverage', () => {
  it('takes every transition (graph paths, each followed by every event)', () => {
    const events: AgentThreadEvent[] = [
      { type: 'thread.opened', participantId: 'alice' },
      { type: 'thread.closed', participantId: 'alice' },
      { type: 'participant.left', participantId: 'alice' },
      { type: 'turn.requested', turn: turn(1) },
      { type: 'turn.requested', turn: turn(2), rejection: { message: 'no', code: 'unknown_model' } },
      { type: 'turn.steer', turnId: 'T1', steer: { messageId: 's', senderId: 'bob' } },
      { type: 'turn.steer', turnId: 'T9', steer: { messageId: 'x', senderId: 'bob' } },
      { type: 'steer.taken', messageId: 's' },
      { type: 'turn.interrupt', turnId: 'T1', messageId: 'i' },
      { type: 'turn.interrupt', turnId: 'T9', messageId: 'i' },
      { type: 'handler.finished' },
      { type: 'agent.stop' },
    ];
    const coverage = coverTransitions(agentThreadMachine, {
      events,
      inputs: [{ threadId: 'thread-1' }],
      serializeState: (snapshot) => {
        const s = snapshot as Snapshot;
        return JSON.stringify([s.status, s.value, s.context.openers, s.context.queue.length > 0, s.context.steers.length > 0, s.context.active?.turnId]);
      },
    });
    expect(coverage.missing).toEqual([]);
    expect(coverage.total).toBeGreaterThanOrEqual(15);
  });
});
