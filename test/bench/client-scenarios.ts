/**
 * The client comparisons: the roomstate `RoomClient` against the official
 * MeshAgent npm client 0.39.9, both on the same server, so the difference
 * is the clients'.
 *
 * - `client-join-<n>`: n clients in one process join one room (roomstate
 *   server) until every view is complete; also each client's memory (heap
 *   and RSS after a full GC, per client).
 * - `client-receive`: a lean sender (test/bench/servers/lean-sender.ts)
 *   streams to one client as fast as it reads: the client's receive rate.
 * - `client-send`, `client-attachment-64k`: one pair of clients, 128 sends
 *   (16 with a 64 KiB attachment) in flight, on the roomstate server.
 */
import type { Settings } from './config.js';
import type { MemoryResult, PresenceResult, Target } from './ipc.js';
import { latencyFigures, throughputRun, withProcesses, type RunEnv, type RunFigures, type Scenario } from './scenarios.js';

/** The targets the client scenarios run on. */
const CLIENT_TARGETS: readonly string[] = ['roomstate', 'official'];
/** Sends in flight in the send scenario. */
const SEND_WINDOW = 128;

function joinScenario(settings: Settings): Scenario {
  const n = settings.presenceParticipants;
  const timeoutMs = settings.runTimeoutMs;
  return {
    id: `client-join-${n}`,
    title: `${n} clients join one room in one process, until every view is complete`,
    unit: 'ms',
    higherIsBetter: false,
    params: { participants: n, joinConcurrency: settings.joinConcurrency },
    targets: CLIENT_TARGETS,
    run: (env) =>
      withProcesses(env, 1, ['--expose-gc'], async (_server, [gen]) => {
        const before = await gen.run<MemoryResult>({ kind: 'memory' });
        const result = await gen.run<PresenceResult>({ kind: 'presence-join', participants: n, joinConcurrency: settings.joinConcurrency, timeoutMs });
        const after = await gen.run<MemoryResult>({ kind: 'memory' });
        const kib = (key: 'heapUsed' | 'rss'): number => (after.memory[key] - before.memory[key]) / n / 1024;
        return {
          value: result.totalMs,
          ...latencyFigures([result.times]),
          extra: { participants: n, clientHeapKiB: kib('heapUsed'), clientRssKiB: kib('rss') },
        };
      }),
  };
}

function receiveScenario(settings: Settings): Scenario {
  return {
    id: 'client-receive',
    title: 'receive, lean sender -> 1 client',
    unit: 'msg/s',
    higherIsBetter: true,
    params: { clients: 1, bodyBytes: 100 },
    targets: CLIENT_TARGETS,
    run: (env: RunEnv): Promise<RunFigures> => {
      // Same client, but the lean sender instead of a room server.
      const target: Target = { ...env.target, server: 'lean-sender' };
      return throughputRun({ ...env, target }, { kind: 'receive', clients: 1, warmupMs: settings.warmupMs, measureMs: settings.measureMs }, (r) => (r.deliveries / r.durationMs) * 1000);
    },
  };
}

function sendScenario(settings: Settings, attachmentBytes: number): Scenario {
  const window = attachmentBytes > 0 ? settings.attachmentWindow : SEND_WINDOW;
  const kib = Math.round(attachmentBytes / 1024);
  return {
    id: attachmentBytes > 0 ? `client-attachment-${kib}k` : 'client-send',
    title: attachmentBytes > 0 ? `client sends with a ${kib} KiB attachment, ${window} in flight` : `client sends, ${window} in flight`,
    unit: attachmentBytes > 0 ? 'MB/s' : 'msg/s',
    higherIsBetter: true,
    params: { pairs: 1, window, bodyBytes: settings.bodyBytes, attachmentBytes },
    targets: CLIENT_TARGETS,
    run: (env) =>
      throughputRun(
        env,
        { kind: 'direct', pairs: 1, window, bodyBytes: settings.bodyBytes, attachmentBytes, warmupMs: settings.warmupMs, measureMs: settings.measureMs, drainMs: settings.drainMs },
        attachmentBytes > 0 ? (r) => r.bytes / r.durationMs / 1000 : (r) => (r.deliveries / r.durationMs) * 1000,
      ),
  };
}

/** The client scenarios of a mode. */
export function clientScenarios(settings: Settings): Scenario[] {
  return [joinScenario(settings), receiveScenario(settings), sendScenario(settings, 0), sendScenario(settings, settings.attachmentBytes)];
}
