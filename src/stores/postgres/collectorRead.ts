// The collector's reads on PostgreSQL: one REPEATABLE READ, READ ONLY snapshot on the reader pool (never the
// writer's connection) of the lifetime counters and the day counters of a range, shards summed. Its cost is days x
// values (bounded by the cap), never sessions or history.
import type { Scope } from '../counting.js';
import type { CounterSnapshot } from '../fold.js';
import { snapshot, type Pool } from './pool.js';

const LIFETIME_SQL = 'SELECT scope, value, sum(heartbeats)::text AS heartbeats, sum(sessions)::text AS sessions FROM collector_lifetime GROUP BY 1, 2';
const DAYS_SQL = `
SELECT day - date '1970-01-01' AS day, scope, value, sum(heartbeats)::text AS heartbeats, sum(sessions_1d)::text AS s1,
       sum(sessions_7d)::text AS s7, sum(sessions_30d)::text AS s30, sum(installs)::text AS installs
  FROM collector_days WHERE day BETWEEN date '1970-01-01' + $1::int AND date '1970-01-01' + $2::int GROUP BY 1, 2, 3`;
const LAST_SQL = 'SELECT max(at) AS at FROM collector_last_seen';

interface DayResult {
  day: number;
  scope: Scope;
  value: string;
  heartbeats: string;
  s1: string;
  s7: string;
  s30: string;
  installs: string;
}

/** The counters of days from..to (inclusive) and the lifetime counters, as of one moment. */
export function readCounters(reader: Pool, from: number, to: number): Promise<CounterSnapshot> {
  // In turn on the snapshot's one connection (pg deprecates concurrent queries on one client).
  return snapshot(reader, async (client) => {
    const lifetime = await client.query<{ scope: Scope; value: string; heartbeats: string; sessions: string }>(LIFETIME_SQL);
    const days = await client.query<DayResult>(DAYS_SQL, [from, to]);
    const last = await client.query<{ at: Date | null }>(LAST_SQL);
    return {
      lifetime: lifetime.rows.map((r) => ({ scope: r.scope, value: r.value, heartbeats: Number(r.heartbeats), sessions: Number(r.sessions) })),
      days: days.rows.map((r) => ({
        day: r.day, scope: r.scope, value: r.value, heartbeats: Number(r.heartbeats),
        sessions1d: Number(r.s1), sessions7d: Number(r.s7), sessions30d: Number(r.s30), installs: Number(r.installs),
      })),
      lastHeartbeatAt: last.rows[0]?.at?.toISOString() ?? null,
    };
  });
}
