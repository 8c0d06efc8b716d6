/**
 * Summarises V8 heap snapshots (`.heapsnapshot`, e.g. from `npm run bench --
 * --heap-snapshot <dir>`): live objects and bytes by constructor, and, given a
 * baseline snapshot, what was added, optionally divided by a participant count.
 *
 *   npx tsx test/bench/heap-summary.ts <after.heapsnapshot> [--before <baseline>] [--per 1000] [--top 30]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface HeapSnapshotFile {
  readonly snapshot: { readonly meta: { readonly node_fields: readonly string[]; readonly node_types: readonly [readonly string[], ...unknown[]] } };
  readonly nodes: readonly number[];
  readonly strings: readonly string[];
}

/** Live count and bytes of one kind of heap object. */
export interface HeapGroup {
  /** `Constructor` for objects, `(type) name-ish` for the rest. */
  readonly name: string;
  readonly count: number;
  readonly bytes: number;
}

/** Groups a snapshot's nodes by constructor (objects) or by type (strings, code, arrays, ...). */
export function groupHeap(file: HeapSnapshotFile): Map<string, HeapGroup> {
  const fields = file.snapshot.meta.node_fields;
  const types = file.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const groups = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < file.nodes.length; i += width) {
    const type = types[file.nodes[i + typeAt]];
    const name = type === 'object' || type === 'closure' ? `${file.strings[file.nodes[i + nameAt]]}${type === 'closure' ? ' (closure)' : ''}` : `(${type})`;
    const group = groups.get(name);
    const bytes = file.nodes[i + sizeAt];
    if (group) {
      group.count++;
      group.bytes += bytes;
    } else groups.set(name, { count: 1, bytes });
  }
  return new Map([...groups].map(([name, g]) => [name, { name, ...g }]));
}

/** `after - before` per group, largest byte growth first. */
export function diffHeap(after: Map<string, HeapGroup>, before: Map<string, HeapGroup> | undefined): HeapGroup[] {
  const out: HeapGroup[] = [];
  for (const [name, a] of after) {
    const b = before?.get(name);
    out.push({ name, count: a.count - (b?.count ?? 0), bytes: a.bytes - (b?.bytes ?? 0) });
  }
  return out.sort((x, y) => y.bytes - x.bytes);
}

function load(path: string): Map<string, HeapGroup> {
  return groupHeap(JSON.parse(readFileSync(path, 'utf8')) as HeapSnapshotFile);
}

function main(): void {
  const { values, positionals } = parseArgs({
    options: { before: { type: 'string' }, per: { type: 'string' }, top: { type: 'string', default: '30' } },
    allowPositionals: true,
  });
  if (positionals.length !== 1) {
    process.stderr.write('usage: tsx test/bench/heap-summary.ts <after.heapsnapshot> [--before <baseline>] [--per N] [--top 30]\n');
    process.exit(2);
  }
  const per = values.per ? Number(values.per) : 1;
  const rows = diffHeap(load(positionals[0]), values.before ? load(values.before) : undefined);
  const total = rows.reduce((sum, r) => sum + r.bytes, 0);
  const unit = per === 1 ? '' : ` per ${per}`;
  process.stdout.write(`${values.before ? 'growth' : 'live heap'}: ${(total / per).toFixed(0)} bytes${unit}\n`);
  process.stdout.write(`${'bytes'.padStart(10)} ${'count'.padStart(9)}  constructor or type${unit}\n`);
  for (const row of rows.slice(0, Number(values.top))) {
    process.stdout.write(`${(row.bytes / per).toFixed(0).padStart(10)} ${(row.count / per).toFixed(2).padStart(9)}  ${row.name}\n`);
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) main();
