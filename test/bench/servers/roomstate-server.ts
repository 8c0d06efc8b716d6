/**
 * The roomstate server as the benchmark runs it: defaults everywhere except
 * the per-participant message and byte rates (switched off, as the server's own docs
 * advise for benchmarks; the other servers have none) and the room size cap
 * (raised so the presence scenarios can go past 1000 members). With a Redis
 * URL it is one node of a cluster. `BENCH_FAIRNESS_SLICE_MS` sets the fair
 * scheduler's slice: test/bench/server-cost.ts sets one no turn reaches, so
 * the loop does not look congested merely because valgrind is slow.
 */
import { createRoomServer } from '../../../src/server/index.js';
import { noopObserver } from '../../../src/server/core/observer.js';

/** What the bench reads of the roomstate server besides memory and CPU. */
export const roomstateCounters = { slowConsumerCuts: 0 };

/** Starts the roomstate server on 127.0.0.1 with a free port. */
export async function startRoomstateServer(secret: string, redisUrl?: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createRoomServer({
    secret,
    host: '127.0.0.1',
    port: 0,
    logger: false,
    ...(process.env.BENCH_HEARTBEAT_MS === undefined ? {} : { heartbeatIntervalMs: Number(process.env.BENCH_HEARTBEAT_MS) }),
    observer: {
      ...noopObserver,
      slowConsumerCut: () => {
        // Said once on stderr: a cut member's view never completes, and the run would time out unexplained.
        if (roomstateCounters.slowConsumerCuts++ === 0) console.error('[roomstate bench server] a connection was cut as a slow consumer');
      },
    },
    limits: {
      messagesPerSecond: Infinity,
      bytesPerSecond: Infinity,
      maxParticipantsPerRoom: 100_000,
      ...(process.env.BENCH_FAIRNESS_SLICE_MS === undefined ? {} : { fairnessSliceMs: Number(process.env.BENCH_FAIRNESS_SLICE_MS) }),
    },
    ...(redisUrl === undefined ? {} : { redis: redisUrl }),
  });
  const { url } = await server.listen();
  return { url, close: () => server.close({ timeoutMs: 2000 }) };
}
