/**
 * Reduces repeated runs to medians and ratios, and renders the table (a
 * Markdown table, readable in a terminal and pasteable into docs/performance.md).
 */
import { median } from './histogram.js';
import type { Target } from './ipc.js';
import type { RunFigures, Scenario } from './scenarios.js';

/** Conditions of one run on a possibly shared machine. */
interface RunConditions {
  readonly seconds: number;
  /** CPU share used by other processes just before the run, in percent. */
  readonly machineBusyBeforePct?: number;
  /** 1-minute load average right after the run. */
  readonly loadAverage1m?: number;
}

/** One repeat's outcome. */
export type RunOutcome = ({ readonly ok: true; readonly figures: RunFigures } | { readonly ok: false; readonly failure: string }) & RunConditions;

/** Medians over the successful repeats. */
export interface MedianFigures {
  readonly value: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly extra: Readonly<Record<string, number>>;
}

/** Everything known about one scenario x target. */
export interface ResultEntry {
  readonly scenario: string;
  readonly target: string;
  readonly runs: readonly RunOutcome[];
  /** Absent when no repeat succeeded. */
  readonly median?: MedianFigures;
  /** Failures and errors of any repeat. */
  readonly errors: readonly string[];
}

/** roomstate (or its lean client) compared with a reference, as value ratios. */
export interface RatioEntry {
  readonly scenario: string;
  readonly target: string;
  readonly reference: string;
  /** target / reference for the headline value. */
  readonly value?: number;
  readonly p50?: number;
  readonly p99?: number;
  /** target / reference for the server's CPU time per delivered message (above 1: costlier). */
  readonly serverCost?: number;
  /** What a ratio above 1 means for the headline value. */
  readonly aboveOneMeans: 'better' | 'worse';
}

/** Computes the medians of one scenario x target. */
export function summarise(scenario: string, target: string, runs: readonly RunOutcome[]): ResultEntry {
  const good = runs.flatMap((r) => (r.ok ? [r.figures] : []));
  const errors = runs.flatMap((r) => (r.ok ? (r.figures.error ? [r.figures.error] : []) : [r.failure]));
  if (good.length === 0) return { scenario, target, runs, errors };
  const pick = (f: (x: RunFigures) => number | undefined): number | undefined =>
    median(good.map(f).filter((v): v is number => v !== undefined));
  const extra: Record<string, number> = {};
  for (const key of new Set(good.flatMap((g) => Object.keys(g.extra)))) {
    const m = pick((g) => g.extra[key]);
    if (m !== undefined) extra[key] = m;
  }
  const p50Ms = pick((g) => g.p50Ms);
  const p99Ms = pick((g) => g.p99Ms);
  const value = pick((g) => g.value) ?? NaN;
  return {
    scenario,
    target,
    runs,
    median: { value, ...(p50Ms === undefined ? {} : { p50Ms }), ...(p99Ms === undefined ? {} : { p99Ms }), extra },
    errors,
  };
}

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a !== undefined && b !== undefined && b > 0 && Number.isFinite(a) ? a / b : undefined;
}

/** Ratios of every non-reference target against the lean protocol relay, raw, Socket.IO and the official client. */
export function ratios(scenarios: readonly Scenario[], results: readonly ResultEntry[]): RatioEntry[] {
  const out: RatioEntry[] = [];
  const find = (s: string, t: string): ResultEntry | undefined => results.find((r) => r.scenario === s && r.target === t);
  for (const scenario of scenarios) {
    for (const target of ['roomstate', 'roomstate-lean', 'protocol-relay', 'socketio']) {
      for (const reference of ['protocol-relay', 'raw', 'socketio', 'official']) {
        if (target === reference) continue;
        const a = find(scenario.id, target)?.median;
        const b = find(scenario.id, reference)?.median;
        if (!a || !b) continue;
        const value = ratio(a.value, b.value);
        const p50 = ratio(a.p50Ms, b.p50Ms);
        const p99 = ratio(a.p99Ms, b.p99Ms);
        const serverCost = ratio(a.extra.serverUsPerDelivery, b.extra.serverUsPerDelivery);
        out.push({
          scenario: scenario.id,
          target,
          reference,
          ...(value === undefined ? {} : { value }),
          ...(p50 === undefined ? {} : { p50 }),
          ...(p99 === undefined ? {} : { p99 }),
          ...(serverCost === undefined ? {} : { serverCost }),
          aboveOneMeans: scenario.higherIsBetter ? 'better' : 'worse',
        });
      }
    }
  }
  return out;
}

