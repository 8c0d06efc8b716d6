/**
 * Presence floods (issues 17 and 24, case 3): four clients loop
 * `set_attributes` as fast as their sockets drain into a room of 50 whose
 * members all read, while a bystander pair in another room probes. Issue
 * 17's goal is a bystander p50 under 20 ms and a max under 250 ms (before
 * coalescing and fair scheduling: p50 0.2-0.5 s, max 1.0-1.7 s).
 *
 * Latency on a shared machine is mostly its load, so the same flood runs,
 * side by side, against a server with the default limits and one with fair
 * scheduling off (`--fairness-slice-ms Infinity`): the default server must
 * meet the goal or be at least three times better than the other on both
 * figures. Without the fix both servers are the same and neither is met.
 * A round that misses is measured again, up to three rounds
 * (`measureInRounds`): a stall of the shared machine lands in one run's max
 * and not in the other's.
 *
 * Three processes, as in identity-fairness.test.ts: each server is
 * `roomstate serve`, the room of 50 runs in a child process of its own, and
 * only the probe pairs live in the test; figures are printed as
 * `[presence-flood …]` lines.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/token.js';
import { startAbusers } from '../helpers/abuser-process.js';
import { connectProbePair, formatFigures, measureInRounds, probeBeside, type ProbeFigures } from '../helpers/probe-pair.js';
import { TEST_SECRET, uniqueRoom } from '../helpers/server.js';
import { spawnCliServer, type SpawnedServer } from '../helpers/spawned-server.js';

const MEMBERS = 46;
const FLOODERS = 4;
const MEASURE_MS = 8_000;
/** Issue 17's goal. */
const P50_LIMIT_MS = 20;
const MAX_LIMIT_MS = 250;
/** How much better than the unfair server the default one must be when the goal is not met. */
const FACTOR = 3;

const servers: SpawnedServer[] = [];
afterAll(() => Promise.all(servers.map((server) => server.close())));

/** Floods a room of `roomstate serve ...args` and probes beside it; prints and returns the figures. */
async function floodBeside(label: string, args: string[]): Promise<ProbeFigures> {
  const server = await spawnCliServer({ secret: TEST_SECRET, args });
  servers.push(server);
  const { alice, bob } = await connectProbePair(server.url, TEST_SECRET);
  const room = uniqueRoom('flood');
  const tokens = await Promise.all(
    Array.from({ length: MEMBERS + FLOODERS }, (_, i) => mintToken({ secret: TEST_SECRET, room, name: i < MEMBERS ? `member-${i}` : `flooder-${i - MEMBERS}` })),
  );
  const abusers = await startAbusers({ kind: 'presence-flood', url: server.url, room, tokens, members: MEMBERS });
  const { figures, stats, perSecond } = await probeBeside(alice, bob, abusers, MEASURE_MS).finally(() => Promise.all([alice.terminate(), bob.terminate(), server.close()]));
  console.log(`${formatFigures(`presence-flood ${label}`, figures)} attribute sets sent=${stats.sent} (${perSecond.toFixed(0)}/s) cut=${stats.closedEarly}`);
  expect(stats.closedEarly).toBe(0);
  return figures;
}

describe('presence flood', () => {
  it(`keeps a bystander under p50 ${P50_LIMIT_MS} ms and max ${MAX_LIMIT_MS} ms while ${FLOODERS} clients flood a room of ${MEMBERS + FLOODERS}`, async () => {
    const { fair, p50Limit, maxLimit } = await measureInRounds(
      'presence-flood',
      async () => {
        const fair = await floodBeside('default limits', []);
        const unfair = await floodBeside('fairness off', ['--fairness-slice-ms', 'Infinity']);
        const p50Limit = Math.max(P50_LIMIT_MS, unfair.p50 / FACTOR);
        const maxLimit = Math.max(MAX_LIMIT_MS, unfair.max / FACTOR);
        console.log(`[presence-flood] limits: p50 ${p50Limit.toFixed(1)} ms, max ${maxLimit.toFixed(1)} ms (the goal, or a third of the unfair server's)`);
        return { fair, p50Limit, maxLimit };
      },
      (round) => round.fair.p50 < round.p50Limit && round.fair.max < round.maxLimit,
    );
    expect(fair.p50).toBeLessThan(p50Limit);
    expect(fair.max).toBeLessThan(maxLimit);
  }, 900_000);
});
