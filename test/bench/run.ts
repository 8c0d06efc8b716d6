/**
 * `npm run bench`: runs every scenario against the roomstate server (driven by
 * roomstate clients, and by a lean codec-level client), a raw ws relay and
 * Socket.IO 4, each in its own process with load generators in others; prints
 * one table and writes every figure to a JSON file.
 *
 * Options:
 *   --quick            all scenarios in under two minutes (CI smoke; sizes reduced)
 *   --out <path>       JSON output (default bench-results.json)
 *   --md <path>        also write the table as Markdown
 *   --repeats <n>      repeats per scenario x target (median reported)
 *   --scenarios <ids>  comma-separated scenario ids or prefixes (e.g. direct,fanout-100)
 *   --targets <ids>    comma-separated target ids (roomstate, roomstate-lean, raw, socketio)
 *   --warmup-ms <n>, --measure-ms <n>  override the phase lengths
 *   --fanout <sizes>, --presence <n>, --footprint <sizes>, --room-sizes <sizes>  override the sizes (comma-separated)
 *   --cpu-prof <dir>   write V8 CPU profiles of every server and generator process
 *                      (summarise them with test/bench/profile-summary.ts; BENCH_CPU_PROF_INTERVAL_US
 *                      sets the sampling interval, default 1000)
 *   --heap-snapshot <dir>  write server heap snapshots before and after filling each
 *                      footprint scenario (compare them with test/bench/heap-summary.ts)
 *   --timeout-minutes <n>  how long one run may take before it counts as failed (default 15; a
 *                      room of 10,000 on a 2-core machine needs longer, for every target)
 *   --quiet <percent>  before each run, wait (up to 10 min) until the machine's CPU use by
 *                      other processes stays under this share, so a shared machine skews less
 *   --smoke            (hidden) tiny sizes and phases, for the test suite
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { settingsFor, type Mode, type Settings } from './config.js';
import { TARGETS, type Target } from './ipc.js';
import { ratios, renderTable, summarise, formatNumber, type ResultEntry, type RunOutcome } from './report.js';
import { buildScenarios, type RunEnv, type Scenario } from './scenarios.js';
import { clientScenarios } from './client-scenarios.js';

function openFileLimit(): number {
  try {
    const out = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    return out === 'unlimited' ? 1_000_000 : Number.parseInt(out, 10);
  } catch {
    return 1024;
  }
}

/** Share of all CPUs busy over `ms`, in percent (from the kernel's per-CPU counters). */
async function busyPercent(ms: number): Promise<number> {
  const sample = (): { busy: number; total: number } =>
    os.cpus().reduce(
      (acc, cpu) => {
        const t = cpu.times;
        const total = t.user + t.nice + t.sys + t.idle + t.irq;
        return { busy: acc.busy + total - t.idle, total: acc.total + total };
      },
      { busy: 0, total: 0 },
    );
  const a = sample();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = sample();
  return b.total > a.total ? ((b.busy - a.busy) / (b.total - a.total)) * 100 : 0;
}

/** Waits until other processes use less than `threshold` percent of the CPUs (at most `maxMs`); returns the last reading. */
async function waitForQuiet(threshold: number, maxMs: number): Promise<{ busyPct: number; waitedMs: number }> {
  const start = performance.now();
  for (;;) {
    const busyPct = await busyPercent(1000);
    const waitedMs = performance.now() - start;
    if (busyPct < threshold || waitedMs >= maxMs) return { busyPct, waitedMs };
    await new Promise((resolve) => setTimeout(resolve, 4000));
  }
}

function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpuCount: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverage1m: Number(os.loadavg()[0].toFixed(2)),
  };
}

function selected<T extends { id: string }>(all: readonly T[], filter: string | undefined): T[] {
  if (!filter) return [...all];
  const wanted = filter.split(',').map((s) => s.trim()).filter(Boolean);
  return all.filter((item) => wanted.some((w) => item.id === w || item.id.startsWith(w)));
}

