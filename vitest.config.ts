import { defineConfig } from 'vitest/config';

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
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**', 'dist/**'],
    // CLI and package tests spawn the compiled bin; this keeps dist/ current.
    globalSetup: ['test/helpers/build-once.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    isolate: true,
  },
});
