import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/** `npm run bench:smoke`: checks that the benchmark harness runs end to end (no timings asserted). */
export default defineConfig({
  test: { ...base.test, include: ['test/bench/**/*.test.ts'], exclude: ['node_modules/**', 'dist/**'] },
});
