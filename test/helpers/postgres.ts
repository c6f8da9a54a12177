// A real PostgreSQL for tests, in this order: TELEMETRY_TEST_DATABASE_URL when set; else the one embedded server
// the run shares (started by test/helpers/postgresGlobalSetup.ts, the globalSetup of vitest.config.ts); else (a
// run without that setup) a throwaway embedded server of this file's own. Each test asks for its own database with freshDatabase(),
// so tests never see each other's rows. A server that cannot start fails the test with one line saying why.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { prepareBinaries, startEmbeddedPostgres } from '../harness/embeddedPostgres.js';
import { LIMITS } from '../harness/limits.js';
import { signalPostgres } from '../harness/postgresProcesses.js';

declare module 'vitest' {
  interface ProvidedContext {
    /** The run's shared embedded server (admin URL), or why it could not start. */
    postgresShared?: { adminUrl: string } | { error: string };
    /** Binaries prepared once per run (embeddedPostgres.js prepareBinaries), for the servers tests restart. */
    postgresBinaries?: string;
  }
}

/** A running PostgreSQL the tests may create databases on. */
export interface TestPostgres {
  /** postgres://user:password@127.0.0.1:port/postgres (the admin database). */
  adminUrl: string;
  /** The password in the URLs, so tests can assert it never shows. */
  password: string;
  /** True for a server of this file's own, which tests may stop and start again (fault tests). */
  restartable: boolean;
  /** Creates a new empty database and returns its URL. */
  freshDatabase(): Promise<string>;
  /** Stops the server, keeping its data (restartable only). */
  pause(): Promise<void>;
  /** Starts it again on the same port and data (restartable only). */
  resume(): Promise<void>;
  /**
   * SIGSTOPs every process of the server (restartable only): connections stay open and nothing answers, the
   * way a database stuck on a dead disk or a frozen VM behaves. Resolves with the pids stopped.
   */
  stall(): Promise<number[]>;
  /** SIGCONTs them: the server carries on where it stopped. */
  unstall(): Promise<void>;
  /** Drops what it made (and stops a server of this file's own); safe to call twice. */
  stop(): Promise<void>;
}

/** For beforeAll/afterAll around startTestPostgres: tells "starting" from "broken" (test/harness/limits.js). */
export const POSTGRES_START_TIMEOUT_MS = LIMITS.postgresStartMs;

function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

function databaseFactory(adminUrl: string, created: string[]) {
  return async () => {
    const name = `ta_test_${randomBytes(6).toString('hex')}`;
    await queryRows(adminUrl, `CREATE DATABASE ${name}`);
    created.push(name);
    return databaseUrl(adminUrl, name);
  };
}

/** What a test may not do to a server others use too. */
const notOnShared = (what: string) => () => Promise.reject(new Error(`a shared PostgreSQL cannot be ${what} by the tests: ask for { restartable: true }`));

/** A server someone else runs (the variable, or the run's shared one): databases of this file's own, dropped at stop. */
function onServer(adminUrl: string): TestPostgres {
  const created: string[] = [];
  return {
    adminUrl,
    password: decodeURIComponent(new URL(adminUrl).password),
    restartable: false,
    freshDatabase: databaseFactory(adminUrl, created),
    pause: notOnShared('paused'),
    resume: notOnShared('resumed'),
    stall: notOnShared('stalled'),
    unstall: notOnShared('stalled'),
    async stop() {
      for (const name of created.splice(0)) await queryRows(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
    },
  };
}

/**
 * Starts (or connects to) the test PostgreSQL. `restartable` asks for a server of this file's own even when a
 * shared one exists, for tests that stop and start PostgreSQL under a running server.
 */
export async function startTestPostgres(options: { restartable?: boolean } = {}): Promise<TestPostgres> {
  const external = process.env.TELEMETRY_TEST_DATABASE_URL;
  if (options.restartable !== true) {
    if (external !== undefined && external !== '') return onServer(external);
    const shared = inject('postgresShared');
    if (shared !== undefined && 'error' in shared) throw new Error(shared.error);
    if (shared !== undefined) return onServer(shared.adminUrl);
  }
  return startOwn();
}

/**
 * Starts the test PostgreSQL in beforeAll and stops it (dropping its databases) in afterAll; call it at the top
 * of a file and the returned function from tests.
 */
export function usePostgres(options: { restartable?: boolean } = {}): () => TestPostgres {
  let postgres: TestPostgres | undefined;
  beforeAll(async () => {
    postgres = await startTestPostgres(options);
  }, POSTGRES_START_TIMEOUT_MS);
  afterAll(() => postgres?.stop(), POSTGRES_START_TIMEOUT_MS);
  return () => {
    if (postgres === undefined) throw new Error('usePostgres: PostgreSQL is not started yet (use it inside tests)');
    return postgres;
  };
}

/** An embedded server for this file alone, from the run's prepared binaries (or its own copy of them). */
async function startOwn(): Promise<TestPostgres> {
  const provided = inject('postgresBinaries');
  const binaries = provided ?? (await prepareBinaries());
  const removeCopy = () => (provided === undefined ? rm(binaries, { recursive: true, force: true }) : Promise.resolve());
  const server = await startEmbeddedPostgres({ binaries, timeoutMs: POSTGRES_START_TIMEOUT_MS }).catch(async (error: unknown) => {
    await removeCopy();
    throw error;
  });
  let stalled: number[] = [];
  const unstall = async () => {
    for (const pid of stalled.splice(0)) process.kill(pid, 'SIGCONT');
  };
  return {
    adminUrl: server.adminUrl,
    password: server.password,
    restartable: true,
    freshDatabase: databaseFactory(server.adminUrl, []),
    pause: () => server.stop(),
    resume: () => server.start(),
    async stall() {
      stalled = await signalPostgres(server.dataDir, 'SIGSTOP');
      return stalled;
    },
    unstall,
    async stop() {
      // A stalled server would never stop.
      await unstall();
      await server.remove();
      await removeCopy();
    },
  };
}

/** The rows of one statement on `url`, on a connection of its own (opened and closed around it). */
export async function queryRows<T extends pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}
