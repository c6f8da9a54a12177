// The collector's counts in PostgreSQL: one counter row per dimension and value, upserted per batch, so
// any number of collector processes share exact totals and no heartbeat rewrites a summary.
import { randomInt } from 'node:crypto';
import { StoreUnavailableError } from '../../errors.js';
import type { Heartbeat } from '../../heartbeat.js';
import type { Logger } from '../../logger.js';
import { DIMENSIONS, countKey, dayOf, foldCounts, lastDays, DAYS_SHOWN, type LegacyCollectorStats } from '../stats.js';
import type { CollectorStore, PendingHeartbeat as Pending } from '../types.js';
import { createGroupCommit } from '../groupCommit.js';
import { describePgError, isUnavailable, type Pool } from './pool.js';

/** Counter rows per value: processes write different ones, so they do not queue on one hot row. */
const SHARDS = 64;

// Two processes upserting the same counters may still deadlock (PostgreSQL then aborts one): try again.
const MAX_ATTEMPTS = 3;
const TOTAL = 'total';


type Counter = Map<string, number>;

function add(counter: Counter, key: string, n = 1): void {
  counter.set(key, (counter.get(key) ?? 0) + n);
}

// `\u0000` cannot occur in a PostgreSQL text value, so it separates the key parts unambiguously.
const SEP = '\u0000';

/** Sorted so every process takes the row locks in the same order, which keeps deadlocks rare. */
function columns(counter: Counter): string[][] {
  const keys = [...counter.keys()].sort();
  const parts = keys.map((k) => k.split(SEP));
  const width = parts[0]?.length ?? 0;
  const cols = Array.from({ length: width }, (_, i) => parts.map((p) => p[i] ?? ''));
  return [...cols, keys.map((k) => String(counter.get(k)))];
}

// One statement, so one round trip and one implicit transaction per batch: the counters, the new sessions
// (overall and per day, counted from what the inserts RETURNING), and the last time. Every INSERT takes its
// rows in sorted order, so two processes writing the same counters lock them in the same order.
const COMMIT_SQL = `
WITH new_sessions AS (
  INSERT INTO collector_sessions (session_id, first_seen)
    SELECT id, $1::timestamptz FROM unnest($2::text[]) AS id ORDER BY 1
  ON CONFLICT DO NOTHING RETURNING 1
), new_day_sessions AS (
  INSERT INTO collector_daily_sessions (day, session_id)
    SELECT * FROM unnest($3::date[], $4::text[]) ORDER BY 1, 2
  ON CONFLICT DO NOTHING RETURNING day
), counters AS (
  INSERT INTO collector_counters AS c (dimension, value, shard, n)
    SELECT dimension, value, $13::smallint, sum(n) FROM (
      SELECT * FROM unnest($5::text[], $6::text[], $7::bigint[]) AS t(dimension, value, n)
      UNION ALL SELECT 'total', 'sessions', count(*) FROM new_sessions
    ) AS t GROUP BY dimension, value HAVING sum(n) > 0 ORDER BY 1, 2
  ON CONFLICT (dimension, value, shard) DO UPDATE SET n = c.n + excluded.n RETURNING 1
), daily AS (
  INSERT INTO collector_daily AS c (day, dimension, value, shard, n)
    SELECT day, dimension, value, $13::smallint, sum(n) FROM (
      SELECT * FROM unnest($8::date[], $9::text[], $10::text[], $11::bigint[]) AS t(day, dimension, value, n)
      UNION ALL SELECT day, 'sessions', '', count(*) FROM new_day_sessions GROUP BY day
    ) AS t GROUP BY day, dimension, value ORDER BY 1, 2, 3
  ON CONFLICT (day, dimension, value, shard) DO UPDATE SET n = c.n + excluded.n RETURNING 1
)
INSERT INTO collector_last AS l (id, at) VALUES (1, $12) ON CONFLICT (id) DO UPDATE SET at = GREATEST(l.at, excluded.at)`;

