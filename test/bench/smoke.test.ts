/**
 * Smoke test of `npm run bench`: the harness runs end to end in its tiny
 * `--smoke` mode, exits 0 and writes a JSON file with figures for every
 * scenario x target. Timings are never asserted (benchmarks are not tests).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCENARIO_KINDS = ['direct-1', 'direct-', 'attachment-', 'fanout-', 'presence-join-', 'presence-enable-', 'footprint-', 'cluster-direct-', 'cluster-fanout-', 'client-join-', 'client-receive', 'client-send', 'client-attachment-'];
const TARGETS = ['roomstate', 'roomstate-lean', 'protocol-relay', 'raw', 'socketio', 'official'];
/** Targets that run only the scenarios naming them. */
const OPT_IN = ['official'];

interface BenchJson {
  meta: { mode: string };
  scenarios: Array<{ id: string; targets?: string[] }>;
  targets: Array<{ id: string }>;
  results: Array<{ scenario: string; target: string; errors: string[]; median?: { value: number } }>;
  ratios: Array<{ scenario: string; target: string; reference: string }>;
}

function runBench(args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/run.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bench did not finish within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('npm run bench', () => {
  const dir = mkdtempSync(join(tmpdir(), 'roomstate-bench-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs every scenario against every server and writes the JSON', { timeout: 600_000 }, async () => {
    const out = join(dir, 'bench-results.json');
    const { code, output } = await runBench(['--smoke', '--out', out], 540_000);
    expect(code, output).toBe(0);
    const json = JSON.parse(readFileSync(out, 'utf8')) as BenchJson;
    expect(json.meta.mode).toBe('smoke');
    expect(json.targets.map((t) => t.id)).toEqual(TARGETS);
    const ids = json.scenarios.map((s) => s.id);
    for (const kind of SCENARIO_KINDS) expect(ids.some((id) => id.startsWith(kind)), `a ${kind}* scenario`).toBe(true);
    for (const { id: scenario, targets } of json.scenarios) {
      // roomstate, or its lean build where only that runs (one-room and presence-flood scenarios), against the
      // first reference that ran beside it: the lean protocol relay, the official client, the raw relay, or Socket.IO (cluster scenarios).
      const subject = targets === undefined || targets.includes('roomstate') ? 'roomstate' : 'roomstate-lean';
      const reference = targets === undefined ? 'protocol-relay' : ['protocol-relay', 'official', 'raw', 'socketio'].find((t) => targets.includes(t));
      for (const target of targets ?? TARGETS.filter((t) => !OPT_IN.includes(t))) {
        const entry = json.results.find((r) => r.scenario === scenario && r.target === target);
        expect(entry, `${scenario} x ${target}`).toBeDefined();
        expect(entry?.errors, `${scenario} x ${target}`).toEqual([]);
        expect(Number.isFinite(entry?.median?.value), `${scenario} x ${target} has a value`).toBe(true);
      }
      if (reference !== undefined) {
        expect(json.ratios.some((r) => r.scenario === scenario && r.target === subject && r.reference === reference), `${scenario}: ${subject} against ${reference}`).toBe(true);
      }
    }
    // The table names every server.
    for (const label of ['roomstate', 'lean protocol relay', 'raw ws relay', 'Socket.IO 4', 'official npm client']) expect(output).toContain(label);
  });
});
