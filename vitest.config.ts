import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { LIMITS } from './test/harness/limits.js';

// The files that take longest, started first so they overlap the rest instead of trailing it. Some wait on real
// time (replicas sending a heartbeat a second for 20-50 s, PostgreSQL down or stalled for a while, the
// collector's 10 s header timeout), some keep a core busy (npm and tsc, a hundred CLI processes): alternated, so
// that the two forks do not both sit waiting, and no two replica files start together. Vitest's own order
// (longest first by its cache of past runs, else largest file first) knows nothing on a fresh clone. Only the
// order: no test depends on it.
const LONG_FILES = [
  'test/postgres.replicaFaults.test.ts',
  'test/package.test.ts',
  'test/cli.test.ts',
  'test/postgres.load.test.ts',
  'test/postgres.replicas.test.ts',
  'test/postgres.outage.test.ts',
  'test/faults.collector.test.ts',
];

class LongFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => {
      const at = LONG_FILES.findIndex((name) => file.moduleId.endsWith(name));
      return at === -1 ? LONG_FILES.length : at;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Limits only tell "finished" from "hung" (test/harness/limits.js; TELEMETRY_TEST_TIME_SCALE scales them).
    testTimeout: LIMITS.testMs,
    hookTimeout: LIMITS.testMs,
    pool: 'forks',
    // CI has 2 cores. Files run in parallel in at most two forks, and within a file at most two concurrent
    // tests run at once: with describe.concurrent unbounded (default 5 per file) a dozen real servers started
    // side by side and starved each other, turning a 50 ms SIGTERM into 6 s. More forks finish sooner on an idle
    // machine (the replica and load tests spend some 170 s waiting on real time; `npm test --
    // --poolOptions.forks.maxForks=3`), but on a loaded machine three or four forks failed load-sensitive tests
    // (counted-once fault coverage, replica heartbeat gaps judged to half a second) where two passed.
    poolOptions: { forks: { minForks: 1, maxForks: 2 } },
    maxConcurrency: 2,
    sequence: { sequencer: LongFilesFirst },
    // One embedded PostgreSQL for the whole run (a database per test keeps files apart); see test/helpers/postgres.ts.
    globalSetup: ['test/helpers/postgresGlobalSetup.ts'],
  },
});
