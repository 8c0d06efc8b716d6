/**
 * Messages between the benchmark orchestrator (the parent process), the
 * server under test and the load generators, all separate processes that
 * talk over the `child_process.fork` IPC channel.
 */
import { readFileSync } from 'node:fs';
import type { HistogramData } from './histogram.js';

/** The servers under test. */
export type ServerKind = 'roomstate' | 'protocol-relay' | 'raw' | 'socketio' | 'lean-sender';

/** The load generator clients. */
export type ClientKind = 'roomstate' | 'roomstate-lean' | 'raw' | 'socketio' | 'official';

/** A server driven by one kind of client: one column of results. */
export interface Target {
  /** Stable id used in JSON and on the command line. */
  readonly id: string;
  /** Human label for the table. */
  readonly label: string;
  readonly server: ServerKind;
  readonly client: ClientKind;
  /** Runs only the scenarios that name it in their `targets` (the client comparisons). */
  readonly optIn?: boolean;
}

/** Every target, in table order. */
export const TARGETS: readonly Target[] = [
  { id: 'roomstate', label: 'roomstate', server: 'roomstate', client: 'roomstate' },
  { id: 'roomstate-lean', label: 'roomstate (lean protocol client)', server: 'roomstate', client: 'roomstate-lean' },
  { id: 'protocol-relay', label: 'lean protocol relay', server: 'protocol-relay', client: 'roomstate-lean' },
  { id: 'raw', label: 'raw ws relay', server: 'raw', client: 'raw' },
  { id: 'socketio', label: 'Socket.IO 4', server: 'socketio', client: 'socketio' },
  { id: 'official', label: 'official npm client 0.39.9', server: 'roomstate', client: 'official', optIn: true },
];

/** Memory figures, as `process.memoryUsage()` gives them. */
export interface MemoryFigures {
  readonly rss: number;
  readonly heapTotal: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
  /** Servers only: the longest the event loop was held since the previous memory query, in ms (10 ms resolution). */
  readonly loopMaxMs?: number;
  /** Servers only: the longest GC pause in the same window, in ms (a loop block this long was the collector's). */
  readonly gcMaxMs?: number;
  /** roomstate servers only: connections cut as slow consumers so far. */
  readonly slowConsumerCuts?: number;
  /** Resident bytes of the main thread's malloc heap (the `[heap]` mapping of /proc/self/smaps; 0 where there is none): off-V8 memory such as socket write requests and freed-but-kept allocations. */
  readonly mallocHeap: number;
}

/** CPU time used by a process so far, in milliseconds. */
export interface CpuFigures {
  readonly userMs: number;
  readonly systemMs: number;
}

/** Parent to server. */
export type ServerCommand =
  | { readonly type: 'memory'; readonly id: number }
  | { readonly type: 'cpu'; readonly id: number }
  | { readonly type: 'heap-snapshot'; readonly id: number; readonly path: string }
  | { readonly type: 'stop' };

/** Server to parent. */
export type ServerReport =
  | { readonly type: 'ready'; readonly url: string }
  | { readonly type: 'memory'; readonly id: number; readonly memory: MemoryFigures }
  | { readonly type: 'cpu'; readonly id: number; readonly cpu: CpuFigures }
  | { readonly type: 'heap-snapshot'; readonly id: number; readonly path: string }
  | { readonly type: 'fatal'; readonly message: string };

/** How a generator reaches the server under test. */
export interface GeneratorInit {
  readonly client: ClientKind;
  /** Base URL of the server (`ws://127.0.0.1:port`); rooms are at `/rooms/:room`. */
  readonly url: string;
  /** A second node of the same cluster, in the cluster scenarios: receivers join there. */
  readonly otherUrl?: string;
  /** The roomstate signing secret (ignored by the other servers). */
  readonly secret: string;
  /** Prefix for room names, so generators of one run never collide. */
  readonly roomPrefix: string;
}

