/**
 * The benchmark scenarios. Each run of a scenario forks a fresh server under
 * test and fresh generator processes, runs one workload and reduces it to a
 * headline value and latency percentiles.
 */
import { join } from 'node:path';
import type { Settings } from './config.js';
import { LatencyHistogram } from './histogram.js';
import type { ConnectResult, CpuFigures, FloodResult, MemoryResult, PresenceResult, ProbeResult, Target, Task, ThroughputResult } from './ipc.js';
import { GeneratorProcess, ServerProcess, type ForkOptions } from './processes.js';
import { startRedis } from '../helpers/redis-server.js';

/** The figures of one run. */
export interface RunFigures {
  /** The headline value, in the scenario's unit. */
  readonly value: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  /** Supporting figures (CPU use, counts, memory parts). */
  readonly extra: Readonly<Record<string, number>>;
  /** Set when the run completed but something was wrong (lost or failed messages). */
  readonly error?: string;
}

/** Where and how a run happens. */
export interface RunEnv {
  readonly target: Target;
  readonly secret: string;
  /** Unique per run; prefixes room names. */
  readonly runId: string;
  /** Directory for CPU profiles of the server and generators, if profiling. */
  readonly profileDir?: string;
  /** Directory for heap snapshots of the server in the footprint scenarios, if wanted. */
  readonly heapSnapshotDir?: string;
}

/** A scenario of the benchmark. */
export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** Unit of the headline value. */
  readonly unit: string;
  readonly higherIsBetter: boolean;
  /** The workload's parameters, recorded in the JSON. */
  readonly params: Readonly<Record<string, number>>;
  /** The targets it runs on, when not all (a cluster needs a server that can form one). */
  readonly targets?: readonly string[];
  run(env: RunEnv): Promise<RunFigures>;
}

/**
 * Generators may need a large heap: a thousand roomstate clients in one room
 * hold a presence actor for each of the others, some gigabytes in all (the
 * default limit of about 4 GiB ends in GC thrashing and dropped connections).
 */
const GENERATOR_HEAP_FLAG = '--max-old-space-size=16384';

function profileOptions(env: RunEnv, role: string): ForkOptions {
  if (!env.profileDir) return {};
  return { cpuProfileDir: env.profileDir, cpuProfileName: `${env.runId}__${role}.cpuprofile` };
}

/**
 * Runs `body` with a fresh server and `generators` fresh generator processes, and always cleans up.
 * With `nodes: 2`, the server is two cluster nodes on a fresh redis-server, and receivers connect to the second.
 */
export async function withProcesses<T>(
  env: RunEnv,
  generators: number,
  nodeFlags: readonly string[],
  body: (server: ServerProcess, gens: GeneratorProcess[], servers: ServerProcess[]) => Promise<T>,
  nodes: 1 | 2 = 1,
): Promise<T> {
  const redis = nodes === 2 ? await startRedis() : undefined;
  const servers: ServerProcess[] = [];
  const gens: GeneratorProcess[] = [];
  try {
    for (let i = 0; i < nodes; i++) {
      const role = i === 0 ? 'server' : `server${i + 1}`;
      servers.push(await ServerProcess.start(env.target.server, env.secret, { ...profileOptions(env, role), nodeFlags, ...(redis ? { env: { BENCH_REDIS_URL: redis.url } } : {}) }));
    }
    const [server, other] = servers;
    for (let i = 0; i < generators; i++) {
      gens.push(
        await GeneratorProcess.start(
          `generator ${i + 1}`,
          { client: env.target.client, url: server.url, ...(other ? { otherUrl: other.url } : {}), secret: env.secret, roomPrefix: `${env.runId}-g${i}-` },
          { ...profileOptions(env, `generator${i + 1}`), nodeFlags: [...nodeFlags, GENERATOR_HEAP_FLAG] },
        ),
      );
    }
    return await body(server, gens, servers);
  } finally {
    // The servers go first, so their profiles never include a disconnect storm.
    await Promise.all(servers.map((s) => s.stop()));
    await Promise.all(gens.map((g) => g.exit()));
    await redis?.dispose();
  }
}

function cpuMs(from: CpuFigures, to: CpuFigures): number {
  return to.userMs + to.systemMs - from.userMs - from.systemMs;
}

