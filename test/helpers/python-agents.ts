/**
 * meshagent-agents 0.56.0 processes for the agent-turn interop tests:
 * `test/python/agents.py agent` (a process agent on the model-free chat
 * backend or our fake streaming LLM) and `agents.py ask` (their
 * MessagingChatClient). Both report NDJSON events on stdout into a
 * {@link Recorder}; every process is tracked so {@link stopAllPythonAgents}
 * ends stragglers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { cleanEnv } from './cli.js';
import type { PythonVenv } from './python.js';
import { PYTHON_TIMEOUT_MS, readNdjson, type PeerEvent } from './python-peer.js';
import { Recorder } from './recorder.js';
import { REPO_ROOT } from './spawned-server.js';

/** The driver script (its fake adapter sits beside it). */
export const AGENTS_SCRIPT = join(REPO_ROOT, 'test/python/agents.py');

const running = new Set<ChildProcess>();

/** One agents.py process. */
export interface PythonAgentProcess {
  readonly events: Recorder<PeerEvent>;
  /** Everything written to stderr (its logs). */
  stderr(): string;
  /** Resolves with the exit code; kills the process after the deadline. */
  exited(): Promise<number | null>;
  /** Closes stdin (an agent stops and leaves) and waits for the exit. */
  close(): Promise<number | null>;
  /** Ends the process at once. */
  kill(): Promise<number | null>;
}

function start(venv: PythonVenv, args: readonly string[]): PythonAgentProcess {
  const child = spawn(venv.python, [AGENTS_SCRIPT, ...args], { cwd: join(REPO_ROOT, 'test/python'), env: cleanEnv({ PYTHONUNBUFFERED: '1' }), stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  const events = new Recorder<PeerEvent>();
  let stderr = '';
  readNdjson(child, events);
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exit.then(() => running.delete(child));
  const exited = async () => {
    const killer = setTimeout(() => child.kill('SIGKILL'), PYTHON_TIMEOUT_MS);
    const code = await exit;
    clearTimeout(killer);
    return code;
  };
  return {
    events,
    stderr: () => stderr,
    exited,
    close: () => {
      child.stdin!.end();
      return exited();
    },
    kill: () => {
      child.kill('SIGKILL');
      return exit;
    },
  };
}

/** Connection of a Python process. */
export interface PythonRoom {
  readonly url: string;
  readonly room: string;
  readonly token: string;
}

/** Starts a Python process agent and waits until it serves. */
export async function startPythonAgent(venv: PythonVenv, room: PythonRoom, options: { backend: 'chat' | 'fake'; delaySeconds?: number }): Promise<PythonAgentProcess> {
  const agent = start(venv, ['agent', '--url', room.url, '--room', room.room, '--token', room.token, '--backend', options.backend, '--delay', String(options.delaySeconds ?? 0.2)]);
  await agent.events.waitFor((e) => e.event === 'ready', { timeoutMs: PYTHON_TIMEOUT_MS, what: 'the Python agent to serve' }).catch((error: Error) => {
    throw new Error(`${error.message}; stderr: ${agent.stderr().slice(-2000)}`);
  });
  return agent;
}

/** Runs one MessagingChatClient turn to its end; resolves with every event it reported. */
export async function runPythonAsk(
  venv: PythonVenv,
  room: PythonRoom,
  options: { agent: string; thread: string; text: string; steer?: string; interrupt?: boolean },
): Promise<{ events: PeerEvent[]; code: number | null; stderr: string }> {
  const args = ['ask', '--url', room.url, '--room', room.room, '--token', room.token, '--agent', options.agent, '--thread', options.thread, '--text', options.text];
  if (options.steer !== undefined) args.push('--steer', options.steer);
  if (options.interrupt) args.push('--interrupt');
  const ask = start(venv, args);
  const code = await ask.exited();
  return { events: ask.events.items, code, stderr: ask.stderr() };
}

/** Kills every agents.py process still running. */
export async function stopAllPythonAgents(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}
