/**
 * Abusive connections in a child process (`node --import tsx
 * test/helpers/abuser-entry.ts`), for robustness tests that assert a
 * bystander's latency: the abusers then cost the server what they cost it
 * over the wire, and nothing of the test process's CPU, so the figure the
 * test prints (and asserts, where the issue gives one) is the server's.
 *
 * @example
 * ```ts
 * const abusers = await startAbusers({ kind: 'heavy-broadcast', url: fx.url, room, tokens, perSecond: 1.5, objects: 300_000 });
 * // ... measure a probe pair ...
 * const { sent } = await abusers.stop();
 * ```
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('./abuser-entry.ts', import.meta.url));

/** Connections of one token name that each send heavy broadcasts at a steady rate, and never read. */
export interface HeavyBroadcastSpec {
  readonly kind: 'heavy-broadcast';
  /** Server base URL, `ws://127.0.0.1:<port>`. */
  readonly url: string;
  readonly room: string;
  /** One token per connection. */
  readonly tokens: readonly string[];
  /** Broadcasts per second per connection (each also waits for its socket to drain). */
  readonly perSecond: number;
  /** Empty objects in each `message_json` (`[{},{},…]`, 3 bytes each). */
  readonly objects: number;
}

/** Readers enabled in a room, and flooders looping `set_attributes` into it as fast as their sockets drain. */
export interface PresenceFloodSpec {
  readonly kind: 'presence-flood';
  readonly url: string;
  readonly room: string;
  /** Tokens: the first `members` read, the rest flood. */
  readonly tokens: readonly string[];
  readonly members: number;
}

/** What the child is told to do. */
export type AbuserSpec = HeavyBroadcastSpec | PresenceFloodSpec;

/** Parent to child. */
export type AbuserCommand = { type: 'start'; spec: AbuserSpec } | { type: 'stop' };

/** Child to parent. */
export type AbuserReport = { type: 'ready' } | { type: 'failed'; message: string } | { type: 'stats'; sent: number; closedEarly: number };

/** What the abusers did, reported when they stop. */
export interface AbuserStats {
  /** Requests sent (broadcasts, or attribute changes). */
  readonly sent: number;
  /** Connections the server closed while they ran. */
  readonly closedEarly: number;
}

/** A running abuser process. */
export interface AbuserProcess {
  /** Stops every abuser, terminates their sockets, and resolves with what they did. */
  stop(): Promise<AbuserStats>;
}

/** Deadline for the child to start and join, generous for a loaded machine. */
const START_TIMEOUT_MS = 120_000;

function nextReport(child: ChildProcess, what: string, timeoutMs = START_TIMEOUT_MS): Promise<AbuserReport> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`abuser process: no ${what} within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: AbuserReport) => {
      cleanup();
      if (message.type === 'failed') reject(new Error(`abuser process failed: ${message.message}`));
      else resolve(message);
    };
    const onExit = (code: number | null) => fail(new Error(`abuser process exited (code ${code}) before ${what}`));
    const fail = (error: Error) => {
      cleanup();
      child.kill('SIGKILL');
      reject(error);
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Forks the abusers and resolves once every connection of theirs has joined. */
export async function startAbusers(spec: AbuserSpec): Promise<AbuserProcess> {
  const child = fork(ENTRY, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = nextReport(child, 'ready');
  child.send({ type: 'start', spec } satisfies AbuserCommand);
  await ready;
  return {
    async stop() {
      const stats = nextReport(child, 'stats');
      child.send({ type: 'stop' } satisfies AbuserCommand);
      const report = await stats;
      if (child.exitCode === null) child.kill();
      return report.type === 'stats' ? { sent: report.sent, closedEarly: report.closedEarly } : { sent: 0, closedEarly: 0 };
    },
  };
}