/** Timing of a throughput workload. */
export interface Phases {
  readonly warmupMs: number;
  readonly measureMs: number;
  /** Longest wait for in-flight messages after measuring stops. */
  readonly drainMs: number;
}

/** Direct messages between pairs; also the attachment scenario. */
export interface DirectTask extends Phases {
  readonly kind: 'direct';
  readonly pairs: number;
  /** In-flight sends per sender. */
  readonly window: number;
  /** Size of the JSON body, in bytes. */
  readonly bodyBytes: number;
  /** Attachment size in bytes, 0 for none. */
  readonly attachmentBytes: number;
}

/** Broadcasts in one room. */
export interface FanoutTask extends Phases {
  readonly kind: 'fanout';
  /** Enabled participants in the room, the broadcaster included. */
  readonly roomSize: number;
  /** Broadcasts in flight. */
  readonly window: number;
  readonly bodyBytes: number;
  /** Joins in progress at once while filling the room. */
  readonly joinConcurrency: number;
}

/** N participants join and enable at once; how long until every view is complete. */
export interface PresenceJoinTask {
  readonly kind: 'presence-join';
  readonly participants: number;
  readonly joinConcurrency: number;
  readonly timeoutMs: number;
}

/** Time to enable in a room that already has N enabled participants. */
export interface PresenceEnableTask {
  readonly kind: 'presence-enable';
  readonly participants: number;
  readonly trials: number;
  readonly joinConcurrency: number;
  readonly timeoutMs: number;
}

/** Connects and enables participants and keeps them until `close-all`. */
export interface FootprintConnectTask {
  readonly kind: 'footprint-connect';
  /** Rooms to fill, each with `perRoom` participants. */
  readonly rooms: readonly string[];
  readonly perRoom: number;
  /**
   * Members each room ends up with, over every generator that fills it
   * (the one-room scenarios split a room across generators).
   * @defaultValue `perRoom`
   */
  readonly roomTotal?: number;
  /** Prefix of the participants' names, so generators sharing a room use distinct names. @defaultValue `'member-'` */
  readonly namePrefix?: string;
  readonly joinConcurrency: number;
  readonly timeoutMs: number;
}

/**
 * Presence flood: `flooders` clients loop `set_attributes` into a room of
 * `members` enabled participants; after `warmupMs` the generator marks
 * `measure-start`, floods `measureMs` more and marks `measure-end`.
 */
export interface PresenceFloodTask {
  readonly kind: 'presence-flood';
  readonly members: number;
  readonly flooders: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  readonly timeoutMs: number;
}

/**
 * A bystander pair (from another generator than the flood's, so the
 * flooders' CPU is not in its latency) joins a room of its own and exchanges
 * a direct message every `probeIntervalMs` for `measureMs`.
 */
export interface BystanderProbeTask {
  readonly kind: 'bystander-probe';
  readonly probeIntervalMs: number;
  readonly measureMs: number;
  readonly timeoutMs: number;
}

/** A lean sender (the `lean-sender` server) streams messages to each of `clients` receivers, as fast as they read. */
export interface ReceiveTask extends Omit<Phases, 'drainMs'> {
  readonly kind: 'receive';
  readonly clients: number;
}

/** Reports the generator's own memory (after a GC). */
export interface MemoryTask {
  readonly kind: 'memory';
}

/** Closes every participant a footprint task kept. */
export interface CloseAllTask {
  readonly kind: 'close-all';
}

/** Work for a generator. */
export type Task = DirectTask | FanoutTask | ReceiveTask | PresenceJoinTask | PresenceEnableTask | PresenceFloodTask | BystanderProbeTask | FootprintConnectTask | MemoryTask | CloseAllTask;

