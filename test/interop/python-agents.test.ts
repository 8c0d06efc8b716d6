/**
 * Agent turns against the real MeshAgent Python code (meshagent-agents
 * 0.56.0, unmodified) on a roomstate server: our caller (roomstate/agents)
 * against a process agent on the model-free chat backend and on our fake
 * streaming LLM adapter (deltas, steer, interrupt), and their
 * MessagingChatClient against our serveAgent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom, toArray } from 'rxjs';
import { pythonAvailability } from '../helpers/python.js';
import { runPythonAsk, startPythonAgent, stopAllPythonAgents } from '../helpers/python-agents.js';
import { ClientPool, record } from '../client/helpers/clients.js';
import { uniqueRoom, useServer } from '../helpers/server.js';
import { AgentTurnCancelledError, AgentTurnRejectedError, openThread, serveAgent, type AgentEvent } from '../../src/agents/index.js';
import { echoTurn } from '../../src/cli/commands/agent/echo.js';

const availability = pythonAvailability();
const WAIT = 60_000;
/** Pause before each delta: long enough that a steer sent on the first delta lands mid-turn on any machine. */
const DELAY_S = 1;

const kinds = (events: readonly AgentEvent[]) => events.map((e) => (e.kind === 'text' || e.kind === 'steer' || e.kind === 'interrupt' ? `${e.kind}.${e.phase}` : e.kind));
const deltas = (events: readonly AgentEvent[]) => events.flatMap((e) => (e.kind === 'text.delta' ? [e.text] : []));

describe.skipIf(!availability.run)('agent turns with meshagent-agents 0.56.0', () => {
  const venv = availability.run ? availability.venv : (undefined as never);
  const fx = useServer({ logger: false });
  let pool: ClientPool;

  afterEach(async () => {
    await stopAllPythonAgents();
    await pool?.close();
  });

  async function pythonAgent(backend: 'chat' | 'fake') {
    const room = uniqueRoom(`py-agent-${backend}`);
    pool = new ClientPool({ url: fx.url, secret: fx.secret });
    const agent = await startPythonAgent(venv, { url: fx.url, room, token: await fx.token(room, 'assistant', { role: 'agent' }) }, { backend, delaySeconds: DELAY_S });
    const alice = await pool.enabled(room, 'alice');
    const thread = await openThread(alice, 'assistant', { findTimeout: WAIT });
    return { agent, alice, thread };
  }

  it('our caller against the chat/none process agent: accepted, started, ended, no output', async () => {
    const { thread } = await pythonAgent('chat');
    expect(thread.participant.getAttribute('supports_agent_messages')).toBe(true);
    const turn = thread.startTurn({ text: 'hello', files: ['https://example.com/a.txt'] });
    const events = firstValueFrom(turn.events$.pipe(toArray()));
    const result = await turn.done;
    expect(result).toEqual({ turnId: turn.turnId, text: '' });
    const seen = await events;
    expect(kinds(seen)).toEqual(['accepted', 'started', 'ended']);
    expect(seen[0]!.message.content).toEqual([{ type: 'text', text: 'hello' }, { type: 'file', url: 'https://example.com/a.txt' }]);
    expect(seen[0]!.message.sender_name).toBe('alice');
  });

  it('our caller gets the chat backend rejection with its code (unknown_model)', async () => {
    const { thread } = await pythonAgent('chat');
    const turn = thread.startTurn({ text: 'hi', fields: { model: 'gpt-x' } });
    const error = (await turn.done.catch((e: unknown) => e)) as AgentTurnRejectedError;
    expect(error).toBeInstanceOf(AgentTurnRejectedError);
    expect(error.agentCode).toBe('unknown_model');
  });

  it('our caller against the fake streaming LLM: three deltas, a steer applied mid-turn', async () => {
    const { thread } = await pythonAgent('fake');
    const turn = thread.startTurn({ text: 'hello there' });
    const events = record(turn.events$);
    await events.waitFor((e) => e.kind === 'text.delta', { timeoutMs: WAIT });
    await turn.steer('and more');
    const result = await turn.done;
    expect(result.text).toBe('hello there and more');
    expect(deltas(events.items)).toEqual(['hell', 'o th', 'ere', ' and more']);
    const order = kinds(events.items).filter((k) => k !== 'other');
    expect(order).toEqual(['accepted', 'started', 'text.started', 'text.delta', 'steer.accepted', 'steer.applied', 'text.delta', 'text.delta', 'text.delta', 'text.ended', 'ended']);
  });

  it('our caller interrupts the fake streaming LLM mid-turn: cancelled', async () => {
    const { thread } = await pythonAgent('fake');
    const turn = thread.startTurn({ text: 'hello there' });
    const events = record(turn.events$);
    await events.waitFor((e) => e.kind === 'text.delta', { timeoutMs: WAIT });
    turn.interrupt();
    const error = (await turn.done.catch((e: unknown) => e)) as AgentTurnCancelledError;
    expect(error).toBeInstanceOf(AgentTurnCancelledError);
    expect(deltas(events.items)).toEqual(['hell']);
    expect(kinds(events.items).filter((k) => k.startsWith('interrupt') || k === 'ended')).toEqual(['interrupt.accepted', 'interrupt.interrupted', 'ended']);
    expect(events.items.at(-1)!.message.error).toEqual({ message: 'turn cancelled', code: 'cancelled' });
  });

  describe('their MessagingChatClient against our serveAgent', () => {
    async function ourAgent() {
      const room = uniqueRoom('py-caller');
      pool = new ClientPool({ url: fx.url, secret: fx.secret });
      const agentRoom = await pool.client(room, 'echo');
      await agentRoom.start();
      await serveAgent({ room: agentRoom, name: 'echo', onTurn: echoTurn(DELAY_S * 1000) });
      return { url: fx.url, room, token: await fx.token(room, 'pycaller') };
    }

    it('asks, steers on the first delta, and gets the steered answer', async () => {
      const room = await ourAgent();
      const { events, code, stderr } = await runPythonAsk(venv, room, { agent: 'echo', thread: '.threads/py', text: 'hello there', steer: 'and more' });
      expect(code, stderr).toBe(0);
      expect(events.at(-1)).toEqual({ event: 'done', text: 'hello there and more' });
      const types = events.flatMap((e) => (e.event === 'message' ? [(e.message as { type: string }).type] : []));
      expect(types).toContain('meshagent.agent.turn.steered');
      expect(events.some((e) => e.event === 'steer_rejected')).toBe(false);
    });

    it('interrupts on the first delta and sees the turn cancelled', async () => {
      const room = await ourAgent();
      const { events, code, stderr } = await runPythonAsk(venv, room, { agent: 'echo', thread: '.threads/py', text: 'hello there', interrupt: true });
      expect(code, stderr).toBe(0);
      expect(events.at(-1)).toEqual({ event: 'error', error: 'turn cancelled', code: 'cancelled' });
      const types = events.flatMap((e) => (e.event === 'message' ? [(e.message as { type: string }).type] : []));
      expect(types).toContain('meshagent.agent.turn.interrupted');
    });
  });
});
