/**
 * Fairness per identity (issue 24, case 1): sixteen connections under one
 * token name, each within every limit (1.5 broadcasts a second of a ~0.9 MB
 * `message_json` of 300k empty objects, sent only when the socket drained,
 * never reading), must leave a probe pair in another room a p99 under
 * 250 ms. The abusers run in a child process (test/helpers/abuser-process.ts)
 * so that the figure measures the server, not the abusers' share of the
 * test's CPU; the figures are printed as `[identity-fairness]` lines.
 *
 * Without the per-identity scheduler (`fairnessSliceMs: Infinity`, first
 * come first served) the probe waits behind the whole identity's backlog.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAbusers } from '../helpers/abuser-process.js';
import { formatFigures, runProbe } from '../helpers/probe-pair.js';
import { startServer, uniqueRoom, type TestServer } from '../helpers/server.js';

const CONNECTIONS = 16;
const PER_SECOND = 1.5;
const OBJECTS = 300_000;
const MEASURE_MS = 8_000;
/** The issue's figure. */
const P99_LIMIT_MS = 250;

let fx: TestServer;
beforeAll(async () => {
  fx = await startServer();
});
afterAll(() => fx?.close());

describe('fairness per identity', () => {
  it(`keeps a bystander pair under ${P99_LIMIT_MS} ms p99 beside ${CONNECTIONS} heavy connections of one name`, async () => {
    const probeRoom = uniqueRoom('bystanders');
    const alice = await fx.connect(probeRoom, 'alice');
    const bob = await fx.connect(probeRoom, 'bob');
    await bob.invoke('enable', {});
    await bob.waitForPush('messaging.enabled');

    const baseline = await runProbe(alice, bob, 2_000);
    console.log(formatFigures('identity-fairness baseline', baseline));

    const room = uniqueRoom('heavy');
    const tokens = await Promise.all(Array.from({ length: CONNECTIONS }, () => fx.token(room, 'mallory')));
    const abusers = await startAbusers({ kind: 'heavy-broadcast', url: fx.url, room, tokens, perSecond: PER_SECOND, objects: OBJECTS });
    let stats;
    let figures;
    try {
      // The first broadcasts are in flight before the measured phase starts.
      await runProbe(alice, bob, 1_000);
      figures = await runProbe(alice, bob, MEASURE_MS);
    } finally {
      stats = await abusers.stop();
    }
    console.log(
      `${formatFigures(`identity-fairness ${CONNECTIONS}x mallory`, figures)} broadcasts=${stats.sent} (${(stats.sent / ((MEASURE_MS + 1_000) / 1000)).toFixed(1)}/s) abusers closed=${stats.closedEarly}`,
    );
    // Every abuser stayed within the limits: none was cut.
    expect(stats.closedEarly).toBe(0);
    expect(figures.p99).toBeLessThan(P99_LIMIT_MS);
  }, 300_000);
});
