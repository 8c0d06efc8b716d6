/**
 * The client-join scenario in one process, outside the orchestrator, for
 * heap snapshots: starts the bench's roomstate server in a child process,
 * joins `n` clients of one driver to one room (the same workload as
 * `client-join-<n>`), and prints the heap per client after a full GC; with
 * a path, writes V8 heap snapshots before and after (compare them with
 * test/bench/heap-summary.ts --before … --per n). With `--sampling <file>`,
 * writes a sampling heap profile of the join (`.heapprofile`, open it in
 * DevTools) that keeps the samples of objects a mark-compact collected and
 * drops those a scavenge did: the old-space garbage, by allocation site (a
 * run without `--garbage` gives the live part, to subtract).
 *
 *   node --expose-gc --import tsx test/bench/client-join-heap.ts <roomstate|official> <n> [snapshot-prefix] [--sampling <file> [--garbage]]
 */
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { writeHeapSnapshot } from 'node:v8';
import { officialClientDriver } from './drivers/official.js';
import { roomstateClientDriver } from './drivers/roomstate-client.js';
import { settleHeap } from './ipc.js';
import { runPresenceJoin } from './workloads/presence.js';
import { startRoomstateServer } from './servers/roomstate-server.js';

const SECRET = 'client-join-heap-secret-of-32-bytes!';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf('--sampling');
  const sampling = at === -1 ? undefined : args[at + 1];
  const garbage = args.includes('--garbage');
  const [kind, count, prefix] = args.filter((arg, i) => !arg.startsWith('--') && (at === -1 || i !== at + 1));
  const n = Number(count);
  if ((kind !== 'roomstate' && kind !== 'official') || !(n > 1)) {
    process.stderr.write('usage: node --expose-gc --import tsx test/bench/client-join-heap.ts <roomstate|official> <n> [snapshot-prefix] [--sampling <file> [--garbage]]\n');
    process.exit(2);
  }
  const server = fork(new URL(import.meta.url).pathname, ['--server'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve) => server.once('message', (message) => resolve(String(message))));
  const driver = kind === 'official' ? officialClientDriver(url, SECRET) : roomstateClientDriver(url, SECRET);
  const kept: unknown[] = [];
  settleHeap();
  const before = process.memoryUsage().heapUsed;
  if (prefix) writeHeapSnapshot(`${prefix}.before.heapsnapshot`);
  const session = sampling === undefined ? undefined : new Session();
  session?.connect();
  await session?.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: garbage, includeObjectsCollectedByMinorGC: false });
  const result = await runPresenceJoin(driver, { kind: 'presence-join', participants: n, joinConcurrency: 100, timeoutMs: 3_600_000 }, { receiverDriver: driver, roomPrefix: 'heap-', mark: () => undefined, retain: (peers) => kept.push(...peers) });
  if (session !== undefined && sampling !== undefined) writeFileSync(sampling, JSON.stringify((await session.post('HeapProfiler.stopSampling')).profile));
  settleHeap();
  const after = process.memoryUsage().heapUsed;
  const usage = process.memoryUsage();
  process.stderr.write(`memory: ${JSON.stringify({ rssMiB: usage.rss >> 20, heapTotalMiB: usage.heapTotal >> 20, heapUsedMiB: usage.heapUsed >> 20, externalMiB: usage.external >> 20, arrayBuffersMiB: usage.arrayBuffers >> 20 })}\n`);
  process.stdout.write(`${JSON.stringify({ kind, n, totalMs: Math.round(result.totalMs), heapKiBPerClient: Number(((after - before) / n / 1024).toFixed(1)) })}\n`);
  if (prefix) writeHeapSnapshot(`${prefix}.after.heapsnapshot`);
  server.kill();
  process.exit(0);
}

if (process.argv[2] === '--server') {
  const { url } = await startRoomstateServer(SECRET);
  process.send?.(url);
} else await main();
