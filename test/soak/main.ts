/**
 * `npm run soak -- --minutes N`: the cluster soak (see soak.ts) for N
 * minutes (default 10), one node killed a minute. Prints the figures, and
 * exits 1 when a guarantee failed.
 */
import { parseArgs } from 'node:util';
import buildOnce from '../helpers/build-once.js';
import { clearMeshagentEnv, installProcessGuard } from '../helpers/official-client.js';
import { runSoak } from './soak.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' } } });
const minutes = Number(values.minutes);
if (!(minutes > 0)) {
  console.error(`soak: --minutes must be a positive number (got ${JSON.stringify(values.minutes)}).`);
  process.exit(2);
}

// The nodes run the built bin: build it if the sources changed.
buildOnce();
clearMeshagentEnv();
const guard = installProcessGuard();
const log = (line: string) => console.log(`[soak] ${line}`);
log(`running for ${minutes} min: 3 nodes, 4 rooms × 8 clients, a node SIGKILLed every minute, Redis restarted once`);
const report = await runSoak({
  durationMs: minutes * 60_000,
  killEveryMs: 60_000,
  nodeDownMs: 3_000,
  redisOutageMs: 3_000,
  rooms: 4,
  seatsPerRoom: 8,
  sendIntervalMs: 250,
  leaseMs: 5_000,
  log,
});
guard.dispose();
for (const line of report.lines) console.log(line);
const failures = [...report.failures, ...guard.errors.map((error) => `uncaught in the soak's clients: ${String(error)}`)];
if (failures.length > 0) {
  console.log(`FAILED (${failures.length}):`);
  for (const failure of failures) console.log(`  - ${failure}`);
  process.exit(1);
}
console.log('PASSED');
process.exit(0);
