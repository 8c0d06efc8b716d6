/**
 * Runs `roomstate serve` from the compiled bin as a child process, for tests
 * that must exercise the server exactly as users start it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CLI_ENTRY, CLI_TIMEOUT_MS, cleanEnv } from './cli.js';

/** The repository root (this file lives in test/helpers). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Matches the CLI's one stdout line once it listens. */
const LISTENING_LINE = /^roomstate listening on (ws:\/\/\S+)\s*$/m;

/** A running `roomstate serve` child. */
export interface SpawnedServer {
  /** The base URL from the listening line, e.g. `ws://127.0.0.1:43121`. */
  readonly url: string;
  /** The child process. */
  readonly child: ChildProcess;
  /** Everything the child wrote to stderr so far (for failure messages). */
  stderr(): string;
  /** Stops the child (SIGTERM, then SIGKILL after a grace period) and waits for it to exit. */
  close(): Promise<void>;
}

/** Options of {@link spawnCliServer}. */
export interface SpawnCliServerOptions {
  secret: string;
  /**
   * The port to listen on (e.g. a restarted server taking its predecessor's).
   * @defaultValue 0 (a free port)
   */
  port?: number;
  /** Extra CLI arguments after `serve --port P --secret S`. */
  args?: readonly string[];
  /**
   * How long to wait for the listening line.
   * @defaultValue 60000
   */
  startTimeoutMs?: number;
}

/**
 * Starts `node dist/src/cli/main.js serve --port P --secret S` and
 * resolves once it prints `roomstate listening on ws://HOST:PORT`.
 */
export function spawnCliServer(options: SpawnCliServerOptions): Promise<SpawnedServer> {
  const args = [CLI_ENTRY, 'serve', '--port', String(options.port ?? 0), '--secret', options.secret, ...(options.args ?? [])];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const close = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(killer);
  };

  return new Promise<SpawnedServer>((resolve, reject) => {
    const timeoutMs = options.startTimeoutMs ?? CLI_TIMEOUT_MS;
    const fail = (why: string): void => {
      clearTimeout(timer);
      void close().finally(() => reject(new Error(`roomstate serve ${why}; stdout: ${JSON.stringify(stdout)}; stderr: ${JSON.stringify(stderr.slice(-2000))}`)));
    };
    const timer = setTimeout(() => fail(`printed no listening line within ${timeoutMs} ms`), timeoutMs);
    child.once('error', (error) => fail(`could not start (${error.message})`));
    const onEarlyExit = (code: number | null, signal: NodeJS.Signals | null): void => fail(`exited early with code ${code} signal ${signal}`);
    child.once('exit', onEarlyExit);
    child.stdout?.on('data', (chunk: string) => {
      stdout += chunk;
      const match = LISTENING_LINE.exec(stdout);
      if (!match) return;
      clearTimeout(timer);
      child.off('exit', onEarlyExit);
      resolve({ url: match[1], child, stderr: () => stderr, close });
    });
  });
}
