import { defineConfig } from 'vitest/config';

/**
 * Test files that assert a bystander's latency under a flood: they run after
 * the rest of the suite, one at a time, so that the CPU they measure is not
 * shared with another test's servers (two of them side by side on two cores
 * put a 360 ms stall in one run's max).
 */
const LATENCY_TESTS = ['test/robustness/identity-fairness.test.ts', 'test/robustness/presence-flood.test.ts'];

/** Never part of `npm test`: the benchmarks, dependencies and the build. */
const EXCLUDED = ['test/bench/**', 'node_modules/**', 'dist/**'];

/**
 * `npm test`: every behaviour test, never a benchmark (those run with
 * `npm run bench`, and the harness check with `npm run bench:smoke`).
 *
 * Tuned for a shared 2-core machine: one forked worker per core (tests start
 * real servers, clients and CLI processes, so more workers only contend), each
 * file isolated in its worker, and deadlines that only a hang reaches: tests
 * wait on events, so a slow machine makes them slower, never red.
 */
export default defineConfig({
  test: {
    exclude: EXCLUDED,
    // CLI and package tests spawn the compiled bin; this keeps dist/ current.
    globalSetup: ['test/helpers/build-once.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    isolate: true,
    projects: [
      { extends: true, test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: [...LATENCY_TESTS, ...EXCLUDED] } },
      { extends: true, test: { name: 'latency', include: LATENCY_TESTS, maxWorkers: 1, sequence: { groupOrder: 1 } } },
    ],
  },
});