export function latencyFigures(data: Parameters<typeof LatencyHistogram.from>[0]): { p50Ms?: number; p99Ms?: number } {
  const histogram = LatencyHistogram.from(data);
  const p50Ms = histogram.percentile(50);
  const p99Ms = histogram.percentile(99);
  return { ...(p50Ms === undefined ? {} : { p50Ms }), ...(p99Ms === undefined ? {} : { p99Ms }) };
}

/** CPU time of all `servers` together. */
async function totalCpu(servers: readonly ServerProcess[]): Promise<CpuFigures> {
  const figures = await Promise.all(servers.map((s) => s.cpu()));
  return figures.reduce((sum, f) => ({ userMs: sum.userMs + f.userMs, systemMs: sum.systemMs + f.systemMs }), { userMs: 0, systemMs: 0 });
}

/**
 * One generator runs a throughput task while the server's CPU (every node's,
 * in a cluster; Redis's own is not counted, it is the same Redis for every
 * target) is sampled over the measured phase.
 */
export async function throughputRun(env: RunEnv, task: Task, value: (result: ThroughputResult) => number, nodes: 1 | 2 = 1): Promise<RunFigures> {
  return withProcesses(env, 1, [], async (_server, [gen], servers) => {
    let cpuStart: Promise<CpuFigures> | undefined;
    let cpuEnd: Promise<CpuFigures> | undefined;
    gen.onMark = (name) => {
      if (name === 'measure-start') cpuStart = totalCpu(servers);
      else cpuEnd = totalCpu(servers);
    };
    const result = await gen.run<ThroughputResult>(task);
    const serverCpu = cpuStart && cpuEnd ? cpuMs(await cpuStart, await cpuEnd) : NaN;
    const problems: string[] = [];
    if (result.errors > 0) problems.push(`${result.errors} sends failed or were wrong (first: ${result.firstError})`);
    if (!result.drained) problems.push('some messages were never delivered (drain timed out)');
    return {
      value: value(result),
      ...latencyFigures([result.latency]),
      extra: {
        serverCpuPct: (serverCpu / result.durationMs) * 100,
        // Server CPU per delivered message: the server's efficiency even when the generator is the bottleneck.
        serverUsPerDelivery: (serverCpu * 1000) / result.deliveries,
        generatorCpuPct: ((result.generatorCpu.userMs + result.generatorCpu.systemMs) / result.durationMs) * 100,
        deliveries: result.deliveries,
        measuredMs: result.durationMs,
        sent: result.sent,
        errors: result.errors,
      },
      ...(problems.length ? { error: problems.join('; ') } : {}),
    };
  }, nodes);
}

/** Targets whose server can form a cluster over Redis. */
const CLUSTER_TARGETS: readonly string[] = ['roomstate', 'roomstate-lean', 'socketio'];

/** What a cluster scenario adds to its single-server form: two nodes, and the targets that can do it. */
function clusterVariant(nodes: 1 | 2): Pick<Scenario, 'targets'> {
  return nodes === 2 ? { targets: CLUSTER_TARGETS } : {};
}

function directScenario(settings: Settings, pairs: number, nodes: 1 | 2 = 1): Scenario {
  const title = pairs === 1 ? 'direct, 1 pair' : `direct, ${pairs} pairs`;
  return {
    id: nodes === 2 ? `cluster-direct-${pairs}` : `direct-${pairs}`,
    title: nodes === 2 ? `2-node cluster: ${title}, across nodes` : title,
    unit: 'msg/s',
    higherIsBetter: true,
    params: { pairs, window: settings.directWindow, bodyBytes: settings.bodyBytes, nodes },
    ...clusterVariant(nodes),
    run: (env) =>
      throughputRun(
        env,
        {
          kind: 'direct',
          pairs,
          window: settings.directWindow,
          bodyBytes: settings.bodyBytes,
          attachmentBytes: 0,
          warmupMs: settings.warmupMs,
          measureMs: settings.measureMs,
          drainMs: settings.drainMs,
        },
        (r) => (r.deliveries / r.durationMs) * 1000,
        nodes,
      ),
  };
}

function attachmentScenario(settings: Settings): Scenario {
  const kib = Math.round(settings.attachmentBytes / 1024);
  return {
    id: `attachment-${kib}k`,
    title: `direct + ${kib} KiB attachment`,
    unit: 'MB/s',
    higherIsBetter: true,
    params: { pairs: 1, window: settings.attachmentWindow, bodyBytes: settings.bodyBytes, attachmentBytes: settings.attachmentBytes },
    run: (env) =>
      throughputRun(
        env,
        {
          kind: 'direct',
          pairs: 1,
          window: settings.attachmentWindow,
          bodyBytes: settings.bodyBytes,
          attachmentBytes: settings.attachmentBytes,
          warmupMs: settings.warmupMs,
          measureMs: settings.measureMs,
          drainMs: settings.drainMs,
        },
        (r) => r.bytes / r.durationMs / 1000,
      ),
  };
}

