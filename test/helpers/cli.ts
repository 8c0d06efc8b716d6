/**
 * Runs the `roomstate` CLI as a child process (`node dist/src/cli/main.js
 * ...`, the compiled bin users run; the global setup keeps `dist/` current)
 * and watches its output with deadlines. Every child is
 * tracked so that {@link killAllClis} can end stragglers in `afterEach`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The compiled bin, relative to the repository root. */
export const CLI_ENTRY = 'dist/src/cli/main.js';
/** Default deadline of every wait on a CLI process: generous, for a loaded machine. */
export const CLI_TIMEOUT_MS = 60_000;

/** How a CLI process ended. */
export interface CliExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running CLI process. */
export interface CliProcess {
  readonly child: ChildProcess;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Complete stdout lines so far. */
  lines(): string[];
  /** Resolves with the first stdout line (seen so far or later) matching `predicate`. */
  waitForLine(predicate: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Resolves when stderr (so far or later) matches `pattern`. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves when the process exits; rejects after `timeoutMs`. */
  exited(timeoutMs?: number): Promise<CliExit>;
  /** Sends a signal. */
  kill(signal?: NodeJS.Signals): void;
}

const running = new Set<ChildProcess>();

/** Environment for a child: the parent's, minus every ROOMSTATE_* and MESHAGENT_* variable and PORT and HOST (serve reads them), plus `env`. */
export function cleanEnv(env: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('ROOMSTATE_') && !key.startsWith('MESHAGENT_') && key !== 'PORT' && key !== 'HOST') out[key] = value;
  }
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete out[key];
    else out[key] = value;
  }
  return out;
}

/**
 * Starts `roomstate <args>`. `stdin` is written and closed when given as a
 * string, piped in when given as a stream (e.g. another CLI's stdout); with
 * `'pipe'` the caller writes to `child.stdin` itself.
 */
export function startCli(
  args: readonly string[],
  options: { env?: Record<string, string | undefined>; stdin?: string | 'pipe' | NodeJS.ReadableStream } = {},
): CliProcess {
  const child = spawn(process.execPath, [CLI_ENTRY, ...args], {
    cwd: ROOT,
    env: cleanEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  let err = '';
  const watchers = new Set<() => void>();
  const notify = () => {
    for (const watcher of [...watchers]) watcher();
  };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    notify();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
    notify();
  });
  const exit = new Promise<CliExit>((resolve) => {
    child.on('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal, stdout: out, stderr: err });
      notify();
    });
  });
  // A child that exits without reading all of stdin must not fail the test with EPIPE.
  child.stdin!.on('error', () => undefined);
  if (options.stdin === undefined) child.stdin!.end();
  else if (typeof options.stdin === 'string') {
    if (options.stdin !== 'pipe') child.stdin!.end(options.stdin);
  } else options.stdin.pipe(child.stdin!);

  const lines = () => out.split('\n').slice(0, -1);
  let done = false;
  void exit.then(() => (done = true));

  function waitUntil<T>(check: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const attempt = () => {
        const value = check();
        if (value !== undefined) {
          cleanup();
          resolve(value);
        } else if (done) {
          cleanup();
          reject(new Error(`CLI exited before ${what}.\nstdout: ${out}\nstderr: ${err}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}.\nstdout: ${out}\nstderr: ${err}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        watchers.delete(attempt);
      };
      watchers.add(attempt);
      attempt();
    });
  }

  return {
    child,
    stdout: () => out,
    stderr: () => err,
    lines,
    waitForLine: (predicate, timeoutMs = CLI_TIMEOUT_MS) => waitUntil(() => lines().find(predicate), 'a matching stdout line', timeoutMs),
    waitForStderr: (pattern, timeoutMs = CLI_TIMEOUT_MS) => waitUntil(() => (pattern.test(err) ? err : undefined), `stderr matching ${pattern}`, timeoutMs),
    exited: (timeoutMs = CLI_TIMEOUT_MS) =>
      Promise.race([
        exit,
        new Promise<never>((_, reject) => {
          const timer = setTimeout(() => reject(new Error(`CLI did not exit within ${timeoutMs} ms.\nstdout: ${out}\nstderr: ${err}`)), timeoutMs);
          void exit.then(() => clearTimeout(timer));
        }),
      ]),
    kill: (signal = 'SIGTERM') => {
      child.kill(signal);
    },
  };
}

/** Runs `roomstate <args>` to completion. */
export function runCli(args: readonly string[], options: { env?: Record<string, string | undefined>; stdin?: string; timeoutMs?: number } = {}): Promise<CliExit> {
  return startCli(args, options).exited(options.timeoutMs);
}

/** Kills every CLI process still running (call in `afterEach`). */
export async function killAllClis(): Promise<void> {
  const children = [...running];
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('close', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/**
 * Asserts the exit code, showing stdout and stderr when it differs (a bare
 * number mismatch says nothing about why the CLI failed).
 */
export function expectExitCode(exit: CliExit, code: number): void {
  if (exit.code !== code) {
    throw new Error(`expected exit code ${code}, got ${exit.code} (signal ${exit.signal}).\nstdout: ${exit.stdout}\nstderr: ${exit.stderr}`);
  }
}

/** Asserts the exit code, nothing on stdout, and exactly one stderr line equal to (or matching) `message`. */
export function expectOneErrorLine(exit: CliExit, code: number, message: RegExp | string): void {
  expectExitCode(exit, code);
  const lines = exit.stderr.split('\n').filter(Boolean);
  if (exit.stdout !== '' || lines.length !== 1) {
    throw new Error(`expected one stderr line and no stdout.\nstdout: ${exit.stdout}\nstderr: ${exit.stderr}`);
  }
  if (typeof message === 'string') {
    if (lines[0] !== message) throw new Error(`stderr line differs.\nexpected: ${message}\nreceived: ${lines[0]}`);
  } else if (!message.test(lines[0])) {
    throw new Error(`stderr line does not match ${message}.\nreceived: ${lines[0]}`);
  }
}
