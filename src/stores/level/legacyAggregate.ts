// Databases written before per-key counters kept one JSON summary under `aggregate`: turned into counters once, at open.
import type { Logger } from '../../logger.js';
import { DIMENSIONS } from '../stats.js';
import type { Utf8Sublevel } from './levelLike.js';

/** The key of the old one-summary format. */
export const AGGREGATE_KEY = 'aggregate';

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function isCounts(v: unknown): v is Record<string, number> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every(isCount);
}

/** The counter keys and values an old summary holds; undefined when it is not valid JSON of the stats shape. */
export function aggregateCounters(raw: string): Array<[string, string]> | undefined {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== 'object' || !isCount(v.heartbeats_total) || !isCount(v.sessions_total)) return undefined;
  const last = v.last_heartbeat_at;
  if (last !== null && (typeof last !== 'string' || Number.isNaN(Date.parse(last)))) return undefined;
  const out: Array<[string, string]> = [
    ['count:total:heartbeats', String(v.heartbeats_total)],
    ['count:total:sessions', String(v.sessions_total)],
  ];
  for (const [stat, field] of DIMENSIONS) {
    const counts = v[stat];
    if (!isCounts(counts)) return undefined;
    for (const [value, n] of Object.entries(counts)) out.push([`count:${field}:${value}`, String(n)]);
  }
  if (typeof last === 'string') out.push(['last', last]);
  return out;
}

async function countSessionMarkers(store: Utf8Sublevel): Promise<number> {
  let n = 0;
  for await (const _ of store.keys({ gte: 'session:', lt: 'session;' })) n += 1;
  return n;
}

/**
 * Replaces an old summary by counters in one batch. A corrupt one starts over, keeping the session count
 * (the markers are still right), with one warning.
 */
export async function migrateAggregate(store: Utf8Sublevel, logger?: Logger): Promise<void> {
  const raw = await store.get(AGGREGATE_KEY);
  if (raw === undefined) return;
  let counters = aggregateCounters(raw);
  if (counters === undefined) {
    counters = [['count:total:sessions', String(await countSessionMarkers(store))]];
    logger?.warn({ key: AGGREGATE_KEY, sessions: Number(counters[0]![1]) }, 'Stored collector stats are not valid; starting over');
  }
  await store.batch([...counters.map(([key, value]) => ({ type: 'put' as const, key, value })), { type: 'del', key: AGGREGATE_KEY }]);
}