/** The parameters of COMMIT_SQL for one group. */
function commitParams(group: Pending[], shard: number): unknown[] {
  const totals: Counter = new Map();
  const daily: Counter = new Map();
  add(totals, `${TOTAL}${SEP}heartbeats`, group.length);
  const sessions = new Set<string>();
  const daySessions = new Set<string>();
  for (const p of group) {
    const payload = p.heartbeat.payload as unknown as Record<string, unknown>;
    for (const [, field] of DIMENSIONS) add(totals, `${field}${SEP}${countKey(payload[field])}`);
    const day = dayOf(p.receivedAt);
    add(daily, `${day}${SEP}heartbeats${SEP}`);
    add(daily, `${day}${SEP}server_version${SEP}${countKey(payload.server_version)}`);
    const id = p.heartbeat.payload.session_id.toLowerCase();
    sessions.add(id);
    daySessions.add(`${day}${SEP}${id}`);
  }
  const times = group.map((p) => p.receivedAt.getTime());
  const [days = [], ids = []] = columns(new Map([...daySessions].map((k) => [k, 0]))).slice(0, 2);
  return [new Date(Math.min(...times)), [...sessions], days, ids, ...columns(totals), ...columns(daily), new Date(Math.max(...times)), shard];
}

function isDeadlock(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === '40P01' || code === '40001';
}

/** Opens the collector's store on the pool: every process writes the same rows, so any number may run. */
export function openPostgresCollectorStore(pool: Pool, url: string, logger?: Logger): CollectorStore {
  // Each process adds to its own row of every counter, so collectors never wait on each other's row locks;
  // the stats add the shards up. Two processes drawing the same shard only share locks, never lose counts.
  const shard = randomInt(SHARDS);

  async function commit(group: Pending[]): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return void (await pool.query(COMMIT_SQL, commitParams(group, shard)));
      } catch (error) {
        if (isDeadlock(error) && attempt < MAX_ATTEMPTS) continue;
        if (isUnavailable(error)) throw new StoreUnavailableError(`PostgreSQL is unavailable: ${describePgError(error, url)}`, { cause: error });
        throw error;
      }
    }
  }

  return {
    // Each heartbeat is answered only once the transaction holding it has committed.
    record: createGroupCommit({ commit }),
    async stats() {
      try {
        return await readStats(pool);
      } catch (error) {
        if (!isUnavailable(error)) throw error;
        logger?.warn({ reason: describePgError(error, url) }, 'Collector stats unavailable');
        throw new StoreUnavailableError(`PostgreSQL is unavailable: ${describePgError(error, url)}`, { cause: error });
      }
    },
  };
}

async function readStats(pool: Pool): Promise<LegacyCollectorStats> {
  const [counters, last, daily] = await Promise.all([
    pool.query<{ dimension: string; value: string; n: string }>('SELECT dimension, value, sum(n) AS n FROM collector_counters GROUP BY 1, 2'),
    pool.query<{ at: Date }>('SELECT at FROM collector_last WHERE id = 1'),
    pool.query<{ day: string; dimension: string; value: string; n: string }>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, dimension, value, sum(n) AS n FROM collector_daily
         WHERE day > (SELECT max(day) FROM collector_daily) - $1::int GROUP BY 1, 2, 3`,
      [DAYS_SHOWN],
    ),
  ]);
  const by = new Map<string, Array<[string, number]>>();
  for (const row of counters.rows) by.set(row.dimension, [...(by.get(row.dimension) ?? []), [row.value, Number(row.n)]]);
  const total = new Map(by.get(TOTAL) ?? []);
  const heartbeatsByDay = new Map<string, number>();
  const sessionsByDay = new Map<string, number>();
  const versionsByDay = new Map<string, Record<string, number>>();
  for (const row of daily.rows) {
    const n = Number(row.n);
    if (row.dimension === 'heartbeats') heartbeatsByDay.set(row.day, n);
    else if (row.dimension === 'sessions') sessionsByDay.set(row.day, n);
    else versionsByDay.set(row.day, { ...versionsByDay.get(row.day), [row.value]: n });
  }
  return {
    heartbeats_total: total.get('heartbeats') ?? 0,
    sessions_total: total.get('sessions') ?? 0,
    ...(Object.fromEntries(DIMENSIONS.map(([stat, field]) => [stat, foldCounts(by.get(field) ?? [])])) as Pick<
      LegacyCollectorStats,
      'by_server_version' | 'by_platform' | 'by_environment'
    >),
    last_heartbeat_at: last.rows[0]?.at.toISOString() ?? null,
    heartbeats_by_day: lastDays(heartbeatsByDay),
    sessions_by_day: lastDays(sessionsByDay),
    versions_by_day: lastDays(new Map([...versionsByDay].map(([day, v]) => [day, foldCounts(Object.entries(v))]))),
  };
}
