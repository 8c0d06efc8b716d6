/**
 * Agent turns end to end over a real roomstate server: the caller API
 * (roomstate/agents openThread/startTurn) against serveAgent, each a real
 * RoomClient on 127.0.0.1. Handlers are driven by gates the tests open, so
 * nothing depends on timing.
 */
import { describe, expect, it } from 'vitest';
import { firstValueFrom, toArray } from 'rxjs';
import { useClientRoom, record } from '../client/helpers/clients.js';
import { uniqueRoom } from '../helpers/server.js';
import {
  AgentLeftError,
  AgentSteerRejectedError,
  AgentTurnCancelledError,
  AgentTurnFailedError,
  AgentTurnRejectedError,
  AgentTurnTimeoutError,
  AgentMessageType,
  findAgent,
  openThread,
  serveAgent,
  type AgentEvent,
  type ServedTurn,
} from '../../src/agents/index.js';
import { RoomStateErrorCode } from '../../src/errors.js';
import { Recorder, waitUntil } from '../helpers/recorder.js';

const ctx = useClientRoom();

/** A handler whose every turn waits on gates the test opens. */
function gated() {
  const turns = new Recorder<ServedTurn>();
  const gates = new Map<string, () => void>();
  const waitGate = (turn: ServedTurn, name: string) =>
    new Promise<void>((resolve, reject) => {
      turns.push(turn);
      gates.set(`${turn.text}:${name}`, resolve);
      turn.signal.addEventListener('abort', () => reject(turn.signal.reason), { once: true });
    });
  const open = async (text: string, name: string) => {
    await turns.waitFor((turn) => turn.text === text);
    for (let i = 0; i < 1000 && !gates.has(`${text}:${name}`); i++) await new Promise((r) => setImmediate(r));
    gates.get(`${text}:${name}`)!();
  };
  return { turns, waitGate, open };
}

async function setup(onTurn: (turn: ServedTurn) => Promise<void> | void, room = uniqueRoom('agents')) {
  const agentRoom = await ctx.pool.client(room, 'echo');
  await agentRoom.start();
  const agent = await serveAgent({ room: agentRoom, name: 'echo', onTurn });
  const alice = await ctx.pool.enabled(room, 'alice');
  return { room, agentRoom, agent, alice };
}

