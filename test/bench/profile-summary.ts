/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`, or `npm run bench --
 * --cpu-prof <dir>`): the top functions by self time and by total (inclusive)
 * time, and self time per file.
 *
 *   npx tsx test/bench/profile-summary.ts <file.cpuprofile>... [--top 25] [--filter src/] [--window START,END]
 *
 * `--filter` keeps only functions whose file path contains the text (for
 * the total-time list and the per-file list; self time always shows all).
 * `--window` keeps only the samples taken between two times, in µs of the
 * profile's clock (the monotonic clock: the bench server logs each loop
 * block over 100 ms with the time it ended on that clock), to say what held
 * the loop.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

/** The parts of a `.cpuprofile` this script reads. */
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** One line of a summary. */
export interface ProfileLine {
  /** `function (file:line)`. */
  readonly name: string;
  readonly file: string;
  readonly ms: number;
  /** Share of the non-idle time, in percent. */
  readonly percent: number;
}

/** A profile's top functions and files. */
export interface ProfileSummary {
  /** Sampled time that was not idle, in ms. */
  readonly busyMs: number;
  readonly totalMs: number;
  readonly self: readonly ProfileLine[];
  readonly inclusive: readonly ProfileLine[];
  readonly files: readonly ProfileLine[];
}

const IDLE = new Set(['(idle)']);

function shortFile(url: string): string {
  if (!url) return '';
  const path = url.replace(/^file:\/\//, '');
  const cwd = `${process.cwd()}/`;
  if (path.startsWith(cwd)) return path.slice(cwd.length);
  const modules = path.lastIndexOf('node_modules/');
  return modules >= 0 ? path.slice(modules) : path;
}

function label(frame: CallFrame): { name: string; file: string } {
  const file = shortFile(frame.url);
  const fn = frame.functionName || '(anonymous)';
  return { name: file ? `${fn} (${file}:${frame.lineNumber + 1})` : fn, file: file || fn };
}

/** Computes self, inclusive and per-file time of a profile. */
export function summariseProfile(profile: CpuProfile, options: { top?: number; filter?: string; window?: readonly [startUs: number, endUs: number] } = {}): ProfileSummary {
  const top = options.top ?? 25;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const self = new Map<string, { file: string; ms: number }>();
  const inclusive = new Map<string, { file: string; ms: number }>();
  const files = new Map<string, number>();
  let busy = 0;
  let total = 0;
  const add = (map: Map<string, { file: string; ms: number }>, key: { name: string; file: string }, ms: number): void => {
    const entry = map.get(key.name);
    if (entry) entry.ms += ms;
    else map.set(key.name, { file: key.file, ms });
  };
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    // timeDeltas[i] is the gap before sample i; the time after it belongs to it.
    const ms = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(profile.samples[i]);
    if (!node) continue;
    if (options.window !== undefined && (at < options.window[0] || at > options.window[1])) continue;
    total += ms;
    if (IDLE.has(node.callFrame.functionName)) continue;
    busy += ms;
    const own = label(node.callFrame);
    add(self, own, ms);
    files.set(own.file, (files.get(own.file) ?? 0) + ms);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)?.callFrame;
      if (!frame || frame.functionName === '(root)') continue;
      const key = label(frame);
      if (seen.has(key.name)) continue;
      seen.add(key.name);
      add(inclusive, key, ms);
    }
  }
  const keep = (file: string): boolean => !options.filter || file.includes(options.filter);
  const lines = (map: Map<string, { file: string; ms: number }>, filtered: boolean): ProfileLine[] =>
    [...map]
      .filter(([, v]) => !filtered || keep(v.file))
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, top)
      .map(([name, v]) => ({ name, file: v.file, ms: v.ms, percent: busy > 0 ? (v.ms / busy) * 100 : 0 }));
  return {
    busyMs: busy,
    totalMs: total,
    self: lines(self, false),
    inclusive: lines(inclusive, true),
    files: [...files]
      .filter(([file]) => keep(file))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([file, ms]) => ({ name: file, file, ms, percent: busy > 0 ? (ms / busy) * 100 : 0 })),
  };
}

/** Renders a summary as plain text. */
export function renderProfileSummary(title: string, summary: ProfileSummary): string {
  const block = (heading: string, lines: readonly ProfileLine[]): string =>
    [heading, ...lines.map((l) => `${l.ms.toFixed(0).padStart(8)} ms ${l.percent.toFixed(1).padStart(5)}%  ${l.name}`)].join('\n');
  return [
    `== ${title}: ${summary.busyMs.toFixed(0)} ms busy of ${summary.totalMs.toFixed(0)} ms sampled`,
    block('-- self time by function', summary.self),
    block('-- total (inclusive) time by function', summary.inclusive),
    block('-- self time by file', summary.files),
  ].join('\n');
}

function main(): void {
  const { values, positionals } = parseArgs({
    options: { top: { type: 'string', default: '25' }, filter: { type: 'string' }, window: { type: 'string' } },
    allowPositionals: true,
  });
  if (positionals.length === 0) {
    process.stderr.write('usage: tsx test/bench/profile-summary.ts <file.cpuprofile>... [--top 25] [--filter src/] [--window START_US,END_US]\n');
    process.exit(2);
  }
  for (const file of positionals) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const window = values.window?.split(',').map(Number);
    if (window !== undefined && (window.length !== 2 || window.some((n) => !Number.isFinite(n)))) throw new Error(`--window wants START_US,END_US, got ${values.window}`);
    const summary = summariseProfile(profile, {
      top: Number(values.top),
      ...(values.filter ? { filter: values.filter } : {}),
      ...(window ? { window: [window[0], window[1]] as const } : {}),
    });
    process.stdout.write(`${renderProfileSummary(file, summary)}\n\n`);
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) main();
