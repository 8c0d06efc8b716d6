/**
 * The first agent example of the docs (README.md and docs/client.md, "An echo agent"),
 * test/examples/echo-agent.ts, run as a real process with tsx: it echoes,
 * and it survives senders that leave before its echo, among them the CLI's
 * `roomstate room messaging send`, which leaves as soon as its send is
 * accepted. Both pages show this very file (checked here too).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanEnv, expectExitCode, runCli } from '../helpers/cli.js';
import { useCliRoom } from '../helpers/cli-room.js';
import type { RawClient } from '../helpers/raw-client.js';
import { uniqueRoom } from '../helpers/server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EXAMPLE = 'test/examples/echo-agent.ts';
const WAIT = 60_000;

const room$ = useCliRoom();
const agents: ChildProcess[] = [];
afterEach(() => {
  for (const agent of agents.splice(0)) agent.kill('SIGKILL');
});

/** The example as a process, with its stdout lines and exit. */
function startAgent(env: Record<string, string>): { lines: string[]; waitForLine(match: RegExp): Promise<string>; exited: Promise<number | null>; stderr(): string } {
  const child = spawn(process.execPath, ['--import', 'tsx', EXAMPLE], { cwd: ROOT, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  agents.push(child);
  const lines: string[] = [];
  let err = '';
  const waiters = new Set<() => void>();
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    for (const waiter of [...waiters]) waiter();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    lines,
    stderr: () => err,
    exited,
    waitForLine: (match) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`no line matching ${match} within ${WAIT} ms; stdout: ${lines.join('\n')}; stderr: ${err}`)), WAIT);
        const check = (): void => {
          const line = lines.find((l) => match.test(l));
          if (line !== undefined) done(undefined, line);
        };
        const done = (error?: Error, line?: string): void => {
          clearTimeout(timer);
          waiters.delete(check);
          void exited.then(() => undefined);
          if (error) reject(error);
          else resolve(line!);
        };
        waiters.add(check);
        // An agent that crashed will never print the line: fail at once, with its stderr.
        void exited.then((code) => done(new Error(`the agent exited with ${code} before printing ${match}: ${err}`)));
        check();
      }),
  };
}

describe('the echo agent example', () => {
  it('echoes, and survives the CLI send and a sender that leaves before the echo', { timeout: 180_000 }, async () => {
    const room = uniqueRoom();
    const { fx } = room$;
    const agent = startAgent({ ROOMSTATE_URL: fx.url, ROOMSTATE_ROOM: room, ROOMSTATE_TOKEN: await fx.token(room, 'echo') });
    await agent.waitForLine(/^echo agent ready$/);

    // A participant that stays gets the echo, as a direct message.
    const { client: alice, agent: to } = await enabledBeside(room, 'alice');
    await alice.invoke('send', { to_participant_id: to, type: 'chat', message_json: JSON.stringify({ text: 'hi' }) });
    const echo = await alice.waitForPush('chat', () => true, WAIT);
    expect(echo.message).toEqual({ text: 'echo: hi' });
    await agent.waitForLine(new RegExp(`^echoed ${alice.participantId}$`));

    // The CLI's send leaves as soon as its send is accepted: echoed or not, the agent lives on.
    const exit = await runCli(['room', 'messaging', 'send', ...room$.conn(room, 'cli'), '--to-participant-name', 'echo', '--type', 'chat', '--data', '{"text":"from the cli"}']);
    expectExitCode(exit, 0);
    await agent.waitForLine(/^(echoed|.* left before the echo)/);

    // A sender that disables right after its send (one write): the echo finds it gone, and says so.
    const { client: bob } = await enabledBeside(room, 'bob');
    const sent = bob.invoke('send', { to_participant_id: to, type: 'chat', message_json: JSON.stringify({ text: 'bye' }) });
    const disabled = bob.invoke('disable', {});
    await Promise.all([sent, disabled]);
    await agent.waitForLine(new RegExp(`^${bob.participantId} left before the echo$`));

    // Still alive and still echoing.
    await alice.invoke('send', { to_participant_id: to, type: 'chat', message_json: JSON.stringify({ text: 'again' }) });
    expect((await alice.waitForPush('chat', (push) => (push.message as { text: string }).text === 'echo: again', WAIT)).from).toBe(to);
    expect(agent.stderr()).toBe('');
  });

  it.each(['README.md', 'docs/client.md'])('is the example %s shows', (page) => {
    const docs = readFileSync(new URL(`../../${page}`, import.meta.url), 'utf8');
    const file = readFileSync(new URL('./echo-agent.ts', import.meta.url), 'utf8').replace("from '../../src/index.js'", "from 'roomstate'");
    expect(docs).toContain('```ts\n' + file + '```');
  });
});

/** A raw participant `name`, enabled, and the echo agent's id from its presence snapshot. */
async function enabledBeside(room: string, name: string): Promise<{ client: RawClient; agent: string }> {
  const client = await room$.connect(room, name);
  await client.invoke('enable', {});
  const snapshot = await client.waitForPush('messaging.enabled', () => true, WAIT);
  const echo = (snapshot.message as { participants: Array<{ id: string; attributes: { name?: string } }> }).participants.find((p) => p.attributes.name === 'echo');
  if (echo === undefined) throw new Error('the echo agent is not in the room');
  return { client, agent: echo.id };
}
