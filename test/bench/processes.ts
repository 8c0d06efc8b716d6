/**
 * Child processes of a benchmark run: the server under test and the load
 * generators, each forked with tsx and driven over IPC.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  CpuFigures,
  GeneratorCommand,
  GeneratorInit,
  GeneratorReport,
  MemoryFigures,
  ServerCommand,
  ServerKind,
  ServerReport,
  Task,
  TaskResult,
} from './ipc.js';

const SERVER_ENTRY = fileURLToPath(new URL('./server-entry.ts', import.meta.url));
const GENERATOR_ENTRY = fileURLToPath(new URL('./generator-entry.ts', import.meta.url));

/** Options for forking a child. */
export interface ForkOptions {
  /** Directory for a V8 CPU profile of this child, if one is wanted. */
  readonly cpuProfileDir?: string;
  /** File name of the profile (in `cpuProfileDir`). */
  readonly cpuProfileName?: string;
  /** Extra Node flags. */
  readonly nodeFlags?: readonly string[];
  /** Extra environment variables. */
  readonly env?: Readonly<Record<string, string>>;
}

/** A scratch directory for one child's profiles (tsx's loader thread writes one too). */
function scratchDir(options: ForkOptions): string | undefined {
  return options.cpuProfileDir ? join(options.cpuProfileDir, `.${options.cpuProfileName ?? 'profile'}.tmp`) : undefined;
}

