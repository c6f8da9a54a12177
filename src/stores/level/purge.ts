// Retention on LevelDB: day counters older than TELEMETRY_RETENTION_DAYS, session records last seen before that,
// and idempotency keys older than TELEMETRY_IDEMPOTENCY_HOURS are deleted, PURGE_BATCH keys per write, each batch
// taking the writer's turn only briefly so ingest does not stall. Lifetime counters stay.
import { dayNumber } from '../presence.js';
import { decodeSessionState } from '../sessionState.js';
import { dayRange, idempotencyBefore, prefixRange, SESSION, sessionIdOf } from './keys.js';
import type { ReadOptions, Utf8Sublevel } from './levelLike.js';
import type { LevelState } from './state.js';

/** Keys deleted per write: small enough that a heartbeat waiting behind it is not delayed noticeably. */
export const PURGE_BATCH = 1_000;
const HOUR_MS = 3_600_000;

export interface PurgeContext {
  store(): Utf8Sublevel;
  state: LevelState;
  retentionDays: number;
  idempotencyHours: number;
  /** Runs work in the writer's turn (never beside a group write). */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
  /** Folds pending groups into the counters first, so no delta of a purged day is left to write it back. */
  fold(): Promise<void>;
}

/**
 * Deletes, PURGE_BATCH at a time, the keys of `range` that `doomed` picks (all of them by default), telling
 * `deleted` of each batch once it is written; returns how many.
 */
async function deleteWhere(ctx: PurgeContext, range: ReadOptions, doomed?: (key: string, value: string) => boolean, onDeleted?: (keys: string[]) => void): Promise<number> {
  let deleted = 0;
  let after: string | undefined;
  for (;;) {
    const step = await ctx.exclusive(async () => {
      const keys: string[] = [];
      const from = after === undefined ? { gte: range.gte } : { gt: after };
      let seen = 0;
      let last: string | undefined;
      for await (const [key, value] of ctx.store().iterator({ ...from, lt: range.lt, limit: PURGE_BATCH })) {
        seen += 1;
        last = key;
        if (doomed === undefined || doomed(key, value)) keys.push(key);
      }
      if (keys.length > 0) await ctx.store().batch(keys.map((key) => ({ type: 'del' as const, key })));
      onDeleted?.(keys);
      return { keys, seen, last };
    });
    deleted += step.keys.length;
    after = step.last;
    if (step.seen < PURGE_BATCH) return deleted;
  }
}

/** Sessions whose latest day is `cutoff` or before: their records go, and the caches forget them. */
async function purgeSessions(ctx: PurgeContext, cutoff: number): Promise<number> {
  const stale = (_key: string, value: string) => {
    const state = decodeSessionState(value);
    return state === undefined || state.total.last <= cutoff;
  };
  // Forgotten only once deleted: a session the cache says is absent must be absent on disk.
  const forget = (keys: string[]) => keys.forEach((key) => ctx.state.knownSessions.delete(sessionIdOf(key)));
  return deleteWhere(ctx, prefixRange(SESSION), stale, forget);
}

/** Creates the purge; session records are scanned at most once per UTC day (retention is counted in days). */
export function createPurge(ctx: PurgeContext) {
  let sessionsPurgedOn: number | undefined;
  return async function purge(now: Date): Promise<{ deleted: number }> {
    await ctx.exclusive(ctx.fold);
    const today = dayNumber(now);
    const cutoff = today - ctx.retentionDays;
    let deleted = await deleteWhere(ctx, dayRange(0, cutoff));
    // A key counted on day d is older than its window once the window starts after d ends.
    const firstKept = dayNumber(now.getTime() - ctx.idempotencyHours * HOUR_MS);
    deleted += await deleteWhere(ctx, idempotencyBefore(firstKept));
    for (const day of ctx.state.keyDays) if (day < firstKept) ctx.state.keyDays.delete(day);
    for (const [key, entry] of ctx.state.recentKeys.entries()) if (entry.day < firstKept) ctx.state.recentKeys.delete(key);
    if (sessionsPurgedOn !== today) {
      deleted += await purgeSessions(ctx, cutoff);
      sessionsPurgedOn = today;
    }
    return { deleted };
  };
}
