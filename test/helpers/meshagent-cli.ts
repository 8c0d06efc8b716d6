/**
 * Runs the official `meshagent` CLI (meshagent-cli 0.56.0 from the test venv,
 * unmodified) as a child process, with a temporary HOME so that no user
 * settings (`~/.meshagent`) leak in, and no `MESHAGENT_*` or `ROOMSTATE_*`
 * variables but those given. Every child is tracked, so
 * {@link killAllMeshagentClis} ends stragglers in `afterEach`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, type CliExit } from './cli.js';
import type { PythonVenv } from './python.js';

/** Deadline of one command: generous, the CLI alone takes seconds to import on a loaded machine. */
export const MESHAGENT_CLI_TIMEOUT_MS = 120_000;

const running = new Set<ChildProcess>();

/** Runs `meshagent <args>` to completion; rejects if it has not exited by `timeoutMs`. */
export async function runMeshagentCli(
  venv: PythonVenv,
  args: readonly string[],
  env: Record<string, string | undefined>,
  timeoutMs = MESHAGENT_CLI_TIMEOUT_MS,
): Promise<CliExit> {
  const home = await mkdtemp(join(tmpdir(), 'roomstate-meshagent-home-'));
  try {
    // A wide terminal, so that rich wraps nothing the test compares.
    const child = spawn(join(venv.bin, 'meshagent'), args, { env: cleanEnv({ HOME: home, COLUMNS: '200', ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    return await new Promise<CliExit>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`meshagent ${args.join(' ')} did not exit within ${timeoutMs} ms.\nstdout: ${stdout}\nstderr: ${stderr}`));
      }, timeoutMs);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        running.delete(child);
        resolve({ code, signal, stdout, stderr });
      });
    });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** Kills every `meshagent` process still running (call in `afterEach`). */
export async function killAllMeshagentClis(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('close', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}
