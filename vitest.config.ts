import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**', 'dist/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Real sockets on loopback: a couple of workers is plenty on a 2-core machine.
    pool: 'forks',
    maxWorkers: 2,
  },
});
