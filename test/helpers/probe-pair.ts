/**
 * A bystander probe pair for robustness tests: `alice` sends `bob` a direct
 * message every {@link PROBE_INTERVAL_MS} and times each request to its
 * response. The latencies come back sorted, with their percentiles, and
 * every probe must be answered `empty` and reach bob in order.
 */
import { expect } from 'vitest';
import { mintToken } from '../../src/auth/token.js';
import type { AbuserProcess, AbuserStats } from './abuser-process.js';
import { connectRaw, type RawClient } from './raw-client.js';
import { uniqueRoom } from './server.js';

/** Time between two probes. */
export const PROBE_INTERVAL_MS = 20;
/** Deadline for one answer; generous, so a loaded machine only takes longer. */
const ANSWER_TIMEOUT_MS = 60_000;
/** Probing before the measured phase, so that the abusers' first requests are in flight. */
const WARMUP_MS = 1_000;

/** A probe run's latencies, sorted, in ms. */
export interface ProbeFigures {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** The `p`th percentile of ascending `sorted` (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

/** One line for a test's output: `[label] probes=N p50=…ms p99=…ms max=…ms`. */
export function formatFigures(label: string, figures: ProbeFigures): string {
  return `[${label}] probes=${figures.count} p50=${figures.p50.toFixed(1)}ms p99=${figures.p99.toFixed(1)}ms max=${figures.max.toFixed(1)}ms`;
}

/**
 * Probes from `alice` to `bob` (both enabled, in one room) for `durationMs`;
 * resolves with the figures once every probe was answered and delivered in order.
 */
export async function runProbe(alice: RawClient, bob: RawClient, durationMs: number): Promise<ProbeFigures> {
  const latencies: number[] = [];
  const answers: Promise<void>[] = [];
  const tag = `probe-${Math.random().toString(36).slice(2)}`;
  const started = performance.now();
  let seq = 0;
  while (performance.now() - started < durationMs) {
    const n = seq++;
    const sent = performance.now();
    const reply = alice.request(
      'room.invoke_tool',
      { toolkit: 'messaging', tool: 'send', arguments: { type: 'json', json: { to_participant_id: bob.participantId, type: tag, message_json: String(n) } } },
      undefined,
      ANSWER_TIMEOUT_MS,
    );
    answers.push(
      reply.then((content) => {
        expect(content, `probe ${n}`).toEqual({ type: 'empty' });
        latencies.push(performance.now() - sent);
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS));
  }
  await Promise.all(answers);
  for (let n = 0; n < seq; n++) {
    const push = await bob.waitFor((m) => m.type === 'messaging.send' && m.header?.type === tag, ANSWER_TIMEOUT_MS);
    expect(push.header?.message, 'probe order').toBe(n);
  }
  latencies.sort((a, b) => a - b);
  return { count: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies[latencies.length - 1] ?? NaN };
}

/** Connects the probe pair to a room of its own on the server at `url` (tokens signed with `secret`); bob is enabled. */
export async function connectProbePair(url: string, secret: string): Promise<{ alice: RawClient; bob: RawClient }> {
  const room = uniqueRoom('bystanders');
  const alice = await connectRaw(url, room, await mintToken({ secret, room, name: 'alice' }));
  const bob = await connectRaw(url, room, await mintToken({ secret, room, name: 'bob' }));
  await bob.invoke('enable', {});
  await bob.waitForPush('messaging.enabled');
  return { alice, bob };
}

/** What a probe beside abusers measured, what the abusers did, and their requests per second. */
export interface ProbedAbuse {
  readonly figures: ProbeFigures;
  readonly stats: AbuserStats;
  readonly perSecond: number;
}

/** Probes for a warm-up second, then for `measureMs` while `abusers` run, then stops them. */
export async function probeBeside(alice: RawClient, bob: RawClient, abusers: AbuserProcess, measureMs: number): Promise<ProbedAbuse> {
  let figures: ProbeFigures;
  let stats: AbuserStats;
  try {
    await runProbe(alice, bob, WARMUP_MS);
    figures = await runProbe(alice, bob, measureMs);
  } finally {
    stats = await abusers.stop();
  }
  return { figures, stats, perSecond: stats.sent / ((measureMs + WARMUP_MS) / 1000) };
}

/** How many times a latency test measures before it fails: see {@link measureInRounds}. */
const LATENCY_ROUNDS = 3;

/**
 * Runs `round` until `met(result)` holds, at most {@link LATENCY_ROUNDS}
 * times, and returns the last result. A shared machine's load comes and
 * goes (one descheduled process is a stall of hundreds of ms in a max),
 * while the regressions these tests catch miss every round: before fair
 * scheduling the floods put the probe's p50 at 0.2-0.5 s. Each miss is
 * printed, so a flaky figure shows in the output even when a later round
 * passes.
 */
export async function measureInRounds<T>(label: string, round: () => Promise<T>, met: (result: T) => boolean): Promise<T> {
  for (let n = 1; ; n++) {
    const result = await round();
    if (met(result) || n === LATENCY_ROUNDS) return result;
    console.log(`[${label}] round ${n} of ${LATENCY_ROUNDS} missed the limit; measuring again`);
  }
}