/** Formats a figure with sensible precision. */
export function formatNumber(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function formatRatio(value: number | undefined): string {
  return value === undefined ? '' : `${value >= 10 ? value.toFixed(0) : value.toFixed(2)}×`;
}

function notes(scenario: Scenario, entry: ResultEntry, m: MedianFigures, repeats: number): string {
  const e = m.extra;
  const parts: string[] = [];
  if (scenario.id.startsWith('room-')) {
    parts.push(`${formatNumber(e.rssKiB)} KiB RSS/participant, heap ${formatNumber(e.heapKiB)} KiB, complete in ${formatNumber(e.completeMs)} ms${e.loopMaxMs === undefined ? '' : `, longest loop block ${formatNumber(e.loopMaxMs)} ms`}${e.gcMaxMs === undefined ? '' : ` (longest GC pause ${formatNumber(e.gcMaxMs)} ms)`}${e.slowConsumerCuts ? `, ${e.slowConsumerCuts} cut as slow consumers` : ''}`);
  } else if (scenario.id.startsWith('presence-flood')) {
    parts.push(`${formatNumber(e.attributeSetsPerSecond)} sets/s in, ${formatNumber(e.attributePushesPerSecond)} pushes/s out, lost ${formatNumber(e.lost)}`);
  } else if (e.clientHeapKiB !== undefined && !scenario.id.startsWith('footprint')) {
    parts.push(`client heap ${formatNumber(e.clientHeapKiB)} KiB, rss ${formatNumber(e.clientRssKiB)} KiB per client`);
  } else if (scenario.id.startsWith('footprint')) {
    parts.push(`heap ${formatNumber(e.heapKiB)} KiB, client heap ${formatNumber(e.clientHeapKiB)} KiB`);
  } else if (e.serverCpuPct !== undefined) {
    parts.push(`cpu server ${Math.round(e.serverCpuPct)}% / gen ${Math.round(e.generatorCpuPct ?? NaN)}%, server ${formatNumber(e.serverUsPerDelivery)} µs/msg`);
  }
  const good = entry.runs.filter((r) => r.ok).length;
  if (good < repeats) parts.push(`${good} of ${repeats} runs`);
  return parts.join(', ');
}

/** Renders the results as a Markdown table, one row per scenario x target. */
export function renderTable(
  scenarios: readonly Scenario[],
  targets: readonly Target[],
  results: readonly ResultEntry[],
  ratioList: readonly RatioEntry[],
  repeats: number,
): string {
  const header = ['Scenario', 'Server', 'Value', 'Unit', 'p50 ms', 'p99 ms', 'vs relay', 'vs raw', 'vs Socket.IO', 'vs official', 'Notes'];
  const rows: string[][] = [];
  for (const scenario of scenarios) {
    for (const target of targets) {
      if (scenario.targets ? !scenario.targets.includes(target.id) : target.optIn === true) continue;
      const entry = results.find((r) => r.scenario === scenario.id && r.target === target.id);
      const m = entry?.median;
      const r = (reference: string): string =>
        formatRatio(ratioList.find((x) => x.scenario === scenario.id && x.target === target.id && x.reference === reference)?.value);
      const flag = entry && entry.errors.length > 0 ? ' (!)' : '';
      rows.push([
        scenario.title,
        target.label,
        m ? formatNumber(m.value) + flag : `failed${flag}`,
        scenario.unit,
        m ? formatNumber(m.p50Ms) : '—',
        m ? formatNumber(m.p99Ms) : '—',
        target.id.startsWith('roomstate') || target.id === 'socketio' ? r('protocol-relay') : '',
        target.id === 'raw' ? '' : r('raw'),
        target.id.startsWith('roomstate') ? r('socketio') : '',
        target.id.startsWith('roomstate') ? r('official') : '',
        m && entry ? notes(scenario, entry, m, repeats) : (entry?.errors[0] ?? '').slice(0, 60),
      ]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const numeric = (i: number): boolean => i === 2 || (i >= 4 && i <= 9);
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (numeric(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (numeric(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
