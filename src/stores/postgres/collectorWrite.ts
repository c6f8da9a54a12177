// The collector's writes on PostgreSQL. The steady state is sessions whose sighting this process has counted
// already: then a group is ONE statement (its keys inserted optimistically, its counters aggregated in memory and
// upserted into this process's shard, its last time into the shard's row), aborted by the keys' unique index when
// any key was counted before. Otherwise, one short transaction: keys inserted first (a key another process is writing is
// waited for), the taken ones classified, session records locked in id order and rewritten, counters upserted.
import { classifyKeys, toCount, type RecordResult } from '../admission.js';
import type { CountedHeartbeat } from '../counting.js';
import { countGroup, createSightingCache, type CountedGroup, type GroupIO } from '../groupCounts.js';
import { SIGHTINGS_CACHE } from '../lru.js';
import { decodeSessionState, encodeSessionState, type SessionState } from '../sessionState.js';
import { transaction, type Pool, type PoolClient } from './pool.js';
import type { ValueCache } from './values.js';

// Two transactions touching the same rows may still deadlock (PostgreSQL aborts one): try again.
const MAX_ATTEMPTS = 3;

const COUNTER_CTES = `
lifetime AS (
  INSERT INTO collector_lifetime AS c (scope, value, shard, heartbeats, sessions)
    SELECT scope, value, $1::smallint, h, s FROM unnest($3::text[], $4::text[], $5::bigint[], $6::bigint[]) AS t(scope, value, h, s) ORDER BY 1, 2
  ON CONFLICT (scope, value, shard) DO UPDATE SET heartbeats = c.heartbeats + excluded.heartbeats, sessions = c.sessions + excluded.sessions
), days AS (
  INSERT INTO collector_days AS c (day, scope, value, shard, heartbeats, sessions_1d, sessions_7d, sessions_30d, installs)
    SELECT date '1970-01-01' + d, scope, value, $1::smallint, h, s1, s7, s30, i
      FROM unnest($7::int[], $8::text[], $9::text[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[]) AS t(d, scope, value, h, s1, s7, s30, i)
      ORDER BY 1, 2, 3
  ON CONFLICT (day, scope, value, shard) DO UPDATE SET heartbeats = c.heartbeats + excluded.heartbeats,
    sessions_1d = c.sessions_1d + excluded.sessions_1d, sessions_7d = c.sessions_7d + excluded.sessions_7d,
    sessions_30d = c.sessions_30d + excluded.sessions_30d, installs = c.installs + excluded.installs
), last AS (
  INSERT INTO collector_last_seen AS l (shard, at) VALUES ($1::smallint, $2::timestamptz) ON CONFLICT (shard) DO UPDATE SET at = GREATEST(l.at, excluded.at)
)`;

/**
 * The fast path: keys and counters in one statement. The keys go in by a plain INSERT (no ON CONFLICT: its
 * speculative insertion costs PostgreSQL about a third more per key), so a key counted before aborts the whole
 * statement with a unique violation on collector_keys_pkey, and the group takes the transaction instead. They
 * carry the group's time ($2, its latest heartbeat's): kept a few milliseconds longer, never shorter.
 */
const FAST_SQL = `
WITH new_keys AS (
  INSERT INTO collector_keys (key, fingerprint, counted_at) SELECT k, f, $2::timestamptz FROM unnest($15::text[], $16::text[]) AS t(k, f) ORDER BY 1
), ${COUNTER_CTES}
SELECT 1`;
const KEYS_PKEY = 'collector_keys_pkey';

const COUNTERS_SQL = `WITH ${COUNTER_CTES} SELECT 1`;

const INSERT_KEYS_SQL = `INSERT INTO collector_keys (key, fingerprint, counted_at) SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[]) ORDER BY 1
  ON CONFLICT DO NOTHING RETURNING key`;

// Locks each record in id order, creating an empty one for a new session (so two processes never both count a
// session as new): ON CONFLICT DO UPDATE locks the rows that exist, in the order given.
const LOCK_STATES_SQL = `INSERT INTO collector_session_states AS s (session_id, state, last_day)
    SELECT id, '', date '1970-01-01' FROM unnest($1::text[]) AS id ORDER BY 1
  ON CONFLICT (session_id) DO UPDATE SET state = s.state RETURNING session_id, state`;

const WRITE_STATES_SQL = `UPDATE collector_session_states AS s SET state = t.state, last_day = date '1970-01-01' + t.last
  FROM unnest($1::text[], $2::text[], $3::int[]) AS t(id, state, last) WHERE s.session_id = t.id`;

/** Thrown by readStates in the fast path: some sighting is not known, the group needs its session records. */
const NEEDS_SESSIONS = Symbol('needs sessions');

/** The counter parameters ($1..$14) of a counted group. */
function counterParams(shard: number, group: readonly CountedHeartbeat[], counted: CountedGroup): unknown[] {
  const lastAt = new Date(group.reduce((max, h) => Math.max(max, h.receivedAt.getTime()), 0));
  const life = counted.counts.lifetimeRows();
  const days = counted.counts.dayRows();
  const col = <T, K extends keyof T>(rows: T[], key: K) => rows.map((r) => r[key]);
  return [
    shard, lastAt, col(life, 'scope'), col(life, 'value'), col(life, 'heartbeats'), col(life, 'sessions'),
    col(days, 'day'), col(days, 'scope'), col(days, 'value'), col(days, 'heartbeats'), col(days, 'sessions1d'), col(days, 'sessions7d'), col(days, 'sessions30d'), col(days, 'installs'),
  ];
}

