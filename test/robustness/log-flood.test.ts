/**
 * Logs cannot be flooded (issue 24, case 5): a hostile client reconnecting
 * in a loop with a 5,800-character name and sending an invalid (text) frame
 * each time, and a flood of upgrades with bad tokens, each make the server
 * write no more than the documented rate for one source
 * (`LOG_BURST_PER_SOURCE` lines at once, then `LOG_LINES_PER_SOURCE_PER_SECOND`),
 * with client strings cut to `MAX_LOGGED_TEXT` characters; the rest is
 * counted (`logLineSuppressed`, the metric) and summarised. The bytes are
 * those a pino destination captured; before the fix the issue measured
 * 9-11 MiB/s for the first case and ~200 KiB/s for the second.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { noopObserver } from '../../src/server/core/observer.js';
import { LOG_BURST_PER_SOURCE, LOG_LINES_PER_SOURCE_PER_SECOND, MAX_LOGGED_TEXT } from '../../src/server/log-limiter.js';
import { connectRaw, expectUpgradeRefused } from '../helpers/raw-client.js';
import { uniqueRoom, useServers, type TestServer } from '../helpers/server.js';

/** Each flood runs until it made at least this many times the lines allowed so far (each attempt causes two or more). */
const OVERSHOOT = 2;
/** And at least this many attempts. */
const MIN_ATTEMPTS = 200;

/** Whether a flood of `attempts` since `started` has gone far enough past the rate to prove it. */
function floodGoesOn(started: number, attempts: number): boolean {
  return attempts < MIN_ATTEMPTS || attempts < OVERSHOOT * allowedLines(performance.now() - started);
}
/** Longest line a client can cause, with every client string cut (a line is ~300 bytes). */
const MAX_LINE_BYTES = 1024;

const servers = useServers();
let fx: TestServer | undefined;

/** A server logging at info to a captured destination; counts suppressed lines. */
async function loggedServer() {
  const lines: string[] = [];
  let bytes = 0;
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      bytes += chunk.byteLength;
      lines.push(...chunk.toString().split('\n').filter((line) => line.length > 0));
      callback();
    },
  });
  let suppressed = 0;
  fx = await servers.start({ logger: pino({ level: 'info' }, destination), observer: { ...noopObserver, logLineSuppressed: () => void suppressed++ } });
  const before = { lines: lines.length, bytes };
  return {
    fx,
    /** Lines and bytes written since the server listened, and lines suppressed. */
    written: () => ({ lines: lines.slice(before.lines), bytes: bytes - before.bytes, suppressed }),
  };
}

/** The most lines one source may cause in `elapsedMs`: the burst, the sustained rate, and one summary per 10 s window. */
function allowedLines(elapsedMs: number): number {
  return LOG_BURST_PER_SOURCE + Math.ceil((LOG_LINES_PER_SOURCE_PER_SECOND * elapsedMs) / 1000) + Math.ceil(elapsedMs / 10_000);
}

function report(what: string, elapsedMs: number, attempts: number, written: { lines: string[]; bytes: number; suppressed: number }): void {
  const rate = (written.bytes / 1024 / (elapsedMs / 1000)).toFixed(1);
  console.log(`[log-flood] ${what}: ${attempts} attempts in ${elapsedMs.toFixed(0)} ms -> ${written.lines.length} lines, ${written.bytes} bytes (${rate} KiB/s), ${written.suppressed} suppressed`);
}

describe('log floods', () => {
  it('a 5,800-character name reconnecting with an invalid frame writes at most the per-source rate', async () => {
    const { fx, written } = await loggedServer();
    const room = uniqueRoom();
    const name = 'n'.repeat(5_800);
    const token = await fx.token(room, name);
    const started = performance.now();
    let attempts = 0;
    while (floodGoesOn(started, attempts)) {
      const client = await connectRaw(fx.url, room, token);
      client.sendFrame('not binary');
      expect((await client.closed).code).toBe(1003);
      attempts++;
    }
    const elapsed = performance.now() - started;
    const result = written();
    report('long name, text frame, reconnect', elapsed, attempts, result);
    expect(attempts).toBeGreaterThan(allowedLines(elapsed));
    expect(result.lines.length).toBeLessThanOrEqual(allowedLines(elapsed));
    expect(result.bytes).toBeLessThanOrEqual(allowedLines(elapsed) * MAX_LINE_BYTES);
    for (const line of result.lines) expect(line).not.toContain('n'.repeat(MAX_LOGGED_TEXT + 1));
    expect(result.suppressed).toBeGreaterThan(0);
  });

  it('bad-token upgrades write at most the per-source rate', async () => {
    const { fx, written } = await loggedServer();
    const room = uniqueRoom();
    const started = performance.now();
    let attempts = 0;
    while (floodGoesOn(started, attempts)) {
      const refusals = await Promise.all(Array.from({ length: 10 }, () => expectUpgradeRefused(fx.url, room, `bad.${'t'.repeat(4000)}.token`)));
      for (const refusal of refusals) expect(refusal.status).toBe(403);
      attempts += refusals.length;
    }
    const elapsed = performance.now() - started;
    const result = written();
    report('bad-token upgrades', elapsed, attempts, result);
    expect(attempts).toBeGreaterThan(allowedLines(elapsed));
    expect(result.lines.length).toBeLessThanOrEqual(allowedLines(elapsed));
    expect(result.bytes).toBeLessThanOrEqual(allowedLines(elapsed) * MAX_LINE_BYTES);
    expect(result.suppressed).toBeGreaterThan(0);
  });
});
