/**
 * The short form of the cluster soak (about a minute): three node
 * processes, official and roomstate clients, two nodes SIGKILLed and
 * restarted, Redis restarted once; every guarantee of `npm run soak` holds.
 */
import { describe, expect, it } from 'vitest';
import { clearMeshagentEnv } from '../helpers/official-client.js';
import { runSoak } from './soak.js';

describe('cluster soak, short form', () => {
  it('loses nothing answered OK, doubles nothing, and clears killed nodes within lease + 3 s', async () => {
    clearMeshagentEnv();
    const report = await runSoak({
      durationMs: 60_000,
      killEveryMs: 20_000,
      nodeDownMs: 2_000,
      redisOutageMs: 2_000,
      rooms: 2,
      seatsPerRoom: 6,
      sendIntervalMs: 300,
      leaseMs: 1_500,
      log: () => undefined,
    });
    // The figures go to the run's log either way, so a CI run shows what the soak saw.
    console.log(report.lines.join('\n'));
    expect(report.failures, report.lines.join('\n')).toEqual([]);
    expect(report.lines.join('\n')).toMatch(/Redis stopped at/);
  }, 240_000);
});
