// Retention on PostgreSQL: day counters older than TELEMETRY_RETENTION_DAYS, session records last seen before
// that, and idempotency keys older than TELEMETRY_IDEMPOTENCY_HOURS are deleted PURGE_BATCH rows per statement,
// by one process at a time (an advisory lock; a process finding it taken skips this run). Lifetime totals stay.
import { dayNumber } from '../presence.js';
import { watchCheckedOut, type Pool, type PoolClient } from './pool.js';

/** Rows deleted per statement: each is short, so ingest never waits long on the rows it locks. */
export const PURGE_BATCH = 1_000;
/** The advisory lock of the purge ("tpur"). */
const PURGE_LOCK = 0x74707572;
const HOUR_MS = 3_600_000;

/** Deletes the rows of `table` that `where` picks, PURGE_BATCH at a time; returns how many. */
async function deleteBatches(client: PoolClient, table: string, where: string, params: unknown[]): Promise<number> {
  let deleted = 0;
  for (;;) {
    const { rowCount } = await client.query(`DELETE FROM ${table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${table} WHERE ${where} LIMIT ${PURGE_BATCH}))`, params);
    deleted += rowCount ?? 0;
    if ((rowCount ?? 0) < PURGE_BATCH) return deleted;
  }
}

export function createPostgresPurge(options: { main: Pool; retentionDays: number; idempotencyHours: number }) {
  return async function purge(now: Date): Promise<{ deleted: number }> {
    const client = await options.main.connect();
    const watch = watchCheckedOut(client);
    let failure: unknown;
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [PURGE_LOCK]);
      if (rows[0]?.locked !== true) return { deleted: 0 };
      try {
        const cutoff = dayNumber(now) - options.retentionDays;
        let deleted = await deleteBatches(client, 'collector_days', `day <= date '1970-01-01' + $1::int`, [cutoff]);
        deleted += await deleteBatches(client, 'collector_session_states', `last_day <= date '1970-01-01' + $1::int`, [cutoff]);
        deleted += await deleteBatches(client, 'collector_keys', 'counted_at < $1', [new Date(now.getTime() - options.idempotencyHours * HOUR_MS)]);
        return { deleted };
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [PURGE_LOCK]);
      }
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      // A connection that failed mid-purge is dropped: it may still hold the lock until PostgreSQL notices.
      watch.done();
      client.release(watch.lost() ?? (failure instanceof Error ? failure : undefined));
    }
  };
}
