// Databases written by earlier versions are carried into today's layout once, at open: the one-summary layout
// (legacyAggregate.ts) and the counters-and-markers layout, by the rule every backend's migration shares
// (src/stores/legacyCounts.ts): every count kept, each session's record rebuilt from its markers.
import type { Logger } from '../../logger.js';
import type { Dimension } from '../counting.js';
import { createLegacyCounts, type LegacyCounts } from '../legacyCounts.js';
import { dayNumber, parseDay } from '../presence.js';
import { encodeSessionState } from '../sessionState.js';
import { encodeDay, encodeLifetime } from './codec.js';
import { LAST_KEY, LAYOUT_KEY, LAYOUT_VERSION, LEGACY, dayKey, lifetimeKey, parseLegacyCount, parseLegacyDay, parseLegacyDaySession, prefixRange, sessionKey } from './keys.js';
import { LEGACY_FIELDS, migrateAggregate } from './legacyAggregate.js';
import type { BatchOperation, Utf8Sublevel } from './levelLike.js';

/** Operations per batch while migrating: a large old database is written in pieces, never one huge batch. */
const MIGRATION_BATCH = 1_000;
const FIELDS = LEGACY_FIELDS.map(([, field]) => field);

const put = (key: string, value: string): BatchOperation => ({ type: 'put', key, value });
const count = (text: string) => (/^\d+$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : undefined);

/** The second layout's counters into `legacy`; true when there were any. */
async function readCounters(store: Utf8Sublevel, legacy: LegacyCounts): Promise<boolean> {
  let found = false;
  const totals = { heartbeats: 0, sessions: 0 };
  for await (const [key, text] of store.iterator(prefixRange(LEGACY.count))) {
    const n = count(text);
    if (n === undefined) continue;
    found = true;
    if (key === LEGACY.heartbeats) totals.heartbeats = n;
    else if (key === LEGACY.sessions) totals.sessions = n;
    const at = parseLegacyCount(key, FIELDS);
    if (at !== undefined) legacy.lifetime(at.field as Dimension, at.value, n);
  }
  legacy.totals(totals.heartbeats, totals.sessions);
  for await (const [key, text] of store.iterator(prefixRange(LEGACY.day))) {
    const at = parseLegacyDay(key);
    const [day, n] = [parseDay(at?.date ?? ''), count(text)];
    // A day's sessions are recounted from the markers, with the week and the month.
    if (at === undefined || Number.isNaN(day) || n === undefined || at.kind === 'sessions') continue;
    found = true;
    legacy.day(day, at.kind === 'heartbeats' ? 'total' : 'server_version', at.kind === 'heartbeats' ? '' : at.value, n);
  }
  return found;
}

/** Each session's first day and the days its markers name (they come day by day, so each list is in order). */
async function readMarkers(store: Utf8Sublevel): Promise<Map<string, { first?: number; days: number[] }>> {
  const sessions = new Map<string, { first?: number; days: number[] }>();
  for await (const [key, text] of store.iterator(prefixRange(LEGACY.session))) {
    const at = Date.parse(text);
    sessions.set(key.slice(LEGACY.session.length), { first: Number.isNaN(at) ? undefined : dayNumber(at), days: [] });
  }
  for await (const key of store.keys(prefixRange(LEGACY.daySession))) {
    const { date, id } = parseLegacyDaySession(key);
    const day = parseDay(date);
    if (Number.isNaN(day)) continue;
    const session = sessions.get(id) ?? { days: [] };
    session.days.push(day);
    sessions.set(id, session);
  }
  return sessions;
}

type Sessions = Awaited<ReturnType<typeof readMarkers>>;

/** Today's layout for what the old one held, as put operations. */
function newLayout(legacy: LegacyCounts, sessions: Sessions, last: string | undefined): BatchOperation[] {
  const operations: BatchOperation[] = [];
  for (const [id, { first, days }] of sessions) {
    const state = legacy.session(first, days);
    if (state !== undefined) operations.push(put(sessionKey(id), encodeSessionState(state)));
  }
  const counts = legacy.result();
  for (const r of counts.lifetime) operations.push(put(lifetimeKey(r.scope, r.value), encodeLifetime(r)));
  for (const r of counts.days) operations.push(put(dayKey(r.day, r.scope, r.value), encodeDay(r)));
  if (last !== undefined && !Number.isNaN(Date.parse(last))) operations.push(put(LAST_KEY, new Date(Date.parse(last)).toISOString()));
  return operations;
}

/** Deletes every key of the older layouts, MIGRATION_BATCH at a time (also what a migration cut short left). */
async function deleteLegacy(store: Utf8Sublevel): Promise<void> {
  const singles = [LEGACY.last, LEGACY.aggregate];
  const present = await store.hasMany(singles);
  if (present.some(Boolean)) await store.batch(singles.map((key) => ({ type: 'del' as const, key })));
  for (const prefix of [LEGACY.count, LEGACY.day, LEGACY.session, LEGACY.daySession]) {
    for (;;) {
      const keys: string[] = [];
      for await (const key of store.keys({ ...prefixRange(prefix), limit: MIGRATION_BATCH })) keys.push(key);
      if (keys.length > 0) await store.batch(keys.map((key) => ({ type: 'del' as const, key })));
      if (keys.length < MIGRATION_BATCH) break;
    }
  }
}

/**
 * Brings the collector's sublevel to today's layout. Safe to repeat: until LAYOUT_KEY is written, the old keys
 * are all there and the new ones are rewritten from them; after it, only old keys left behind are deleted.
 */
export async function migrateLayout(store: Utf8Sublevel, logger?: Logger): Promise<void> {
  await migrateAggregate(store, logger);
  if ((await store.get(LAYOUT_KEY)) !== LAYOUT_VERSION) {
    const legacy = createLegacyCounts();
    const counters = await readCounters(store, legacy);
    const sessions = await readMarkers(store);
    if (counters || sessions.size > 0) {
      const operations = newLayout(legacy, sessions, await store.get(LEGACY.last));
      for (let i = 0; i < operations.length; i += MIGRATION_BATCH) await store.batch(operations.slice(i, i + MIGRATION_BATCH));
      logger?.info({ keys: operations.length }, 'Collector data migrated to the current layout');
    }
    await store.put(LAYOUT_KEY, LAYOUT_VERSION, { sync: true });
  }
  await deleteLegacy(store);
}
