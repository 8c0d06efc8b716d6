/**
 * A real `redis-server` for tests: started on a free 127.0.0.1 port with its
 * own temporary directory and no persistence, stoppable and restartable on
 * the same port (to test an outage).
 *
 * @example
 * ```ts
 * const redis = await startRedis();
 * const server = createRoomServer({ secret, redis: redis.url });
 * // ...
 * await redis.stop();
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running (or stopped, restartable) Redis. */
export interface TestRedis {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM, waits for its exit). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  /** Stops it and removes its directory. */
  dispose(): Promise<void>;
}

/** A free loopback port (bound, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** True when nothing listens on loopback `port` (it binds it, then releases it). */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** Starts `redis-server` on `port` with its files in `dir` and no persistence; resolves once it accepts connections. */
export function launchRedis(port: number, dir: string, extra: readonly string[] = []): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start within 30 s:\n${output}`));
    }, 30_000);
    child.once('error', (error) => {
      clearTimeout(deadline);
      reject(new Error(`cannot run redis-server (install the redis-server package): ${error.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(deadline);
      reject(new Error(`redis-server exited with ${code}:\n${output}`));
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(deadline);
        resolve(child);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
  });
}

/** Stops a Redis started by {@link launchRedis} (SIGTERM) and waits for its exit. */
export function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Starts a Redis on a free loopback port. */
export async function startRedis(): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'roomstate-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined = await launchRedis(port, dir);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      if (child) await stopRedis(child);
      child = undefined;
    },
    async restart() {
      if (child) await stopRedis(child);
      child = await launchRedis(port, dir);
    },
    async dispose() {
      if (child) await stopRedis(child);
      child = undefined;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
