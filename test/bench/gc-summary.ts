/**
 * Summarises a `node --trace-gc` log (e.g. of test/bench/client-join-heap.ts):
 * how many scavenges and mark-compacts ran, and how much the regular
 * mark-compacts freed. What a mark-compact frees is old-space garbage:
 * objects that were promoted (or pretenured) and then died, the memory that
 * makes the heap, and so the RSS, grow past what is live. The forced
 * collections of `global.gc()` (`testing`) are left out of that sum.
 *
 *   node --expose-gc --trace-gc --import tsx test/bench/client-join-heap.ts roomstate 1000 > log 2>&1
 *   npx tsx test/bench/gc-summary.ts log
 */
import { readFileSync } from 'node:fs';

/** What {@link summariseGcTrace} reads from a log. */
export interface GcSummary {
  readonly scavenges: number;
  /** Mark-compacts V8 started on its own (forced `testing` ones excluded). */
  readonly markCompacts: number;
  /** MB freed by those mark-compacts: old-space garbage. */
  readonly oldGarbageMB: number;
  /** The largest committed heap (MB) any collection reported. */
  readonly peakCommittedMB: number;
}

const LINE = /(Scavenge|Mark-Compact)\s+([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/;

/** Reads the collections of a `--trace-gc` log (lines of other output are skipped). */
export function summariseGcTrace(text: string): GcSummary {
  let scavenges = 0;
  let markCompacts = 0;
  let oldGarbageMB = 0;
  let peakCommittedMB = 0;
  for (const line of text.split('\n')) {
    const match = LINE.exec(line);
    if (match === null) continue;
    const [, kind, before, committedBefore, after, committedAfter] = match;
    peakCommittedMB = Math.max(peakCommittedMB, Number(committedBefore), Number(committedAfter));
    if (kind === 'Scavenge') scavenges++;
    else if (!line.includes('testing')) {
      markCompacts++;
      oldGarbageMB += Number(before) - Number(after);
    }
  }
  return { scavenges, markCompacts, oldGarbageMB: Math.round(oldGarbageMB), peakCommittedMB: Math.round(peakCommittedMB) };
}

function main(): void {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    process.stderr.write('usage: npx tsx test/bench/gc-summary.ts <trace-gc log>...\n');
    process.exit(2);
  }
  for (const file of files) process.stdout.write(`${file}: ${JSON.stringify(summariseGcTrace(readFileSync(file, 'utf8')))}\n`);
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) main();