function fanoutScenario(settings: Settings, roomSize: number, nodes: 1 | 2 = 1): Scenario {
  return {
    id: nodes === 2 ? `cluster-fanout-${roomSize}` : `fanout-${roomSize}`,
    title: nodes === 2 ? `2-node cluster: fan-out, room of ${roomSize} split across nodes` : `fan-out, room of ${roomSize}`,
    unit: 'deliveries/s',
    higherIsBetter: true,
    params: { roomSize, window: settings.fanoutWindow, bodyBytes: settings.bodyBytes, nodes },
    ...clusterVariant(nodes),
    run: (env) =>
      throughputRun(
        env,
        {
          kind: 'fanout',
          roomSize,
          window: settings.fanoutWindow,
          bodyBytes: settings.bodyBytes,
          joinConcurrency: settings.joinConcurrency,
          warmupMs: settings.warmupMs,
          measureMs: settings.measureMs,
          drainMs: settings.drainMs,
        },
        (r) => (r.deliveries / r.durationMs) * 1000,
        nodes,
      ),
  };
}

function presenceRun(env: RunEnv, task: Task): Promise<RunFigures> {
  return withProcesses(env, 1, [], async (_server, [gen]) => {
    const result = await gen.run<PresenceResult>(task);
    return { value: result.totalMs, ...latencyFigures([result.times]), extra: { participants: result.participants } };
  });
}

function presenceJoinScenario(settings: Settings): Scenario {
  const n = settings.presenceParticipants;
  const timeoutMs = settings.runTimeoutMs;
  return {
    id: `presence-join-${n}`,
    title: `presence, ${n} join at once`,
    unit: 'ms until all views complete',
    higherIsBetter: false,
    params: { participants: n, joinConcurrency: settings.joinConcurrency },
    run: (env) => presenceRun(env, { kind: 'presence-join', participants: n, joinConcurrency: settings.joinConcurrency, timeoutMs }),
  };
}

function presenceEnableScenario(settings: Settings): Scenario {
  const n = settings.presenceParticipants;
  const timeoutMs = settings.runTimeoutMs;
  return {
    id: `presence-enable-${n}`,
    title: `presence, enable() into ${n}`,
    unit: 'ms (median trial)',
    higherIsBetter: false,
    params: { participants: n, trials: settings.presenceTrials },
    run: (env) =>
      presenceRun(env, {
        kind: 'presence-enable',
        participants: n,
        trials: settings.presenceTrials,
        joinConcurrency: settings.joinConcurrency,
        timeoutMs,
      }),
  };
}