function forkTs(entry: string, args: string[], env: NodeJS.ProcessEnv, options: ForkOptions): ChildProcess {
  const execArgv = ['--import', 'tsx', ...(options.nodeFlags ?? [])];
  const scratch = scratchDir(options);
  if (scratch) {
    mkdirSync(scratch, { recursive: true });
    // No fixed --cpu-prof-name: every thread writes a profile, and a fixed name would let them overwrite each other.
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${scratch}`);
    // A long run (the room of 10,000) samples less often, so the profile's own memory stays out of the footprint.
    const interval = process.env.BENCH_CPU_PROF_INTERVAL_US;
    if (interval !== undefined) execArgv.push(`--cpu-prof-interval=${Number(interval)}`);
  }
  return fork(entry, args, { execArgv, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

/** Keeps the main thread's profile (thread id 0 in V8's default name) under the wanted name. */
function collectProfile(options: ForkOptions): void {
  const scratch = scratchDir(options);
  if (!scratch || !options.cpuProfileDir) return;
  try {
    const main = readdirSync(scratch).find((file) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(file));
    if (main) renameSync(join(scratch, main), join(options.cpuProfileDir, options.cpuProfileName ?? main));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Resolves when `child` exits, or after `ms` (then kills it). */
function exited(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Rejects when the child dies before `promise` settles. */
function orDeath<T>(child: ChildProcess, what: string, promise: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      reject(new Error(`${what} exited unexpectedly (code ${code}, signal ${signal})`));
    child.once('exit', onExit);
    promise.then(
      (value) => {
        child.off('exit', onExit);
        resolve(value);
      },
      (error: unknown) => {
        child.off('exit', onExit);
        reject(error);
      },
    );
  });
}

/** The server under test, in its own process. */
export class ServerProcess {
  private nextId = 0;
  private readonly waiting = new Map<number, (report: ServerReport) => void>();

  private constructor(
    readonly kind: ServerKind,
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly options: ForkOptions,
  ) {
    child.on('message', (report: ServerReport) => {
      if (report.type === 'memory' || report.type === 'cpu' || report.type === 'heap-snapshot') {
        this.waiting.get(report.id)?.(report);
        this.waiting.delete(report.id);
      }
    });
  }

  /** Forks a server of `kind` and waits for its URL. */
  static async start(kind: ServerKind, secret: string, options: ForkOptions = {}): Promise<ServerProcess> {
    const child = forkTs(SERVER_ENTRY, [kind], { ...process.env, ...options.env, BENCH_SECRET: secret }, options);
    const url = await orDeath(
      child,
      `${kind} server`,
      new Promise<string>((resolve, reject) => {
        child.on('message', (report: ServerReport) => {
          if (report.type === 'ready') resolve(report.url);
          else if (report.type === 'fatal') reject(new Error(`${kind} server failed to start: ${report.message}`));
        });
      }),
    );
    return new ServerProcess(kind, url, child, options);
  }

  /** The child's pid. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The server's memory after a full GC. */
  async memory(): Promise<MemoryFigures> {
    const report = await this.ask({ type: 'memory', id: this.nextId++ });
    if (report.type !== 'memory') throw new Error('unexpected reply to a memory query');
    return report.memory;
  }

  /** The server's CPU time so far. */
  async cpu(): Promise<CpuFigures> {
    const report = await this.ask({ type: 'cpu', id: this.nextId++ });
    if (report.type !== 'cpu') throw new Error('unexpected reply to a CPU query');
    return report.cpu;
  }

  /** Writes a heap snapshot of the server (after a full GC) to `path`. */
  async heapSnapshot(path: string): Promise<string> {
    const report = await this.ask({ type: 'heap-snapshot', id: this.nextId++, path });
    if (report.type !== 'heap-snapshot') throw new Error('unexpected reply to a heap snapshot request');
    return report.path;
  }

  /** Stops the server and waits for its process to exit. */
  async stop(): Promise<void> {
    if (this.child.connected) this.child.send({ type: 'stop' } satisfies ServerCommand);
    await exited(this.child, 10_000);
    collectProfile(this.options);
  }

  /** Kills the process at once. */
  kill(): void {
    this.child.kill('SIGKILL');
  }

  private ask(command: ServerCommand & { id: number }): Promise<ServerReport> {
    return orDeath(
      this.child,
      `${this.kind} server`,
      new Promise<ServerReport>((resolve) => {
        this.waiting.set(command.id, resolve);
        this.child.send(command);
      }),
    );
  }
}

/** A load generator process. */
export class GeneratorProcess {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve(result: TaskResult): void; reject(error: Error): void }>();
  /** Called when the running task starts or stops measuring. */
  onMark: ((name: 'measure-start' | 'measure-end') => void) | undefined;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    private readonly options: ForkOptions,
  ) {
    child.on('message', (report: GeneratorReport) => {
      if (report.type === 'result') {
        this.waiting.get(report.id)?.resolve(report.result);
        this.waiting.delete(report.id);
      } else if (report.type === 'failed') {
        this.waiting.get(report.id)?.reject(new Error(`${name}: ${report.message}`));
        this.waiting.delete(report.id);
      } else if (report.type === 'mark') {
        this.onMark?.(report.name);
      }
    });
  }

  /** Forks a generator and initialises it. */
  static async start(name: string, init: GeneratorInit, options: ForkOptions = {}): Promise<GeneratorProcess> {
    const child = forkTs(GENERATOR_ENTRY, [], process.env, options);
    await orDeath(
      child,
      name,
      new Promise<void>((resolve) => {
        child.on('message', (report: GeneratorReport) => {
          if (report.type === 'ready') resolve();
        });
        child.send({ type: 'init', init } satisfies GeneratorCommand);
      }),
    );
    return new GeneratorProcess(name, child, options);
  }

  /** Runs a task and returns its result. */
  run<R extends TaskResult>(task: Task): Promise<R> {
    const id = this.nextId++;
    return orDeath(
      this.child,
      this.name,
      new Promise<R>((resolve, reject) => {
        this.waiting.set(id, { resolve: resolve as (result: TaskResult) => void, reject });
        this.child.send({ type: 'task', id, task } satisfies GeneratorCommand);
      }),
    );
  }

  /** Asks the generator to exit and waits for it. */
  async exit(): Promise<void> {
    if (this.child.connected) this.child.send({ type: 'exit' } satisfies GeneratorCommand);
    await exited(this.child, 15_000);
    collectProfile(this.options);
  }

  /** Kills the process at once. */
  kill(): void {
    this.child.kill('SIGKILL');
  }
}
