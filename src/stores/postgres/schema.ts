// The PostgreSQL schema: created at open, idempotent, versioned, serialised between replicas by an advisory lock.
import type pg from 'pg';
import { collectorRedesign, type MigrationQuery } from './collectorSchema.js';
import type { Pool } from './pool.js';
import { transaction } from './pool.js';

/** The limit on waiting for the schema lock and on one migration statement (ingest statements have STATEMENT_TIMEOUT_MS). */
export const MIGRATION_TIMEOUT_MS = 60_000;

/** The advisory lock key every replica takes while it creates or migrates the schema ("telemetr" in ASCII). */
export const SCHEMA_LOCK_KEY = 0x74656c656d657472n;

/** One step of the schema: SQL, or a function for a step that carries data over. */
export type Migration = string | ((query: MigrationQuery) => Promise<void>);

/** Migrations in order; index + 1 is the version they bring the schema to. Append only. */
export const MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE configuration (
     key text PRIMARY KEY,
     value jsonb NOT NULL,
     updated_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE TABLE heartbeat_lease (
     id smallint PRIMARY KEY CHECK (id = 1),
     holder text NOT NULL,
     last_sent_at timestamptz NOT NULL
   );
   CREATE TABLE collector_counters (
     dimension text NOT NULL,
     value text NOT NULL,
     shard smallint NOT NULL,
     n bigint NOT NULL,
     PRIMARY KEY (dimension, value, shard)
   );
   CREATE TABLE collector_sessions (
     session_id text PRIMARY KEY,
     first_seen timestamptz NOT NULL
   );
   CREATE TABLE collector_daily (
     day date NOT NULL,
     dimension text NOT NULL,
     value text NOT NULL,
     shard smallint NOT NULL,
     n bigint NOT NULL,
     PRIMARY KEY (day, dimension, value, shard)
   );
   CREATE TABLE collector_daily_sessions (
     day date NOT NULL,
     session_id text NOT NULL,
     PRIMARY KEY (day, session_id)
   );
   CREATE TABLE collector_last (
     id smallint PRIMARY KEY CHECK (id = 1),
     at timestamptz NOT NULL
   );`,
  // 2: the lease row records its holder's interval and stale window, so peers judge staleness by the holder's
  // settings, not their own. NULL (a row written by version 1) means "not recorded": peers use their own.
  `ALTER TABLE heartbeat_lease ADD COLUMN loop_ms integer, ADD COLUMN stale_ms integer;`,
  // 3: the collector redesign: see collectorSchema.ts.
  collectorRedesign,
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the schema to SCHEMA_VERSION. Replicas starting at the same instant queue on the advisory lock
 * (released with the transaction), so exactly one creates the tables and the others find them made.
 * @returns the version found before, 0 for a new database.
 */
export async function migrate(pool: Pool): Promise<number> {
  return transaction(pool, async (client) => {
    // Waiting for the replica that migrates, and a migration itself, may take longer than an ingest statement.
    const query = <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => {
      const config: pg.QueryConfig & { query_timeout: number } = { text, values, query_timeout: MIGRATION_TIMEOUT_MS };
      return client.query<R>(config);
    };
    await query(`SET LOCAL statement_timeout = ${MIGRATION_TIMEOUT_MS}`);
    await query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_KEY.toString()]);
    await query('CREATE TABLE IF NOT EXISTS telemetry_schema_version (version integer NOT NULL)');
    const { rows } = await query<{ version: number | null }>('SELECT max(version) AS version FROM telemetry_schema_version');
    const found = rows[0]?.version ?? 0;
    if (found > SCHEMA_VERSION) {
      throw new Error(`the database schema is version ${found}, newer than this build's ${SCHEMA_VERSION}; upgrade telemetry-actor`);
    }
    for (let version = found + 1; version <= SCHEMA_VERSION; version += 1) {
      const migration = MIGRATIONS[version - 1] as Migration;
      await (typeof migration === 'string' ? query(migration) : migration(query));
      await query('INSERT INTO telemetry_schema_version (version) VALUES ($1)', [version]);
    }
    return found;
  });
}

/** True when the schema has been created (so a read-only command has something to read). */
export async function schemaExists(pool: Pool): Promise<boolean> {
  const { rows } = await pool.query<{ present: boolean }>("SELECT to_regclass('configuration') IS NOT NULL AS present");
  return rows[0]?.present === true;
}
