import { configDefaults, defineConfig } from 'vitest/config';
import { LIMITS } from './test/harness/limits.js';

// The files that use PostgreSQL: one embedded server is started for them when (and only when) one of them runs.
const POSTGRES_FILES = ['test/postgres.*.test.ts', 'test/home.test.ts'];

export default defineConfig({
  test: {
    // Limits only tell "finished" from "hung" (test/harness/limits.js; TELEMETRY_TEST_TIME_SCALE scales them).
    testTimeout: LIMITS.testMs,
    hookTimeout: LIMITS.testMs,
    pool: 'forks',
    // CI has 2 cores. Files run in parallel in at most two forks, and within a file at most two concurrent
    // tests run at once: with describe.concurrent unbounded (default 5 per file) a dozen real servers started
    // side by side and starved each other, turning a 50 ms SIGTERM into 6 s.
    poolOptions: { forks: { minForks: 1, maxForks: 2 } },
    maxConcurrency: 2,
    projects: [
      {
        extends: true,
        test: { name: 'postgres', include: POSTGRES_FILES, globalSetup: ['test/helpers/postgresGlobalSetup.ts'] },
      },
      {
        extends: true,
        test: { name: 'main', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...POSTGRES_FILES] },
      },
    ],
  },
});