function positive(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${JSON.stringify(value)}`);
  return n;
}

function sizes(value: string | undefined, name: string): number[] | undefined {
  if (value === undefined) return undefined;
  return value.split(',').map((part) => {
    const n = positive(part.trim(), name);
    if (n === undefined || !Number.isInteger(n) || n < 2) throw new Error(`--${name} takes whole numbers of at least 2, got ${JSON.stringify(value)}`);
    return n;
  });
}

async function runOne(scenario: Scenario, target: Target, env: Omit<RunEnv, 'target'>, timeoutMs: number): Promise<RunOutcome> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const figures = await Promise.race([
      scenario.run({ target, ...env }),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`run did not finish within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true, figures, seconds: (performance.now() - started) / 1000 };
  } catch (error) {
    return { ok: false, failure: error instanceof Error ? error.message : String(error), seconds: (performance.now() - started) / 1000 };
  } finally {
    clearTimeout(timer);
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench-results.json' },
      md: { type: 'string' },
      repeats: { type: 'string' },
      scenarios: { type: 'string' },
      targets: { type: 'string' },
      'warmup-ms': { type: 'string' },
      'measure-ms': { type: 'string' },
      fanout: { type: 'string' },
      presence: { type: 'string' },
      footprint: { type: 'string' },
      'room-sizes': { type: 'string' },
      'cpu-prof': { type: 'string' },
      'heap-snapshot': { type: 'string' },
      quiet: { type: 'string' },
      'timeout-minutes': { type: 'string' },
    },
    strict: true,
  });
  const mode: Mode = values.smoke ? 'smoke' : values.quick ? 'quick' : 'full';
  const base = settingsFor(mode);
  const settings: Settings = {
    ...base,
    repeats: positive(values.repeats, 'repeats') ?? base.repeats,
    warmupMs: positive(values['warmup-ms'], 'warmup-ms') ?? base.warmupMs,
    measureMs: positive(values['measure-ms'], 'measure-ms') ?? base.measureMs,
    fanoutSizes: sizes(values.fanout, 'fanout') ?? base.fanoutSizes,
    presenceParticipants: positive(values.presence, 'presence') ?? base.presenceParticipants,
    footprintSizes: sizes(values.footprint, 'footprint') ?? base.footprintSizes,
    roomSizes: sizes(values['room-sizes'], 'room-sizes') ?? base.roomSizes,
    runTimeoutMs: (positive(values['timeout-minutes'], 'timeout-minutes') ?? base.runTimeoutMs / 60_000) * 60_000,
  };
  const limit = openFileLimit();
  const scenarios = selected([...buildScenarios(settings, limit), ...clientScenarios(settings)], values.scenarios);
  const targets = selected(TARGETS, values.targets);
  if (scenarios.length === 0 || targets.length === 0) throw new Error('no scenario or target matches the filters');
  const notes: string[] = [];
  for (const s of scenarios) {
    if (s.params.requested !== undefined && s.params.requested !== s.params.participants) {
      notes.push(`${s.id}: ${s.params.requested} participants requested, but the open-file limit (ulimit -n = ${limit}) allows ${s.params.participants} per process; raise it with \`ulimit -n\` to measure more.`);
    }
  }
  for (const note of notes) process.stderr.write(`note: ${note}\n`);
  const profileDir = values['cpu-prof'] ? resolve(values['cpu-prof']) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const heapSnapshotDir = values['heap-snapshot'] ? resolve(values['heap-snapshot']) : undefined;
  const quiet = positive(values.quiet, 'quiet');
  if (heapSnapshotDir) mkdirSync(heapSnapshotDir, { recursive: true });

  const startMachine = machine();
  const secret = randomBytes(32).toString('base64url');
  const outcomes = new Map<string, RunOutcome[]>();
  const runsOn = (scenario: Scenario, target: Target): boolean => (scenario.targets === undefined ? target.optIn !== true : scenario.targets.includes(target.id));
  const total = scenarios.reduce((sum, s) => sum + targets.filter((t) => runsOn(s, t)).length, 0) * settings.repeats;
  let done = 0;
  const started = performance.now();
  for (const scenario of scenarios) {
    // Targets are interleaved within each repeat so slow drift of the machine spreads evenly.
    for (let repeat = 0; repeat < settings.repeats; repeat++) {
      for (const target of targets) {
        if (!runsOn(scenario, target)) continue;
        const previous = outcomes.get(`${scenario.id}|${target.id}`) ?? [];
        // A slow or failed run is not repeated: the figure (or failure) stands for this run only, and says so.
        const slow = previous.find((o) => o.seconds > settings.slowRunSeconds || !o.ok);
        if (slow) {
          done++;
          const why = slow.ok ? `a run took ${slow.seconds.toFixed(0)} s` : 'a run failed';
          process.stderr.write(`[${done}/${total}] ${scenario.id} x ${target.id} (repeat ${repeat + 1}/${settings.repeats}): skipped, ${why}\n`);
          continue;
        }
        const runId = `${scenario.id}__${target.id}__r${repeat + 1}`;
        const env = { secret, runId, ...(profileDir ? { profileDir } : {}), ...(heapSnapshotDir ? { heapSnapshotDir } : {}) };
        // How busy the machine was just before the run (other processes only: ours are gone by now).
        const machineBefore = quiet === undefined ? { busyPct: await busyPercent(200), waitedMs: 0 } : await waitForQuiet(quiet, 10 * 60_000);
        const measured = await runOne(scenario, target, env, settings.runTimeoutMs);
        const outcome: RunOutcome = { ...measured, machineBusyBeforePct: Math.round(machineBefore.busyPct), loadAverage1m: Number(os.loadavg()[0].toFixed(2)) };
        const key = `${scenario.id}|${target.id}`;
        outcomes.set(key, [...(outcomes.get(key) ?? []), outcome]);
        done++;
        const summary = outcome.ok
          ? `${formatNumber(outcome.figures.value)} ${scenario.unit}` +
            (outcome.figures.p50Ms === undefined ? '' : `, p50 ${formatNumber(outcome.figures.p50Ms)} ms, p99 ${formatNumber(outcome.figures.p99Ms)} ms`) +
            (outcome.figures.error ? `, ERROR: ${outcome.figures.error}` : '')
          : `FAILED: ${outcome.failure}`;
        const context = `${outcome.seconds.toFixed(1)} s, machine ${outcome.machineBusyBeforePct}% busy before${machineBefore.waitedMs > 0 ? ` after waiting ${(machineBefore.waitedMs / 1000).toFixed(0)} s` : ''}`;
        process.stderr.write(`[${done}/${total}] ${scenario.id} x ${target.id} (repeat ${repeat + 1}/${settings.repeats}, ${context}): ${summary}\n`);
      }
    }
  }

  const results: ResultEntry[] = [];
  for (const scenario of scenarios) {
    for (const target of targets) if (runsOn(scenario, target)) results.push(summarise(scenario.id, target.id, outcomes.get(`${scenario.id}|${target.id}`) ?? []));
  }
  const ratioList = ratios(scenarios, results);
  const table = renderTable(scenarios, targets, results, ratioList, settings.repeats);
  const elapsed = (performance.now() - started) / 1000;
  const command = `npm run bench${mode === 'quick' ? ' -- --quick' : mode === 'smoke' ? ' -- --smoke' : ''}`;
  const report = {
    meta: {
      date: new Date().toISOString(),
      mode,
      command,
      argv: process.argv.slice(2),
      machine: startMachine,
      loadAverage1mAtEnd: Number(os.loadavg()[0].toFixed(2)),
      openFileLimit: limit,
      settings,
      elapsedSeconds: elapsed,
      notes,
      method: [
        'Each run forks a fresh server process and fresh load-generator processes (Node, tsx); the parent orchestrates over IPC.',
        'Throughput runs warm up, then measure for a fixed time; a message leaves the sender window once acknowledged (roomstate, Socket.IO) and delivered to every receiver.',
        'Latency is send-to-delivery on one clock: sender and receivers share a generator process.',
        'Values are medians over the repeats; ratios compare medians (target / reference).',
      ],
    },
    scenarios: scenarios.map((s) => ({ id: s.id, title: s.title, unit: s.unit, higherIsBetter: s.higherIsBetter, params: s.params, ...(s.targets ? { targets: s.targets } : {}) })),
    targets,
    results,
    ratios: ratioList,
    table,
  };
  const out = resolve(values.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  if (values.md) writeFileSync(resolve(values.md), `${table}\n`);

  const m = report.meta.machine;
  process.stdout.write(
    `\nroomstate benchmark (${mode}), ${m.cpuCount} x ${String(m.cpuModel)}, ${String(m.memoryGiB)} GiB, ${String(m.node)}, ` +
      `${settings.repeats} repeat(s), ${elapsed.toFixed(0)} s, load average ${String(m.loadAverage1m)} at start / ${report.meta.loadAverage1mAtEnd} at end\n\n`,
  );
  process.stdout.write(`${table}\n\nFigures: ${out}\n`);
  const failures = results.filter((r) => r.errors.length > 0);
  for (const f of failures) process.stderr.write(`error in ${f.scenario} x ${f.target}: ${f.errors.join(' | ')}\n`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  },
);
