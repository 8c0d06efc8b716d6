/**
 * Fairness per identity (issue 24, case 1): sixteen connections under one
 * token name, each within every limit (1.5 broadcasts a second of a ~0.9 MB
 * `message_json` of 300k empty objects, sent only when the socket drained,
 * never reading), must cost a bystander pair in another room no more than
 * one such connection does: p99 under 250 ms (the issue's figure) on a
 * machine where one connection alone costs the probe less than a third of
 * that, and otherwise under three times the p99 that one connection of the
 * same name gives in the same run (before the fix the issue measured 15
 * times: 198-270 ms alone, a max of 3.5-4.3 s for sixteen).
 *
 * Three processes, so that the figure is the server's: the server is
 * `roomstate serve` (test/helpers/spawned-server.ts, default limits), the
 * abusers run in a child of their own (test/helpers/abuser-process.ts), and
 * only the probe pair lives in the test. Figures are printed as
 * `[identity-fairness …]` lines. Without the per-identity scheduler
 * (`--fairness-slice-ms Infinity`) the 16 connections put the probe's p99
 * at seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/token.js';
import { startAbusers } from '../helpers/abuser-process.js';
import { connectProbePair, formatFigures, measureInRounds, probeBeside, runProbe, type ProbeFigures } from '../helpers/probe-pair.js';
import type { RawClient } from '../helpers/raw-client.js';
import { TEST_SECRET, uniqueRoom } from '../helpers/server.js';
import { spawnCliServer, type SpawnedServer } from '../helpers/spawned-server.js';

const CONNECTIONS = 16;
const PER_SECOND = 1.5;
const OBJECTS = 300_000;
const MEASURE_MS = 8_000;
/** The issue's figure. */
const P99_LIMIT_MS = 250;

let server: SpawnedServer;
let alice: RawClient;
let bob: RawClient;

beforeAll(async () => {
  server = await spawnCliServer({ secret: TEST_SECRET });
  ({ alice, bob } = await connectProbePair(server.url, TEST_SECRET));
});

afterAll(async () => {
  await Promise.all([alice?.terminate(), bob?.terminate()]);
  await server?.close();
});

/** Runs `connections` heavy connections of one name while the probe measures; prints and returns the probe's figures. */
async function underAbuse(connections: number): Promise<ProbeFigures> {
  const room = uniqueRoom('heavy');
  const tokens = await Promise.all(Array.from({ length: connections }, () => mintToken({ secret: TEST_SECRET, room, name: 'mallory' })));
  const abusers = await startAbusers({ kind: 'heavy-broadcast', url: server.url, room, tokens, perSecond: PER_SECOND, objects: OBJECTS });
  const { figures, stats, perSecond } = await probeBeside(alice, bob, abusers, MEASURE_MS);
  console.log(`${formatFigures(`identity-fairness ${connections}x mallory`, figures)} broadcasts=${stats.sent} (${perSecond.toFixed(1)}/s) cut=${stats.closedEarly}`);
  // Every abuser stayed within the limits: none was cut.
  expect(stats.closedEarly).toBe(0);
  return figures;
}

describe('fairness per identity', () => {
  it(`gives a bystander the same p99 beside ${CONNECTIONS} heavy connections of one name as beside one (< ${P99_LIMIT_MS} ms)`, async () => {
    console.log(formatFigures('identity-fairness baseline', await runProbe(alice, bob, 2_000)));
    const { many, limit } = await measureInRounds(
      'identity-fairness',
      async () => {
        const lone = await underAbuse(1);
        const many = await underAbuse(CONNECTIONS);
        const limit = Math.max(P99_LIMIT_MS, 3 * lone.p99);
        console.log(`[identity-fairness] p99 limit ${limit.toFixed(1)} ms (the larger of ${P99_LIMIT_MS} and three times the lone connection's p99)`);
        return { many, limit };
      },
      (round) => round.many.p99 < round.limit,
    );
    expect(many.p99).toBeLessThan(limit);
  }, 900_000);
});