function footprintScenario(settings: Settings, participants: number, requested: number): Scenario {
  const roomSize = Math.min(settings.footprintRoomSize, participants);
  const generators = Math.ceil(participants / settings.footprintPerGenerator);
  const timeoutMs = settings.runTimeoutMs;
  return {
    id: `footprint-${participants}`,
    title: `footprint, ${participants} enabled`,
    unit: 'KiB RSS/participant',
    higherIsBetter: false,
    params: { participants, requested, roomSize, generators },
    run: (env) =>
      withProcesses(env, generators, ['--expose-gc'], async (server, gens) => {
        // Warm the server's code paths first, so one-time costs stay out of the delta.
        const warmRoom = `${env.runId}-warmup`;
        await gens[0].run<ConnectResult>({ kind: 'footprint-connect', rooms: [warmRoom], perRoom: Math.min(10, roomSize), joinConcurrency: 10, timeoutMs });
        await gens[0].run({ kind: 'close-all' });
        const clientBefore = await Promise.all(gens.map((g) => g.run<MemoryResult>({ kind: 'memory' })));
        const before = await server.memory();
        if (env.heapSnapshotDir) await server.heapSnapshot(join(env.heapSnapshotDir, `${env.runId}__before.heapsnapshot`));
        const rooms = Array.from({ length: Math.ceil(participants / roomSize) }, (_, i) => `${env.runId}-room-${i}`);
        const share = Math.ceil(rooms.length / generators);
        const connected = await Promise.all(
          gens.map((g, i) =>
            g.run<ConnectResult>({
              kind: 'footprint-connect',
              rooms: rooms.slice(i * share, (i + 1) * share),
              perRoom: roomSize,
              joinConcurrency: Math.max(1, Math.floor(settings.joinConcurrency / generators)),
              timeoutMs,
            }),
          ),
        );
        const count = connected.reduce((sum, c) => sum + c.participants, 0);
        const after = await server.memory();
        if (env.heapSnapshotDir) await server.heapSnapshot(join(env.heapSnapshotDir, `${env.runId}__after.heapsnapshot`));
        const clientAfter = await Promise.all(gens.map((g) => g.run<MemoryResult>({ kind: 'memory' })));
        // No orderly close: the generators exit next, which drops every connection at once.
        const sum = (results: MemoryResult[], key: 'rss' | 'heapUsed'): number => results.reduce((s, r) => s + r.memory[key], 0);
        const kib = (bytes: number): number => bytes / count / 1024;
        return {
          value: kib(after.rss - before.rss),
          extra: {
            participants: count,
            heapKiB: kib(after.heapUsed - before.heapUsed),
            externalKiB: kib(after.external - before.external),
            arrayBuffersKiB: kib(after.arrayBuffers - before.arrayBuffers),
            serverRssMiB: after.rss / 1024 / 1024,
            clientHeapKiB: kib(sum(clientAfter, 'heapUsed') - sum(clientBefore, 'heapUsed')),
            clientRssKiB: kib(sum(clientAfter, 'rss') - sum(clientBefore, 'rss')),
            connectMs: Math.max(...connected.map((c) => c.ms)),
          },
        };
      }),
  };
}

/** Targets that fill one big room: codec-level clients only (a thousand full clients need gigabytes). */
const ROOM_TARGETS: readonly string[] = ['roomstate-lean', 'raw', 'socketio'];

/** How much longer the presence flood runs than its bystander probe measures: time for the probe's pair to join. */
const PROBE_JOIN_ALLOWANCE_MS = 1000;

/**
 * One room of `participants` enabled members, split over generator
 * processes that join at once. `measure: 'memory'` reports the server's RSS
 * per participant (heap snapshots with --heap-snapshot); `'time'` the time
 * from the first connect until every member's view is complete.
 */
function roomScenario(settings: Settings, participants: number, measure: 'memory' | 'time'): Scenario {
  const generators = Math.ceil(participants / settings.footprintPerGenerator);
  const timeoutMs = settings.runTimeoutMs;
  return {
    id: measure === 'memory' ? `room-footprint-${participants}` : `room-complete-${participants}`,
    title: measure === 'memory' ? `one room of ${participants}: memory` : `one room of ${participants}: every view complete`,
    unit: measure === 'memory' ? 'KiB RSS/participant' : 'ms',
    higherIsBetter: false,
    params: { participants, generators, joinConcurrency: settings.joinConcurrency },
    targets: ROOM_TARGETS,
    run: (env) =>
      withProcesses(env, generators, ['--expose-gc'], async (server, gens) => {
        const room = `${env.runId}-room`;
        // Warm the server's code paths first, so one-time costs stay out of the delta.
        await gens[0].run<ConnectResult>({ kind: 'footprint-connect', rooms: [`${env.runId}-warmup`], perRoom: 10, joinConcurrency: 10, timeoutMs });
        await gens[0].run({ kind: 'close-all' });
        const before = await server.memory();
        const snapshot = (phase: string) => (env.heapSnapshotDir && measure === 'memory' ? server.heapSnapshot(join(env.heapSnapshotDir, `${env.runId}__${phase}.heapsnapshot`)) : undefined);
        await snapshot('before');
        const share = Math.ceil(participants / generators);
        const started = performance.now();
        const connected = await Promise.all(
          gens.map((g, i) =>
            g.run<ConnectResult>({
              kind: 'footprint-connect',
              rooms: [room],
              perRoom: Math.min(share, participants - i * share),
              roomTotal: participants,
              namePrefix: `g${i}-member-`,
              joinConcurrency: Math.max(1, Math.floor(settings.joinConcurrency / generators)),
              timeoutMs,
            }),
          ),
        );
        const completeMs = performance.now() - started;
        const count = connected.reduce((sum, c) => sum + c.participants, 0);
        const after = await server.memory();
        await snapshot('after');
        const kib = (bytes: number): number => bytes / count / 1024;
        const rssKiB = kib(after.rss - before.rss);
        return {
          value: measure === 'memory' ? rssKiB : completeMs,
          extra: {
            participants: count,
            rssKiB,
            heapKiB: kib(after.heapUsed - before.heapUsed),
            heapTotalKiB: kib(after.heapTotal - before.heapTotal),
            externalKiB: kib(after.external - before.external),
            arrayBuffersKiB: kib(after.arrayBuffers - before.arrayBuffers),
            mallocHeapKiB: kib(after.mallocHeap - before.mallocHeap),
            serverRssMiB: after.rss / 1024 / 1024,
            completeMs,
            ...(after.loopMaxMs === undefined ? {} : { loopMaxMs: after.loopMaxMs }),
            ...(after.gcMaxMs === undefined ? {} : { gcMaxMs: after.gcMaxMs }),
            ...(after.slowConsumerCuts === undefined ? {} : { slowConsumerCuts: after.slowConsumerCuts - (before.slowConsumerCuts ?? 0) }),
          },
        };
      }),
  };
}

