// Replica server processes on one PostgreSQL database, reporting to a recording endpoint: how the replica
// fault tests start them and read their status.
import { afterEach, beforeEach } from 'vitest';
import { createCliSandbox, getJson, type CliSandbox, type ServerProcess } from './cli.js';
import { startEndpoint, type TestEndpoint } from './endpoint.js';
import { usePostgres, type TestPostgres } from './postgres.js';
import { LIMITS } from '../harness/limits.js';

/** Two processes starting at once on a loaded 2-core machine take a few seconds; this tells "started" from "hung". */
export const REPLICA_START_MS = 2 * LIMITS.startMs;

/** What the replica tests read from `GET /api/telemetry`. */
export interface ReplicaStatus {
  state: string;
  session_id: string | null;
  heartbeats_sent: number;
  last_sent_by: 'self' | 'peer' | 'unknown' | null;
  last_error: string | null;
  stop_reason: string | null;
}

export const statusOf = async (server: ServerProcess) => (await getJson<ReplicaStatus>(`${server.url}/api/telemetry`)).body;

/** True while the process has neither exited nor been killed. */
export const running = (server: ServerProcess) => server.child.exitCode === null && server.child.signalCode === null;

/** The one warning line of an interval a replica skipped. */
export const SKIPPED = 'Telemetry heartbeat skipped this interval; trying again at the next one';

export interface ReplicaSettings {
  loop: number;
  timeout: number;
  /** application_name in the database URL: it shows in pg_stat_activity, so a test can tell this replica's queries apart. */
  name?: string;
  env?: Record<string, string>;
}

/** The environment of a replica server (own temp home, TELEMETRY_RETRIES=0, collector off) on `url`, reporting to `endpoint`. */
export async function replicaEnv(cli: CliSandbox, endpoint: TestEndpoint, url: string, settings: ReplicaSettings): Promise<Record<string, string>> {
  return {
    TELEMETRY_HOME: await cli.tempHome(),
    TELEMETRY_DATABASE_URL: settings.name === undefined ? url : `${url}?application_name=${settings.name}`,
    TELEMETRY_ENDPOINT: `${endpoint.origin}/api/collector`,
    TELEMETRY_LOOP_SECONDS: String(settings.loop),
    TELEMETRY_TIMEOUT_SECONDS: String(settings.timeout),
    TELEMETRY_RETRIES: '0',
    TELEMETRY_COLLECTOR: 'off',
    ...settings.env,
  };
}

/** Starts replica servers ({@link replicaEnv}) on `url`, reporting to `endpoint`. */
export function replicaStarter(cli: CliSandbox, endpoint: TestEndpoint) {
  return async (url: string, settings: ReplicaSettings): Promise<ServerProcess> =>
    cli.startServerProcess(await replicaEnv(cli, endpoint, url, settings), { timeoutMs: REPLICA_START_MS });
}

/** What a replica test file works with; filled in by the hooks of {@link useReplicaFixtures}. */
export interface ReplicaFixtures {
  postgres: TestPostgres;
  cli: CliSandbox;
  endpoint: TestEndpoint;
  start: ReturnType<typeof replicaStarter>;
}

/**
 * Registers the file's hooks: one PostgreSQL for the file (`restartable` for tests that stop it; `none` for a
 * LevelDB test), and per test a CLI sandbox and a recording endpoint, cleaned up after it.
 */
export function useReplicaFixtures(options: { postgres: 'shared' | 'restartable' | 'none' }): ReplicaFixtures {
  const postgres = options.postgres === 'none' ? undefined : usePostgres({ restartable: options.postgres === 'restartable' });
  const fixtures = {
    get postgres() {
      if (postgres === undefined) throw new Error("useReplicaFixtures: this file asked for no PostgreSQL ({ postgres: 'none' })");
      return postgres();
    },
  } as ReplicaFixtures;
  beforeEach(async () => {
    fixtures.cli = createCliSandbox();
    fixtures.endpoint = await startEndpoint();
    fixtures.start = replicaStarter(fixtures.cli, fixtures.endpoint);
  });
  afterEach(async () => {
    await fixtures.cli.cleanup();
    await fixtures.endpoint.close();
  });
  return fixtures;
}
