import { defineConfig } from 'vitest/config';
import { LIMITS } from './test/harness/limits.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Limits only tell "finished" from "hung" (test/harness/limits.js; TELEMETRY_TEST_TIME_SCALE scales them).
    testTimeout: LIMITS.testMs,
    hookTimeout: LIMITS.testMs,
    pool: 'forks',
    // CI has 2 cores. Files run in parallel in at most two forks, and within a file at most two concurrent
    // tests run at once: with describe.concurrent unbounded (default 5 per file) a dozen real servers started
    // side by side and starved each other, turning a 50 ms SIGTERM into 6 s.
    poolOptions: { forks: { minForks: 1, maxForks: 2 } },
    maxConcurrency: 2,
  },
});