const keyColumns = (keyed: readonly CountedHeartbeat[]) => [keyed.map((h) => h.idempotency!.key), keyed.map((h) => h.idempotency!.fingerprint), keyed.map((h) => h.receivedAt)];
const hasNul = (h: CountedHeartbeat) => [h.sessionId, h.idempotency?.key ?? '', ...Object.values(h.values)].some((text) => text.includes('\u0000'));
const retryable = (error: unknown) => ['40P01', '40001'].includes((error as { code?: unknown })?.code as string);

export interface WriterOptions {
  writer: Pool;
  shard: number;
  values: ValueCache;
}

export function createPostgresWriter(options: WriterOptions) {
  const { writer, shard, values } = options;
  const sightings = createSightingCache(SIGHTINGS_CACHE);

  const io = (readStates: GroupIO['readStates']): GroupIO => ({ cap: values.cap, known: sightings.known, readStates });

  /** Remembered only once committed: a sighting this process vouches for is on disk. */
  function acknowledge(counted: CountedGroup): void {
    sightings.remember(counted.sightings);
  }

  /** One statement, when every sighting is known; false when the group needs the transaction instead. */
  async function fast(group: readonly CountedHeartbeat[]): Promise<boolean> {
    let counted: CountedGroup;
    try {
      counted = await countGroup(group, io(() => Promise.reject(NEEDS_SESSIONS)));
    } catch (error) {
      if (error === NEEDS_SESSIONS) return false;
      throw error;
    }
    const keyed = group.filter((h) => h.idempotency !== undefined);
    try {
      // Named: PostgreSQL parses and plans it once per connection, not once per group.
      await writer.query({ name: 'collector_fast', text: FAST_SQL, values: [...counterParams(shard, group, counted), keyed.map((h) => h.idempotency!.key), keyed.map((h) => h.idempotency!.fingerprint)] });
    } catch (error) {
      const { code, constraint } = error as { code?: unknown; constraint?: unknown };
      if (code === '23505' && constraint === KEYS_PKEY) return false;
      throw error;
    }
    acknowledge(counted);
    return true;
  }

  async function lockStates(client: PoolClient, ids: string[]): Promise<Map<string, SessionState | undefined>> {
    const { rows } = await client.query<{ session_id: string; state: string }>(LOCK_STATES_SQL, [[...ids].sort()]);
    return new Map(rows.map((r) => [r.session_id, r.state === '' ? undefined : decodeSessionState(r.state)]));
  }

  /** The transaction: keys first, then what is left is counted with its session records locked. */
  async function slow(candidates: readonly CountedHeartbeat[]): Promise<RecordResult[]> {
    const { results, counted, counting } = await transaction(writer, async (client) => {
      const keyed = candidates.filter((h) => h.idempotency !== undefined);
      const inserted = keyed.length === 0 ? [] : (await client.query<{ key: string }>(INSERT_KEYS_SQL, keyColumns(keyed))).rows.map((r) => r.key);
      const mine = new Set(inserted);
      const taken = keyed.map((h) => h.idempotency!.key).filter((key) => !mine.has(key));
      const stored = new Map<string, string>();
      if (taken.length > 0) {
        const { rows } = await client.query<{ key: string; fingerprint: string }>('SELECT key, fingerprint FROM collector_keys WHERE key = ANY($1::text[])', [taken]);
        for (const row of rows) stored.set(row.key, row.fingerprint);
      }
      const classified = classifyKeys(candidates, (key) => stored.get(key));
      const counting = toCount(candidates, classified);
      if (counting.length === 0) return { results: classified, counted: undefined, counting };
      const group = await countGroup(counting, io((ids) => lockStates(client, ids)));
      await client.query(COUNTERS_SQL, counterParams(shard, counting, group));
      const states = [...group.states];
      if (states.length > 0) await client.query(WRITE_STATES_SQL, [states.map(([id]) => id), states.map(([, s]) => encodeSessionState(s)), states.map(([, s]) => s.total.last)]);
      return { results: classified, counted: group, counting };
    });
    if (counted !== undefined) acknowledge(counted);
    return results;
  }

  /** Counts a group exactly once per key; each entry's result in order. */
  async function commit(group: readonly CountedHeartbeat[]): Promise<RecordResult[]> {
    // No cache of recent keys: the keys' primary key tells a retry in the fast path itself (it aborts, and the
    // transaction classifies it). Remembering every key to spare that rare transaction cost every heartbeat an
    // entry in a 100k-entry map, and the garbage collector the old generation it fills.
    const stored = () => undefined;
    // PostgreSQL text cannot hold U+0000: such an entry (the edge refuses it) fails alone, never its group.
    const results: RecordResult[] = classifyKeys(group, stored).map((r, i) => (hasNul(group[i]!) ? new TypeError('a value holds U+0000, which PostgreSQL text cannot store') : r));
    const candidates = toCount(group, results);
    if (candidates.length === 0) return results;
    await values.admit(candidates);
    for (let attempt = 1; ; attempt += 1) {
      try {
        if (await fast(candidates)) return results;
        const late = await slow(candidates);
        let next = 0;
        return results.map((r) => (r === 'counted' ? (late[next++] as RecordResult) : r));
      } catch (error) {
        if (!retryable(error) || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }

  return { commit };
}
