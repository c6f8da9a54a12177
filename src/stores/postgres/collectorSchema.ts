// Migration #3, the collector redesign: counters by scope and value (lifetime and per day, sharded per process),
// one record per session, the admitted values (the cap), idempotency keys and a last-seen time per shard; the
// data of the first schema carried over by the rule every backend's migration shares (legacyCounts.ts).
import type pg from 'pg';
import { DIMENSIONS, type Dimension } from '../counting.js';
import { createLegacyCounts, type LegacyCounts } from '../legacyCounts.js';
import { encodeSessionState } from '../sessionState.js';

/** A query on the migrating connection (with the migration's own timeouts). */
export type MigrationQuery = <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<pg.QueryResult<R>>;

const TABLES = `
  CREATE TABLE collector_lifetime (
    scope text NOT NULL,
    value text NOT NULL,
    shard smallint NOT NULL,
    heartbeats bigint NOT NULL,
    sessions bigint NOT NULL,
    PRIMARY KEY (scope, value, shard)
  );
  CREATE TABLE collector_days (
    day date NOT NULL,
    scope text NOT NULL,
    value text NOT NULL,
    shard smallint NOT NULL,
    heartbeats bigint NOT NULL,
    sessions_1d bigint NOT NULL,
    sessions_7d bigint NOT NULL,
    sessions_30d bigint NOT NULL,
    installs bigint NOT NULL,
    PRIMARY KEY (day, scope, value, shard)
  );
  CREATE TABLE collector_session_states (
    session_id text PRIMARY KEY,
    state text NOT NULL,
    last_day date NOT NULL
  );
  CREATE INDEX collector_session_states_last_day ON collector_session_states (last_day);
  CREATE TABLE collector_values (
    scope text NOT NULL,
    value text NOT NULL,
    PRIMARY KEY (scope, value)
  );
  CREATE TABLE collector_keys (
    key text PRIMARY KEY,
    fingerprint text NOT NULL,
    counted_at timestamptz NOT NULL
  );
  CREATE INDEX collector_keys_counted_at ON collector_keys (counted_at);
  CREATE TABLE collector_last_seen (
    shard smallint PRIMARY KEY,
    at timestamptz NOT NULL
  );`;

const DROP_OLD = `DROP TABLE collector_counters, collector_sessions, collector_daily, collector_daily_sessions, collector_last;`;

/** Sessions read per query while carrying them over, so no statement reads a whole large table at once. */
const SESSION_PAGE = 5_000;

const count = (text: string | null): number => Number(text ?? 0);

/** The old counters into `legacy`. */
async function readCounters(query: MigrationQuery, legacy: LegacyCounts): Promise<void> {
  const totals = { heartbeats: 0, sessions: 0 };
  const lifetime = await query<{ dimension: string; value: string; n: string }>('SELECT dimension, value, sum(n)::text AS n FROM collector_counters GROUP BY 1, 2');
  for (const { dimension, value, n } of lifetime.rows) {
    if (dimension === 'total' && (value === 'heartbeats' || value === 'sessions')) totals[value] += count(n);
    else if ((DIMENSIONS as readonly string[]).includes(dimension)) legacy.lifetime(dimension as Dimension, value, count(n));
  }
  legacy.totals(totals.heartbeats, totals.sessions);
  const days = await query<{ day: number; dimension: string; value: string; n: string }>(
    `SELECT day - date '1970-01-01' AS day, dimension, value, sum(n)::text AS n FROM collector_daily GROUP BY 1, 2, 3`,
  );
  // A day's sessions are recounted from the session days, with the week and the month.
  for (const { day, dimension, value, n } of days.rows) {
    if (dimension === 'heartbeats') legacy.day(day, 'total', '', count(n));
    else if (dimension === 'server_version') legacy.day(day, 'server_version', value, count(n));
  }
}

/** Each session's record, from its first sighting and its days, written page by page. */
async function carrySessions(query: MigrationQuery, legacy: LegacyCounts): Promise<void> {
  for (let after = ''; ; ) {
    const { rows } = await query<{ session_id: string; first: number; days: number[] }>(
      `SELECT s.session_id, (s.first_seen AT TIME ZONE 'UTC')::date - date '1970-01-01' AS first,
              coalesce(array_agg(d.day - date '1970-01-01' ORDER BY d.day) FILTER (WHERE d.day IS NOT NULL), '{}') AS days
         FROM collector_sessions s LEFT JOIN collector_daily_sessions d USING (session_id)
        WHERE s.session_id > $1 GROUP BY s.session_id, s.first_seen ORDER BY s.session_id LIMIT ${SESSION_PAGE}`,
      [after],
    );
    const states = rows.map((row) => ({ id: row.session_id, state: legacy.session(row.first, row.days) }));
    const kept = states.filter((s) => s.state !== undefined);
    await query(
      `INSERT INTO collector_session_states (session_id, state, last_day)
         SELECT id, state, date '1970-01-01' + last FROM unnest($1::text[], $2::text[], $3::int[]) AS t(id, state, last)`,
      [kept.map((s) => s.id), kept.map((s) => encodeSessionState(s.state!)), kept.map((s) => s.state!.total.last)],
    );
    if (rows.length < SESSION_PAGE) return;
    after = rows[rows.length - 1]!.session_id;
  }
}

/** The carried-over counters, the admitted values and the last time, as shard 0. */
async function writeCounters(query: MigrationQuery, legacy: LegacyCounts): Promise<void> {
  const { lifetime, days, admitted } = legacy.result();
  await query(
    `INSERT INTO collector_lifetime (scope, value, shard, heartbeats, sessions) SELECT scope, value, 0, h, s FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS t(scope, value, h, s)`,
    [lifetime.map((r) => r.scope), lifetime.map((r) => r.value), lifetime.map((r) => r.heartbeats), lifetime.map((r) => r.sessions)],
  );
  const column = <K extends keyof (typeof days)[number]>(key: K) => days.map((r) => r[key]);
  await query(
    `INSERT INTO collector_days (day, scope, value, shard, heartbeats, sessions_1d, sessions_7d, sessions_30d, installs)
       SELECT date '1970-01-01' + d, scope, value, 0, h, s1, s7, s30, i
         FROM unnest($1::int[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[]) AS t(d, scope, value, h, s1, s7, s30, i)`,
    [column('day'), column('scope'), column('value'), column('heartbeats'), column('sessions1d'), column('sessions7d'), column('sessions30d'), column('installs')],
  );
  const values = [...admitted].flatMap(([scope, set]) => [...set].map((value) => [scope, value]));
  await query('INSERT INTO collector_values (scope, value) SELECT * FROM unnest($1::text[], $2::text[])', [values.map((v) => v[0]), values.map((v) => v[1])]);
  await query('INSERT INTO collector_last_seen (shard, at) SELECT 0, at FROM collector_last');
}

/** Migration #3: the new tables, the first schema's collector data carried over, its tables dropped. */
export async function collectorRedesign(query: MigrationQuery): Promise<void> {
  await query(TABLES);
  const legacy = createLegacyCounts();
  await readCounters(query, legacy);
  await carrySessions(query, legacy);
  await writeCounters(query, legacy);
  await query(DROP_OLD);
}
