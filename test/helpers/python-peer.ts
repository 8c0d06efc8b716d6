/**
 * Drives one participant on the official MeshAgent Python SDK (meshagent-api
 * 0.56.0, unmodified) from a test: `test/python/peer.py` runs its RoomClient,
 * takes NDJSON commands on stdin and reports NDJSON events on stdout, which
 * land in a {@link Recorder}. Every peer is tracked, so {@link stopAllPythonPeers}
 * ends stragglers in `afterEach`/`afterAll`.
 *
 * @example
 * ```ts
 * const alice = await PythonPeer.start(venv, { url: fx.url, room, token });
 * await alice.command('enable');
 * await alice.events.waitFor((e) => e.event === 'enabled');
 * await alice.close();
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { cleanEnv } from './cli.js';
import type { PythonVenv } from './python.js';
import { Recorder, type WaitOptions } from './recorder.js';
import { REPO_ROOT } from './spawned-server.js';

/** The driver script. */
export const PEER_SCRIPT = join(REPO_ROOT, 'test/python/peer.py');

/** Deadline of starting, commands and closing: generous, for a loaded machine. */
export const PYTHON_TIMEOUT_MS = 60_000;

/** One event a peer reported; `event` names it, the other fields depend on it. */
export interface PeerEvent {
  readonly event: string;
  readonly [field: string]: unknown;
}

/** How a command ended (the peer's `result` event). */
export interface CommandResult {
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: string;
  readonly code?: number | null;
  readonly kind?: string;
}

/** What a peer connects with. */
export interface PythonPeerOptions {
  /** `ws://host:port` of the server. */
  url: string;
  room: string;
  token: string;
  /**
   * What the peer does with incoming messaging streams.
   * @defaultValue 'accept'
   */
  streams?: 'accept' | 'reject' | 'echo';
  /** The RoomClient's `reconnect_timeout` in seconds; none (retry forever) when absent. */
  reconnectTimeoutSeconds?: number;
}

/** Raised by {@link PythonPeer.start} when the SDK could not enter the room. */
export class PeerStartError extends Error {
  constructor(readonly fatal: PeerEvent, stderr: string) {
    super(`the Python peer could not connect: ${String(fatal.error)} (${String(fatal.kind)}); stderr: ${stderr.slice(-2000)}`);
  }
}

const running = new Set<PythonPeer>();

/** Parses a child's stdout, one JSON object a line, into `events`. */
export function readNdjson(child: ChildProcess, events: Recorder<PeerEvent>): void {
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.trim() !== '') events.push(JSON.parse(line) as PeerEvent);
    }
  });
}

