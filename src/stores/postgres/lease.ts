// The heartbeat lease in PostgreSQL: one row naming the replica that sends, so replicas send one heartbeat between them.
import { StoreUnavailableError } from '../../errors.js';
import { SESSION_KEY, toStoredSession } from '../session.js';
import type { HeartbeatLease } from '../types.js';
import { describePgError, type Pool } from './pool.js';

// One statement, one round trip: the upsert takes the lease for the holder, or for anyone once the last
// heartbeat is older than the stale window the *holder* recorded (a row without one: the claimant's); the
// row lock decides between replicas claiming together. Then what the row says, and the session stored now.
const CLAIM = `
WITH claim AS (
  INSERT INTO heartbeat_lease AS l (id, holder, last_sent_at, loop_ms, stale_ms) VALUES (1, $1, now(), $2, $3)
  ON CONFLICT (id) DO UPDATE
    SET holder = excluded.holder, last_sent_at = excluded.last_sent_at, loop_ms = excluded.loop_ms, stale_ms = excluded.stale_ms
    WHERE l.holder = excluded.holder
       OR l.last_sent_at <= now() - make_interval(secs => coalesce(l.stale_ms, excluded.stale_ms)::double precision / 1000)
  RETURNING holder
), found AS (
  SELECT true AS claimed, 0::double precision AS age_ms, $2::integer AS loop_ms, $3::integer AS stale_ms FROM claim
  UNION ALL
  SELECT false, extract(epoch FROM now() - last_sent_at) * 1000, loop_ms, stale_ms FROM heartbeat_lease
    WHERE id = 1 AND NOT EXISTS (SELECT 1 FROM claim)
)
SELECT found.claimed, found.age_ms, found.loop_ms, found.stale_ms,
       (SELECT value FROM configuration WHERE key = $4) AS session
  FROM (SELECT 1) AS one LEFT JOIN found ON true`;

interface ClaimRow {
  claimed: boolean | null;
  age_ms: number | null;
  loop_ms: number | null;
  stale_ms: number | null;
  session: unknown;
}

/**
 * The lease over table `heartbeat_lease`. A claim succeeds for the holder, or for anyone once the holder has
 * been silent for longer than its own stale window; of replicas claiming together exactly one wins. Ages are
 * measured on PostgreSQL's clock, so replicas whose clocks differ still agree.
 */
export function createPostgresLease(pool: () => Pool, url: string): HeartbeatLease {
  return {
    async claim({ holder, loopMs, staleMs, signal }) {
      signal?.throwIfAborted();
      const { rows } = await pool()
        .query<ClaimRow>(CLAIM, [holder, Math.round(loopMs), Math.round(staleMs), SESSION_KEY])
        .catch((error: unknown) => {
          // The telemetry actor logs this reason: it must be short and hold no password.
          throw new StoreUnavailableError(`heartbeat lease unavailable: ${describePgError(error, url)}`, { cause: error });
        });
      // No lease row at all: a peer inserted it after this statement's snapshot was taken, so it has just sent.
      const row = rows[0];
      return {
        claimed: row?.claimed === true,
        ageMs: Math.max(0, Math.round(Number(row?.age_ms ?? 0))),
        loopMs: row?.loop_ms ?? undefined,
        staleMs: row?.stale_ms ?? undefined,
        session: await toStoredSession(row?.session),
      };
    },
  };
}