describe('agent turns: caller against serveAgent', () => {
  it('finds the agent by name, streams three deltas and resolves on turn.ended', async () => {
    const { alice } = await setup(async (turn) => {
      for (const part of ['one ', 'two ', 'three']) turn.writeText(part);
    });
    const agent = await findAgent(alice, 'echo', { timeout: 30_000 });
    expect(agent.getAttribute('supports_agent_messages')).toBe(true);
    const thread = await openThread(alice, agent);
    const turn = thread.startTurn({ text: 'hi', files: ['https://example.com/a.png'] });
    const states = record(turn.state$);
    const deltas = firstValueFrom(turn.text$.pipe(toArray()));
    const events = firstValueFrom(turn.events$.pipe(toArray()));
    const result = await turn.done;
    expect(result.text).toBe('one two three');
    expect(result.turnId).toBe(turn.turnId);
    expect(await deltas).toEqual(['one ', 'two ', 'three']);
    const kinds = (await events).map((e: AgentEvent) => (e.kind === 'text' ? `text.${e.phase}` : e.kind));
    expect(kinds).toEqual(['accepted', 'started', 'text.started', 'text.delta', 'text.delta', 'text.delta', 'text.ended', 'ended']);
    const accepted = (await events)[0]!;
    expect(accepted.message.content).toEqual([{ type: 'text', text: 'hi' }, { type: 'file', url: 'https://example.com/a.png' }]);
    expect(accepted.message.sender_name).toBe('alice');
    expect(states.items).toEqual(['starting', 'queued', 'started', 'streaming', 'ended']);
  });

  it('rejects a turn with the protocol code (unknown_model) as AgentTurnRejectedError', async () => {
    const { alice } = await setup(() => undefined);
    const thread = await openThread(alice, 'echo');
    const turn = thread.startTurn({ text: 'hi', fields: { model: 'gpt-none' } });
    const error = (await turn.done.catch((e: unknown) => e)) as AgentTurnRejectedError;
    expect(error).toBeInstanceOf(AgentTurnRejectedError);
    expect(error.code).toBe(RoomStateErrorCode.AgentTurnRejected);
    expect(error.agentCode).toBe('unknown_model');
    expect(error.message).toBe('the agent rejected the turn: unknown model "gpt-none" (code unknown_model).');
    expect(turn.state).toBe('rejected');
  });

  it('ends a turn whose handler throws as AgentTurnFailedError', async () => {
    const { alice } = await setup(() => {
      throw new TypeError('no such tool');
    });
    const thread = await openThread(alice, 'echo');
    const error = (await thread.startTurn({ text: 'x' }).done.catch((e: unknown) => e)) as AgentTurnFailedError;
    expect(error).toBeInstanceOf(AgentTurnFailedError);
    expect(error.agentCode).toBe('TypeError');
    expect(error.message).toBe('the turn failed: no such tool (code TypeError).');
  });

  it('steers a running turn: accepted, applied (turn.steered), its text in the answer', async () => {
    const gate = gated();
    const { alice } = await setup(async (turn) => {
      turn.writeText(turn.text);
      await gate.waitGate(turn, 'steered');
      for (const steer of turn.takeSteers()) turn.writeText(` + ${steer.text}`);
    });
    const thread = await openThread(alice, 'echo');
    const turn = thread.startTurn({ text: 'draft' });
    const events = record(turn.events$);
    await events.waitFor((e) => e.kind === 'text.delta', { timeoutMs: 60_000 });
    const steered = turn.steer('shorter');
    await events.waitFor((e) => e.kind === 'steer' && e.phase === 'accepted', { timeoutMs: 60_000 });
    await gate.open('draft', 'steered');
    await steered;
    const result = await turn.done;
    expect(result.text).toBe('draft + shorter');
    const steer = events.items.filter((e) => e.kind === 'steer').map((e) => (e.kind === 'steer' ? e.phase : ''));
    expect(steer).toEqual(['accepted', 'applied']);
    const applied = events.items.find((e) => e.kind === 'steer' && e.phase === 'applied')!;
    expect(applied.message.content).toEqual([{ type: 'text', text: 'shorter' }]);
  });

  it('rejects a steer the turn never took with turn_ended', async () => {
    const gate = gated();
    const { alice } = await setup(async (turn) => {
      turn.writeText('working');
      await gate.waitGate(turn, 'end');
    });
    const thread = await openThread(alice, 'echo');
    const turn = thread.startTurn({ text: 'job' });
    const events = record(turn.events$);
    await events.waitFor((e) => e.kind === 'text.delta', { timeoutMs: 60_000 });
    const steered = turn.steer('more').catch((e: unknown) => e);
    await events.waitFor((e) => e.kind === 'steer' && e.phase === 'accepted', { timeoutMs: 60_000 });
    await gate.open('job', 'end');
    const error = (await steered) as AgentSteerRejectedError;
    expect(error).toBeInstanceOf(AgentSteerRejectedError);
    expect(error.agentCode).toBe('turn_ended');
    expect((await turn.done).text).toBe('working');
  });

  it('interrupts a running turn: the handler is aborted and the turn ends cancelled', async () => {
    const gate = gated();
    let aborted = false;
    const { alice } = await setup(async (turn) => {
      turn.writeText('partial');
      turn.signal.addEventListener('abort', () => (aborted = true));
      await gate.waitGate(turn, 'never').catch(() => undefined);
      turn.writeText('dropped after the interrupt');
    });
    const thread = await openThread(alice, 'echo');
    const turn = thread.startTurn({ text: 'long job' });
    const events = record(turn.events$);
    await events.waitFor((e) => e.kind === 'text.delta', { timeoutMs: 60_000 });
    turn.interrupt();
    const error = (await turn.done.catch((e: unknown) => e)) as AgentTurnCancelledError;
    expect(error).toBeInstanceOf(AgentTurnCancelledError);
    expect(error.code).toBe(RoomStateErrorCode.AgentTurnCancelled);
    expect(error.agentCode).toBe('cancelled');
    expect(aborted).toBe(true);
    const kinds = events.items.map((e) => (e.kind === 'interrupt' ? `interrupt.${e.phase}` : e.kind));
    expect(kinds.slice(-4)).toEqual(['interrupt.accepted', 'text', 'interrupt.interrupted', 'ended']);
    expect(events.items.filter((e) => e.kind === 'text.delta').map((e) => (e.kind === 'text.delta' ? e.text : ''))).toEqual(['partial']);
    const ended = events.items.at(-1)!;
    expect(ended.message.error).toEqual({ message: 'turn cancelled', code: 'cancelled' });
  });

  it('runs one turn at a time per thread, first in first out, and every opener sees both', async () => {
    const gate = gated();
    const order: string[] = [];
    const { room, alice } = await setup(async (turn) => {
      order.push(`begin ${turn.text}`);
      turn.writeText(`${turn.text}!`);
      await gate.waitGate(turn, 'end');
      order.push(`end ${turn.text}`);
    });
    const bob = await ctx.pool.enabled(room, 'bob');
    const aliceThread = await openThread(alice, 'echo', { threadId: '.threads/shared' });
    const bobThread = await openThread(bob, 'echo', { threadId: '.threads/shared' });
    const bobSees = record(bobThread.messages$);
    const first = aliceThread.startTurn({ text: 'first' });
    const firstEvents = record(first.events$);
    await firstEvents.waitFor((e) => e.kind === 'text.delta', { timeoutMs: 60_000 });
    const second = bobThread.startTurn({ text: 'second' });
    const secondStates = record(second.state$);
    await secondStates.waitFor((state) => state === 'queued', { timeoutMs: 60_000 });
    expect(order).toEqual(['begin first']);
    await gate.open('first', 'end');
    await first.done;
    await secondStates.waitFor((state) => state === 'streaming', { timeoutMs: 60_000 });
    await gate.open('second', 'end');
    expect((await second.done).text).toBe('second!');
    expect(order).toEqual(['begin first', 'end first', 'begin second', 'end second']);
    // Bob opened the thread: he received alice's turn too, its input echoed first.
    const firstTurnId = first.turnId!;
    const bobFirst = bobSees.filter((m) => m.turn_id === firstTurnId).map((m) => m.type);
    expect(bobFirst).toEqual([
      AgentMessageType.TurnStartAccepted,
      AgentMessageType.TurnStarted,
      AgentMessageType.TextStarted,
      AgentMessageType.TextDelta,
      AgentMessageType.TextEnded,
      AgentMessageType.TurnEnded,
    ]);
    expect(bobSees.find((m) => m.type === AgentMessageType.TurnStart)?.sender_name).toBe('alice');
  });

  it('replays the running turn to a late opener of the thread', async () => {
    const gate = gated();
    const { room, alice } = await setup(async (turn) => {
      turn.writeText('early ');
      await gate.waitGate(turn, 'late');
      turn.writeText('late');
    });
    const thread = await openThread(alice, 'echo', { threadId: '.threads/replay' });
    const turn = thread.startTurn({ text: 'story' });
    const events = record(turn.events$);
    await events.waitFor((e) => e.kind === 'text.delta', { timeoutMs: 60_000 });
    const carol = await ctx.pool.enabled(room, 'carol');
    const carolThread = await openThread(carol, 'echo', { threadId: '.threads/replay' });
    const carolSees = record(carolThread.messages$);
    await carolSees.waitFor((m) => m.type === AgentMessageType.TextDelta, { timeoutMs: 60_000 });
    await gate.open('story', 'late');
    await turn.done;
    await carolSees.waitFor((m) => m.type === AgentMessageType.TurnEnded, { timeoutMs: 60_000 });
    expect(carolSees.items.map((m) => m.type)).toEqual([
      AgentMessageType.TurnStartAccepted,
      AgentMessageType.TurnStarted,
      AgentMessageType.TextStarted,
      AgentMessageType.TextDelta,
      AgentMessageType.TextDelta,
      AgentMessageType.TextEnded,
      AgentMessageType.TurnEnded,
    ]);
  });

  it('rejects a steer for a queued turn with turn_not_in_progress', async () => {
    const gate = gated();
    const { alice } = await setup(async (turn) => {
      turn.writeText('.');
      await gate.waitGate(turn, 'end');
    });
    const thread = await openThread(alice, 'echo');
    const first = thread.startTurn({ text: 'a' });
    await record(first.events$).waitFor((e) => e.kind === 'text.delta', { timeoutMs: 60_000 });
    const second = thread.startTurn({ text: 'b' });
    await record(second.state$).waitFor((s) => s === 'queued', { timeoutMs: 60_000 });
    const error = (await second.steer('hurry').catch((e: unknown) => e)) as AgentSteerRejectedError;
    expect(error).toBeInstanceOf(AgentSteerRejectedError);
    expect(error.agentCode).toBe('turn_not_in_progress');
    await gate.open('a', 'end');
    await gate.open('b', 'end');
    await second.done;
  });

  it('rejects with AgentLeftError when the agent leaves mid-turn', async () => {
    const gate = gated();
    const { alice, agentRoom } = await setup(async (turn) => {
      turn.writeText('bye');
      await gate.waitGate(turn, 'never').catch(() => undefined);
    });
    const thread = await openThread(alice, 'echo');
    const turn = thread.startTurn({ text: 'x' });
    await record(turn.events$).waitFor((e) => e.kind === 'text.delta', { timeoutMs: 60_000 });
    await agentRoom.close();
    const error = (await turn.done.catch((e: unknown) => e)) as AgentLeftError;
    expect(error).toBeInstanceOf(AgentLeftError);
    expect(error.code).toBe(RoomStateErrorCode.AgentLeft);
    expect(turn.state).toBe('agentLeft');
  });

  it('forgets a thread once it has no turn and no opener (memory follows the threads in use)', async () => {
    const { alice, agent } = await setup((turn) => turn.writeText('ok'));
    const thread = await openThread(alice, 'echo', { threadId: '.threads/short' });
    await thread.startTurn({ text: 'x' }).done;
    expect(agent.threads()).toEqual(['.threads/short']);
    await thread.close();
    await waitUntil(() => agent.threads().length === 0, { timeoutMs: 60_000, what: 'the agent to forget the thread' });
    expect(agent.threads()).toEqual([]);
  });

  it('times out when the agent never answers the start', async () => {
    const room = uniqueRoom('agents');
    // A participant that claims to serve turns but never answers.
    const mute = await ctx.pool.enabled(room, 'mute');
    mute.localParticipant.setAttributes({ supports_agent_messages: true });
    const alice = await ctx.pool.enabled(room, 'alice');
    const thread = await openThread(alice, 'mute');
    const turn = thread.startTurn({ text: 'hello?', answerTimeout: 200 });
    const error = (await turn.done.catch((e: unknown) => e)) as AgentTurnTimeoutError;
    expect(error).toBeInstanceOf(AgentTurnTimeoutError);
    expect(error.code).toBe(RoomStateErrorCode.Timeout);
    expect(error.limit).toBe('answer');
    expect(error.message).toBe('the agent did not accept or reject the turn within 0.2s.');
  });
});
