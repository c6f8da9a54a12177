// The collector store's seam: durable idempotency, distinct-session analytics, the cap, retention and the
// privacy floor, on every backend (types.ts re-exports it with the rest of the storage seam).
import type { Logger } from '../logger.js';
import type { CountedHeartbeat } from './counting.js';
import type { CollectorStats, ExportRow } from './stats.js';

export type { CountedHeartbeat } from './counting.js';

/** What a record came to: counted now, or already counted under its idempotency key (answered 202 all the same). */
export type RecordOutcome = 'counted' | 'duplicate';

/** How a collector store is opened: its bounds and the privacy floor, from the settings. */
export interface CollectorStoreOptions {
  logger?: Logger;
  /** TELEMETRY_IDEMPOTENCY_HOURS: a key is counted once for at least this long (default 24). */
  idempotencyHours: number;
  /** TELEMETRY_RETENTION_DAYS: per-day counters, session records and keys older than this are purged (default 400). */
  retentionDays: number;
  /** TELEMETRY_PRIVACY_MIN_SESSIONS: buckets with fewer distinct sessions are folded into `other` when read (default 5). */
  privacyMinSessions: number;
  /** The store's clock (the default day of `stats`); default Date.now. */
  now?: () => number;
}

/**
 * The collector's counts. What a heartbeat increments is src/stores/groupCounts.ts (one rule for every backend);
 * what is read is folded by src/stores/fold.ts, the privacy floor included, before it leaves the store.
 */
export interface CollectorStore {
  /**
   * Counts one validated heartbeat exactly once: resolves once the write holding it (and its idempotency key)
   * is durable. Rejects with IdempotencyConflictError when its key was counted with another body (422),
   * StoreUnavailableError when the store cannot be reached (503), anything else for a failure of this
   * heartbeat alone (500): one bad heartbeat never fails another.
   */
  record(heartbeat: CountedHeartbeat): Promise<RecordOutcome>;
  /** The stats as of a UTC day (`YYYY-MM-DD`; default today by the store's clock), after the privacy floor. */
  stats(options?: { asOf?: string }): Promise<CollectorStats>;
  /** Per day, breakdown and value: heartbeats and distinct sessions for `from`..`to` (YYYY-MM-DD), after the floor. */
  export(range: { from: string; to: string }): Promise<ExportRow[]>;
  /** Deletes what is older than the retention window (and keys older than theirs); lifetime totals stay. */
  purge(now: Date): Promise<{ deleted: number }>;
}
