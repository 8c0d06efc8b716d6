/**
 * The server-under-test process. Forked by the orchestrator with the server
 * kind as its argument (the roomstate secret in `BENCH_SECRET`, and in the
 * cluster scenarios the Redis URL in `BENCH_REDIS_URL`); reports
 * `ready` with its URL, answers memory and CPU queries, writes heap
 * snapshots on request, and stops on `stop`.
 * Run with `--expose-gc` so memory figures are read after a full GC.
 */
import { writeHeapSnapshot } from 'node:v8';
import { PerformanceObserver, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { roomstateCounters, startRoomstateServer } from './servers/roomstate-server.js';
import { createRawRelay } from './servers/raw-relay.js';
import { createProtocolRelay } from './servers/protocol-relay.js';
import { createSocketIoServer } from './servers/socketio-server.js';
import { createLeanSender } from './servers/lean-sender.js';
import { cpuFigures, memoryFigures, settleHeap, type ServerCommand, type ServerKind, type ServerReport } from './ipc.js';

interface Running {
  readonly url: string;
}

function report(message: ServerReport): void {
  process.send?.(message);
}

async function start(kind: ServerKind): Promise<Running> {
  switch (kind) {
    case 'roomstate':
      return startRoomstateServer(process.env.BENCH_SECRET ?? '', process.env.BENCH_REDIS_URL);
    case 'protocol-relay':
      return createProtocolRelay(process.env.BENCH_SECRET ?? '').listen();
    case 'raw':
      return createRawRelay().listen();
    case 'socketio':
      return createSocketIoServer(process.env.BENCH_REDIS_URL).listen();
    case 'lean-sender':
      return createLeanSender().listen();
  }
}

const kind = process.argv[2] as ServerKind;
/** How long the loop was held (timer delay), between memory queries. */
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

/**
 * Loop blocks and GC pauses longer than this are logged on stderr with the
 * time they ended, in µs of the monotonic clock a `--cpu-prof` profile is
 * stamped with: `profile-summary.ts --window <end - ms*1000>,<end>` then
 * says what ran in that window. A block with a GC pause of its length was
 * the collector's; one with much less CPU time than its length was the
 * process waiting for a core (a shared or overloaded machine).
 */
const LOGGED_BLOCK_MS = 100;
const BLOCK_TICK_MS = 10;
/** The longest GC pause since the previous memory query, in ms. */
let gcMaxMs = 0;
const nowUs = (): string => String(process.hrtime.bigint() / 1000n);
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcMaxMs = Math.max(gcMaxMs, entry.duration);
    if (entry.duration > LOGGED_BLOCK_MS) console.error(`[bench server] GC paused ${entry.duration.toFixed(0)} ms, ended at ${nowUs()} µs`);
  }
}).observe({ entryTypes: ['gc'] });
let tickAt = performance.now();
let tickCpu = process.cpuUsage();
setInterval(() => {
  const at = performance.now();
  const held = at - tickAt - BLOCK_TICK_MS;
  const cpu = process.cpuUsage();
  // On a shared machine a late timer may be a process waiting for a core, not a busy loop: the CPU time used meanwhile tells them apart.
  const cpuMs = (cpu.user + cpu.system - tickCpu.user - tickCpu.system) / 1000;
  tickAt = at;
  tickCpu = cpu;
  if (held > LOGGED_BLOCK_MS) console.error(`[bench server] loop held ${held.toFixed(0)} ms (process CPU meanwhile ${cpuMs.toFixed(0)} ms), ended at ${nowUs()} µs`);
}, BLOCK_TICK_MS).unref();

process.on('message', (message: ServerCommand) => {
  if (message.type === 'memory') {
    settleHeap();
    const memory = { ...memoryFigures(), loopMaxMs: loopDelay.max / 1e6, gcMaxMs, ...(kind === 'roomstate' ? { slowConsumerCuts: roomstateCounters.slowConsumerCuts } : {}) };
    // The next window starts once the delay the full GC just caused has been sampled.
    setTimeout(() => {
      loopDelay.reset();
      gcMaxMs = 0;
      report({ type: 'memory', id: message.id, memory });
    }, 50);
  } else if (message.type === 'cpu') {
    report({ type: 'cpu', id: message.id, cpu: cpuFigures() });
  } else if (message.type === 'heap-snapshot') {
    settleHeap();
    report({ type: 'heap-snapshot', id: message.id, path: writeHeapSnapshot(message.path) });
  } else if (message.type === 'stop') {
    // Exit at once, without closing connections one by one: the process is
    // never reused, and a disconnect storm would only pollute CPU profiles.
    // A normal exit (not a signal) lets --cpu-prof write its profile.
    setImmediate(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));

start(kind).then(
  (server) => {
    report({ type: 'ready', url: server.url });
  },
  (error: unknown) => {
    report({ type: 'fatal', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exit(1);
  },
);
