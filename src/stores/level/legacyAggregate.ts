// The first layout kept one JSON summary under `aggregate`: read into the counters of the second layout, which
// migrate.ts then carries into today's (keys from keys.ts, like every other collector key).
import type { Logger } from '../../logger.js';
import { LEGACY, prefixRange } from './keys.js';
import type { Utf8Sublevel } from './levelLike.js';

/** The payload fields the first two layouts counted (by stats field). */
export const LEGACY_FIELDS = [
  ['by_server_version', 'server_version'],
  ['by_platform', 'platform'],
  ['by_environment', 'environment'],
] as const;

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function isCounts(v: unknown): v is Record<string, number> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every(isCount);
}

/** The second layout's keys and values an old summary holds; undefined when it is not valid JSON of the stats shape. */
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
    [LEGACY.heartbeats, String(v.heartbeats_total)],
    [LEGACY.sessions, String(v.sessions_total)],
  ];
  for (const [stat, field] of LEGACY_FIELDS) {
    const counts = v[stat];
    if (!isCounts(counts)) return undefined;
    // Object.entries: own properties only, so a stored `__proto__` value comes out as itself.
    for (const [value, n] of Object.entries(counts)) out.push([LEGACY.countKey(field, value), String(n)]);
  }
  if (typeof last === 'string') out.push([LEGACY.last, last]);
  return out;
}

async function countSessionMarkers(store: Utf8Sublevel): Promise<number> {
  let n = 0;
  for await (const _ of store.keys(prefixRange(LEGACY.session))) n += 1;
  return n;
}

/**
 * Replaces an old summary by the second layout's counters in one batch. A corrupt one starts over, keeping the
 * session count (the markers are still right), with one warning.
 */
export async function migrateAggregate(store: Utf8Sublevel, logger?: Logger): Promise<void> {
  const raw = await store.get(LEGACY.aggregate);
  if (raw === undefined) return;
  let counters = aggregateCounters(raw);
  if (counters === undefined) {
    counters = [[LEGACY.sessions, String(await countSessionMarkers(store))]];
    logger?.warn({ key: LEGACY.aggregate, sessions: Number(counters[0]![1]) }, 'Stored collector stats are not valid; starting over');
  }
  await store.batch([...counters.map(([key, value]) => ({ type: 'put' as const, key, value })), { type: 'del', key: LEGACY.aggregate }]);
}
