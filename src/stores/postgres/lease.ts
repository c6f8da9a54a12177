// The heartbeat lease in PostgreSQL: one row naming the replica that sends, so replicas send one heartbeat between them.
import { StoreUnavailableError } from '../../errors.js';
import type { HeartbeatLease } from '../types.js';
import { describePgError, type Pool } from './pool.js';

/**
 * The lease over table `heartbeat_lease`. A claim succeeds for the holder, or for anyone once the last
 * heartbeat is older than staleMs; the upsert locks the row, so of replicas claiming together exactly one wins.
 * Ages are measured on PostgreSQL's clock, so replicas whose clocks differ still agree.
 */
export function createPostgresLease(pool: () => Pool, url: string): HeartbeatLease {
  return {
    async claim({ holder, staleMs, signal }) {
      signal?.throwIfAborted();
      const { rows } = await pool()
        .query<{ claimed: boolean; age_ms: number }>(
        `WITH claim AS (
           INSERT INTO heartbeat_lease AS l (id, holder, last_sent_at) VALUES (1, $1, now())
           ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, last_sent_at = excluded.last_sent_at
             WHERE l.holder = excluded.holder OR l.last_sent_at <= now() - make_interval(secs => $2::double precision / 1000)
           RETURNING holder
         )
         SELECT true AS claimed, 0::double precision AS age_ms FROM claim
         UNION ALL
         SELECT false AS claimed, extract(epoch FROM now() - last_sent_at) * 1000 AS age_ms FROM heartbeat_lease
           WHERE id = 1 AND NOT EXISTS (SELECT 1 FROM claim)`,
        [holder, staleMs],
        )
        .catch((error: unknown) => {
          // The telemetry actor logs this reason: it must be short and hold no password.
          throw new StoreUnavailableError(`heartbeat lease unavailable: ${describePgError(error, url)}`, { cause: error });
        });
      // No row at all: a peer inserted it after this statement's snapshot was taken, so it has just sent.
      const row = rows[0] ?? { claimed: false, age_ms: 0 };
      return { claimed: row.claimed, ageMs: Math.max(0, Number(row.age_ms)) };
    },
  };
}