/** A running Python participant. */
export class PythonPeer {
  /** Every event the peer reported, in order. */
  readonly events = new Recorder<PeerEvent>();
  private nextSeq = 1;
  private stderrText = '';
  private readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    readNdjson(child, this.events);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderrText += chunk;
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    void this.exited.then((code) => this.events.push({ event: 'exit', code }));
  }

  /**
   * Starts a peer and waits until its RoomClient is in the room (`ready`);
   * rejects with {@link PeerStartError} when the SDK gave up (`fatal`).
   */
  static async start(venv: PythonVenv, options: PythonPeerOptions): Promise<PythonPeer> {
    const peer = PythonPeer.spawn(venv, options);
    const first = await peer.events.waitFor((e) => e.event === 'ready' || e.event === 'fatal' || e.event === 'exit', {
      timeoutMs: PYTHON_TIMEOUT_MS,
      what: 'the Python peer to enter the room',
    });
    if (first.event !== 'ready') {
      await peer.close();
      throw new PeerStartError(first, peer.stderr());
    }
    return peer;
  }

  /** Starts a peer without waiting: for a test that expects it to fail. */
  static spawn(venv: PythonVenv, options: PythonPeerOptions): PythonPeer {
    const args = [PEER_SCRIPT, '--url', options.url, '--room', options.room, '--token', options.token, '--streams', options.streams ?? 'accept'];
    if (options.reconnectTimeoutSeconds !== undefined) args.push('--reconnect-timeout', String(options.reconnectTimeoutSeconds));
    const child = spawn(venv.python, args, { cwd: REPO_ROOT, env: cleanEnv({ PYTHONUNBUFFERED: '1' }), stdio: ['pipe', 'pipe', 'pipe'] });
    const peer = new PythonPeer(child);
    running.add(peer);
    return peer;
  }

  /** The participant id from the last `ready` or `reconnected` event. */
  get id(): string {
    const identity = [...this.events.items].reverse().find((e) => e.event === 'ready' || e.event === 'reconnected');
    if (identity === undefined) throw new Error('the Python peer has not entered the room');
    return String(identity.id);
  }

  /** Everything the peer wrote to stderr (its logs). */
  stderr(): string {
    return this.stderrText;
  }

  /** Sends a command and waits for its result, whatever it is. */
  async tryCommand(op: string, fields: Record<string, unknown> = {}, options: WaitOptions = {}): Promise<CommandResult> {
    const seq = this.nextSeq++;
    this.child.stdin!.write(`${JSON.stringify({ seq, op, ...fields })}\n`);
    const result = await this.events.waitFor((e) => e.event === 'result' && e.seq === seq, {
      timeoutMs: options.timeoutMs ?? PYTHON_TIMEOUT_MS,
      what: options.what ?? `the result of ${op} #${seq}`,
    });
    return result as unknown as CommandResult;
  }

  /** Sends a command and resolves with its value; rejects with the SDK's error when it failed. */
  async command(op: string, fields: Record<string, unknown> = {}, options: WaitOptions = {}): Promise<unknown> {
    const result = await this.tryCommand(op, fields, options);
    if (!result.ok) throw new Error(`${op} failed in the Python SDK: ${result.error} (code ${result.code}, ${result.kind}); stderr: ${this.stderrText.slice(-2000)}`);
    return result.value;
  }

  /** Waits for the first event (recorded or still to come) named `event` that matches. */
  waitFor(event: string, matches: (e: PeerEvent) => boolean = () => true, what?: string): Promise<PeerEvent> {
    return this.events.waitFor((e) => e.event === event && matches(e), { timeoutMs: PYTHON_TIMEOUT_MS, what: what ?? `a Python "${event}" event` });
  }

  /** Leaves the room (the SDK's orderly exit) and waits for the process; kills it after the deadline. */
  async close(): Promise<number | null> {
    running.delete(this);
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.stdin!.end(`${JSON.stringify({ seq: 0, op: 'close' })}\n`);
      const killer = setTimeout(() => this.child.kill('SIGKILL'), PYTHON_TIMEOUT_MS);
      const code = await this.exited;
      clearTimeout(killer);
      return code;
    }
    return this.exited;
  }

  /** Ends the process at once (a crash, as the server sees it). */
  kill(): Promise<number | null> {
    running.delete(this);
    this.child.kill('SIGKILL');
    return this.exited;
  }
}

/**
 * Waits until `peer` has `otherId` in its presence: in the `enabled` snapshot
 * or a later `added` push (which one depends on who enabled first).
 */
export function sees(peer: PythonPeer, otherId: string): Promise<PeerEvent> {
  return peer.events.waitFor(
    (e) => (e.event === 'added' && e.id === otherId) || (e.event === 'enabled' && (e.participants as { id: string }[]).some((p) => p.id === otherId)),
    { timeoutMs: PYTHON_TIMEOUT_MS, what: `the Python peer to see ${otherId}` },
  );
}

/** Kills every peer still running (for `afterEach`/`afterAll`). */
export async function stopAllPythonPeers(): Promise<void> {
  await Promise.all([...running].map((peer) => peer.kill()));
}

/** The attachment bytes peer.py sends for `size`: byte i is (31 i + 7) mod 256. */
export function attachmentPattern(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) % 256;
  return bytes;
}

/** How peer.py reports an attachment: its length and SHA-256 (hex). */
export function describeAttachment(bytes: Uint8Array): { len: number; sha256: string } {
  return { len: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
}