/** Result of a throughput workload (direct, attachment, fan-out). */
export interface ThroughputResult {
  readonly kind: 'throughput';
  /** Messages received during the measured phase. */
  readonly deliveries: number;
  /** Payload bytes (body + attachment) received during the measured phase. */
  readonly bytes: number;
  /** Actual length of the measured phase. */
  readonly durationMs: number;
  /** Send-to-delivery latency of messages sent during the measured phase. */
  readonly latency: HistogramData;
  /** Sends issued, over all phases. */
  readonly sent: number;
  /** Sends that failed (rejected acknowledgement or wrong delivery). */
  readonly errors: number;
  readonly firstError?: string;
  /** False when in-flight messages were still missing when the drain timed out. */
  readonly drained: boolean;
  /** The generator's CPU time during the measured phase. */
  readonly generatorCpu: CpuFigures;
}

/** Result of a presence workload. */
export interface PresenceResult {
  readonly kind: 'presence';
  /** The headline time: until every view is complete (join) or the median trial (enable). */
  readonly totalMs: number;
  /** Per participant (join) or per trial (enable) times. */
  readonly times: HistogramData;
  readonly participants: number;
}

/** Result of a presence flood. */
export interface FloodResult {
  readonly kind: 'flood';
  /** `set_attributes` requests the flooders sent during the measured phase. */
  readonly attributeSets: number;
  /** `participant.attributes` pushes the room's members received during the measured phase. */
  readonly attributePushes: number;
  readonly durationMs: number;
  /** `Date.now()` when the measured phase ended. */
  readonly endedAt: number;
}

/** Result of a bystander probe. */
export interface ProbeResult {
  readonly kind: 'probe';
  /** The bystander's send-to-delivery latencies. */
  readonly latency: HistogramData;
  /** Slowest bystander delivery, in milliseconds. */
  readonly maxMs: number;
  /** Bystander messages that never arrived. */
  readonly lost: number;
  /** `Date.now()` when the last probe was sent. */
  readonly endedAt: number;
}

/** Result of a footprint connect. */
export interface ConnectResult {
  readonly kind: 'connected';
  readonly participants: number;
  readonly ms: number;
}

/** Result of a memory task. */
export interface MemoryResult {
  readonly kind: 'memory';
  readonly memory: MemoryFigures;
}

/** Result of close-all. */
export interface ClosedResult {
  readonly kind: 'closed';
}

/** Any task result. */
export type TaskResult = ThroughputResult | PresenceResult | FloodResult | ProbeResult | ConnectResult | MemoryResult | ClosedResult;

/** Parent to generator. */
export type GeneratorCommand =
  | { readonly type: 'init'; readonly init: GeneratorInit }
  | { readonly type: 'task'; readonly id: number; readonly task: Task }
  | { readonly type: 'exit' };

/** Generator to parent. */
export type GeneratorReport =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly id: number; readonly result: TaskResult }
  | { readonly type: 'failed'; readonly id: number; readonly message: string }
  | { readonly type: 'mark'; readonly name: 'measure-start' | 'measure-end' };

/** Reads this process's memory figures. */
export function memoryFigures(): MemoryFigures {
  const m = process.memoryUsage();
  return { rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, mallocHeap: mallocHeapRss() };
}

/** Resident bytes of the `[heap]` mapping (Linux), else 0. */
function mallocHeapRss(): number {
  let smaps: string;
  try {
    smaps = readFileSync('/proc/self/smaps', 'utf8');
  } catch {
    return 0;
  }
  const at = smaps.indexOf(' [heap]\n');
  if (at < 0) return 0;
  const rss = /\nRss:\s+(\d+) kB/.exec(smaps.slice(at, at + 2000));
  return rss === null ? 0 : Number(rss[1]) * 1024;
}

/** Reads this process's CPU time. */
export function cpuFigures(): CpuFigures {
  const c = process.cpuUsage();
  return { userMs: c.user / 1000, systemMs: c.system / 1000 };
}

/** Runs a full GC a few times (needs `--expose-gc`) so heap figures settle. */
export function settleHeap(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  for (let i = 0; i < 3; i++) gc();
}
