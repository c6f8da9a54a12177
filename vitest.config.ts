import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { LIMITS } from './test/harness/limits.js';

// Files that mostly wait on real time (replicas sending a heartbeat a second for 10-20 s, PostgreSQL down or
// stalled for a while, a 10 s header timeout, retries a second apart): 1-12 s of CPU for 7-44 s of wall, measured
// alone with `/usr/bin/time npx vitest run <file>`. They run in worker threads, three at a time, beside the two
// forks that run everything else, so their waiting overlaps the busy files instead of holding a fork: 150 s to
// 78 s on a quiet 2-core machine, which is then busy about nine tenths of the run.
const WAITING_FILES = [
  'test/postgres.replicaFaults.test.ts',
  'test/postgres.replicas.test.ts',
  'test/postgres.outage.test.ts',
  'test/faults.collector.test.ts',
  'test/countedOnce.model.test.ts',
  'test/idempotencyKeys.test.ts',
  'test/session.reset.test.ts',
  'test/postgres.load.test.ts',
  'test/optout.test.ts',
  'test/inspect.test.ts',
  'test/lostReply.test.ts',
  'test/retryCountedOnce.test.ts',
];

// The files that take longest, started first in their pool so they overlap the rest instead of trailing it: the
// waiting files above in the threads, npm and tsc (package) and a hundred CLI processes (cli) in the forks.
// Vitest's own order (longest first by its cache of past runs, else largest file first) knows nothing on a fresh
// clone. Only the order: no test depends on it.
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
    // Limits only tell "finished" from "hung" (test/harness/limits.js; TELEMETRY_TEST_TIME_SCALE scales them).
    testTimeout: LIMITS.testMs,
    hookTimeout: LIMITS.testMs,
    // CI has 2 cores. The busy files run in at most two forks, and within a file at most two concurrent tests
    // run at once: with describe.concurrent unbounded (default 5 per file) a dozen real servers started side by
    // side and starved each other, turning a 50 ms SIGTERM into 6 s. Three or four forks of any files failed
    // load-sensitive tests on a loaded machine (counted-once fault coverage, replica heartbeat gaps judged to
    // half a second) where two passed; the waiting files' threads add little CPU. A fork runs its files one
    // after another without reloading vitest and the shared modules (isolate: false, about 0.2 s of CPU a
    // file): no test file stubs modules, globals or timers it does not restore.
    poolOptions: { forks: { minForks: 1, maxForks: 2, isolate: false }, threads: { minThreads: 1, maxThreads: 3 } },
    maxConcurrency: 2,
    sequence: { sequencer: LongFilesFirst },
    // One embedded PostgreSQL for the whole run, started by the root project's setup and shared by both
    // projects (a database per test keeps files apart); see test/helpers/postgres.ts.
    globalSetup: ['test/helpers/postgresGlobalSetup.ts'],
    projects: [
      { extends: true, test: { name: 'waiting', include: WAITING_FILES, pool: 'threads' } },
      { extends: true, test: { name: 'busy', include: ['test/**/*.test.ts'], exclude: WAITING_FILES, pool: 'forks' } },
    ],
  },
});
