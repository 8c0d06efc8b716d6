/**
 * `roomstate agent serve --echo` and `roomstate agent ask` as real
 * processes against a real server: a clean turn, a steer and an interrupt
 * landing mid-turn, and each failing exit (not found, rejected, timed out,
 * agent left) with its one stderr line.
 */
import { describe, expect, it } from 'vitest';
import { expectExitCode, expectOneErrorLine, runCli, startCli, type CliExit, type CliProcess } from '../helpers/cli.js';
import { useCliRoom } from '../helpers/cli-room.js';
import { uniqueRoom } from '../helpers/server.js';

const WAIT = 60_000;
const READY = /serving agent "(\S+)" in room ".*" as participant (\S+) \(Ctrl-C to stop\)\./;

// A killed agent's session waits out the recovery window (it may come back, resumed) before the
// room hears it left: a short window keeps the mid-turn departure below quick.
const room$ = useCliRoom({ limits: { recoveryWindowMs: 500 } });
const { conn } = room$;

async function serveEcho(room: string, delay = '1s'): Promise<CliProcess> {
  const cli = startCli(['agent', 'serve', ...conn(room, 'echo'), '--echo', '--delay', delay]);
  await cli.waitForStderr(READY, WAIT);
  return cli;
}

function parsed(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The exit code and the one stderr line of a turn that failed (its events are still on stdout). */
function expectTurnExit(exit: CliExit, code: number, line: RegExp | string): void {
  expectExitCode(exit, code);
  const lines = exit.stderr.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  if (typeof line === 'string') expect(lines[0]).toBe(line);
  else expect(lines[0]).toMatch(line);
}

const deltas = (events: Record<string, unknown>[]) => events.filter((e) => e.type === 'meshagent.agent.text_content.delta').map((e) => e.text);

describe('roomstate agent', () => {
  it('ask gets the text back in three deltas and exits 0; serve logs the turn', async () => {
    const room = uniqueRoom();
    const agent = await serveEcho(room, '10ms');
    const exit = await runCli(['agent', 'ask', ...conn(room, 'alice'), '--agent', 'echo', 'hello there'], { timeoutMs: WAIT });
    expectExitCode(exit, 0);
    const events = parsed(exit.stdout);
    expect(deltas(events)).toEqual(['hell', 'o th', 'ere']);
    expect(events.map((e) => e.type)).toEqual([
      'meshagent.agent.turn.start.accepted',
      'meshagent.agent.turn.started',
      'meshagent.agent.text_content.started',
      'meshagent.agent.text_content.delta',
      'meshagent.agent.text_content.delta',
      'meshagent.agent.text_content.delta',
      'meshagent.agent.text_content.ended',
      'meshagent.agent.turn.ended',
    ]);
    const threadId = /^roomstate: thread (\S+)$/m.exec(exit.stderr)![1];
    expect(events.every((e) => e.thread_id === threadId)).toBe(true);
    const logged = parsed((await agent.waitForLine((l) => l.includes('"turn.ended"'), WAIT), agent.stdout()));
    expect(logged).toEqual([
      { event: 'turn.started', thread_id: threadId, turn_id: events[0]!.turn_id, sender: 'alice', text: 'hello there' },
      { event: 'turn.ended', thread_id: threadId, turn_id: events[0]!.turn_id, outcome: 'ended' },
    ]);
  });

  it('ask --steer lands mid-turn: the steer is applied and its text appended', async () => {
    const room = uniqueRoom();
    await serveEcho(room);
    const exit = await runCli(['agent', 'ask', ...conn(room, 'alice'), '--agent', 'echo', '--thread', '.threads/t1', '--steer', 'and more', 'hello there'], { timeoutMs: WAIT });
    expectExitCode(exit, 0);
    const events = parsed(exit.stdout);
    expect(deltas(events).join('')).toBe('hello there and more');
    expect(events.some((e) => e.type === 'meshagent.agent.turn.steered')).toBe(true);
    // The thread was given: no id is made up.
    expect(exit.stderr).not.toMatch(/thread/);
  });

  it('ask --interrupt lands mid-turn: exit 7 with one line', async () => {
    const room = uniqueRoom();
    await serveEcho(room);
    const exit = await runCli(['agent', 'ask', ...conn(room, 'alice'), '--agent', 'echo', '--thread', '.threads/t', '--interrupt', 'hello there'], { timeoutMs: WAIT });
    expectTurnExit(exit, 7, /^roomstate: the turn was interrupted \(turn \S+\)\.$/);
    const events = parsed(exit.stdout);
    expect(deltas(events)).toEqual(['hell']);
    expect(events.at(-1)).toMatchObject({ type: 'meshagent.agent.turn.ended', error: { message: 'turn cancelled', code: 'cancelled' } });
  });

  it('ask exits 6 naming the code when the agent rejects the turn', async () => {
    const room = uniqueRoom();
    await serveEcho(room, '10ms');
    const exit = await runCli(['agent', 'ask', ...conn(room, 'alice'), '--agent', 'echo', '--thread', '.threads/t', '--model', 'gpt-x', 'hi'], { timeoutMs: WAIT });
    expectTurnExit(exit, 6, 'roomstate: the agent rejected the turn: unknown model "gpt-x" (code unknown_model).');
  });

  it('ask exits 4 when there is no such agent', async () => {
    const room = uniqueRoom();
    const exit = await runCli(['agent', 'ask', ...conn(room, 'alice'), '--agent', 'nobody', '--timeout', '1s', 'hi'], { timeoutMs: WAIT });
    expectOneErrorLine(exit, 4, `roomstate: no agent named "nobody" (a participant with supports_agent_messages) in room "${room}".`);
  });

  it('ask exits 8 when the agent never answers within --timeout', async () => {
    const room = uniqueRoom();
    const mute = await room$.enabled(room, 'mute');
    mute.notify('set_attributes', { supports_agent_messages: true });
    const exit = await runCli(['agent', 'ask', ...conn(room, 'alice'), '--agent', 'mute', '--thread', '.threads/t', '--timeout', '1s', 'hi'], { timeoutMs: WAIT });
    expectTurnExit(exit, 8, 'roomstate: the agent did not accept or reject the turn within 1s.');
  });

  it('ask exits 9 when the agent leaves mid-turn', async () => {
    const room = uniqueRoom();
    const agent = await serveEcho(room, '60s');
    const ask = startCli(['agent', 'ask', ...conn(room, 'alice'), '--agent', 'echo', '--thread', '.threads/t', 'hi']);
    await ask.waitForLine((line) => line.includes('meshagent.agent.turn.started'), WAIT);
    agent.kill('SIGKILL');
    const exit = await ask.exited(WAIT);
    expectTurnExit(exit, 9, 'roomstate: the agent left the room before the turn ended.');
  });
});