/** Bystander latency while clients flood a room with `set_attributes` (roomstate only: the others have no attributes). */
function presenceFloodScenario(settings: Settings): Scenario {
  const members = settings.floodMembers;
  const measureMs = Math.max(settings.measureMs, 1000);
  return {
    id: `presence-flood-${members}`,
    title: `presence flood: ${settings.flooders} clients set_attributes into ${members}, bystander pair`,
    unit: 'ms bystander max',
    higherIsBetter: false,
    params: { members, flooders: settings.flooders, probeIntervalMs: 10 },
    targets: ['roomstate-lean'],
    // The flood in one generator, the bystander pair in another: its latency is the server's, not the flooders' process's.
    run: (env) =>
      withProcesses(env, 2, [], async (_server, [floodGen, probeGen]) => {
        let probe: Promise<ProbeResult> | undefined;
        floodGen.onMark = (name) => {
          if (name === 'measure-start') probe = probeGen.run<ProbeResult>({ kind: 'bystander-probe', probeIntervalMs: 10, measureMs, timeoutMs: settings.runTimeoutMs });
        };
        // The flood outlasts the probe by its pair's join (a few ms; a second is allowed).
        const result = await floodGen.run<FloodResult>({
          kind: 'presence-flood',
          members,
          flooders: settings.flooders,
          warmupMs: settings.warmupMs,
          measureMs: measureMs + PROBE_JOIN_ALLOWANCE_MS,
          timeoutMs: settings.runTimeoutMs,
        });
        if (probe === undefined) throw new Error('the flood never started measuring');
        const probed = await probe;
        const seconds = result.durationMs / 1000;
        const error = probed.lost > 0 ? `${probed.lost} bystander messages never arrived` : probed.endedAt > result.endedAt ? 'the bystander probe outlasted the flood (its pair took over a second to join)' : undefined;
        return {
          value: probed.maxMs,
          ...latencyFigures([probed.latency]),
          extra: { maxMs: probed.maxMs, lost: probed.lost, attributeSetsPerSecond: result.attributeSets / seconds, attributePushesPerSecond: result.attributePushes / seconds },
          ...(error === undefined ? {} : { error }),
        };
      }),
  };
}

/**
 * Every scenario of a mode. Footprint sizes above what the open-file limit
 * allows in one process are cut to the largest whole number of rooms that fits.
 */
export function buildScenarios(settings: Settings, openFileLimit: number): Scenario[] {
  const fitting = Math.max(settings.footprintRoomSize, Math.floor((openFileLimit - 256) / settings.footprintRoomSize) * settings.footprintRoomSize);
  return [
    ...settings.directPairs.map((pairs) => directScenario(settings, pairs)),
    attachmentScenario(settings),
    ...settings.fanoutSizes.map((size) => fanoutScenario(settings, size)),
    directScenario(settings, settings.clusterDirectPairs, 2),
    fanoutScenario(settings, settings.clusterRoomSize, 2),
    presenceJoinScenario(settings),
    presenceEnableScenario(settings),
    presenceFloodScenario(settings),
    ...settings.roomSizes.flatMap((n) => [roomScenario(settings, n, 'memory'), roomScenario(settings, n, 'time')]),
    ...settings.footprintSizes.map((n) => footprintScenario({ ...settings, footprintPerGenerator: Math.min(settings.footprintPerGenerator, fitting) }, Math.min(n, fitting), n)),
  ];
}
