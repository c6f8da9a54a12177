// Databases written by earlier versions are carried into today's layout once, at open: the one-summary layout
// (legacyAggregate.ts) and the counters-and-markers layout. Every count is kept; the markers give each session's
// days, hence its record and the fleet's 1/7/30-day counts. Per-value session counts were never stored: they
// start at zero, so old per-value buckets show as `other` under the privacy floor until their sessions report.
import type { Logger } from '../../logger.js';
import { OTHER_KEY, type Dimension } from '../counting.js';
import { createGroupCounts, type DayDelta, type LifetimeRow } from '../groupCounts.js';
import { dayNumber, parseDay, sight, type Presence } from '../presence.js';
import { encodeSessionState } from '../sessionState.js';
import { encodeDay, encodeLifetime } from './codec.js';
import { LAST_KEY, LAYOUT_KEY, LAYOUT_VERSION, LEGACY, dayKey, lifetimeKey, parseLegacyCount, parseLegacyDay, parseLegacyDaySession, prefixRange, sessionKey } from './keys.js';
import { LEGACY_FIELDS, migrateAggregate } from './legacyAggregate.js';
import type { BatchOperation, Utf8Sublevel } from './levelLike.js';

/** Operations per batch while migrating: a large old database is written in pieces, never one huge batch. */
const MIGRATION_BATCH = 1_000;
const FIELDS = LEGACY_FIELDS.map(([, field]) => field);

interface Legacy {
  counts: ReturnType<typeof createGroupCounts>;
  sessions: Map<string, { first?: number; total?: Presence }>;
  last?: string;
  found: boolean;
}

const zeroDelta = { heartbeats: 0, sessions1d: 0, sessions7d: 0, sessions30d: 0, installs: 0 };

/** The counters of the second layout, into `legacy.counts` (values beyond the lifetime's admitted ones as `other`). */
async function readCounters(store: Utf8Sublevel, legacy: Legacy): Promise<void> {
  const lifetime: LifetimeRow[] = [];
  const admitted = new Map<string, Set<string>>(FIELDS.map((f) => [f, new Set<string>()]));
  let [heartbeats, sessions] = [0, 0];
  for await (const [key, text] of store.iterator(prefixRange(LEGACY.count))) {
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < 0) continue;
    legacy.found = true;
    if (key === LEGACY.heartbeats) heartbeats = n;
    else if (key === LEGACY.sessions) sessions = n;
    const at = parseLegacyCount(key, FIELDS);
    if (at === undefined) continue;
    lifetime.push({ scope: at.field as Dimension, value: at.value, heartbeats: n, sessions: 0 });
    admitted.get(at.field)?.add(at.value);
  }
  lifetime.push({ scope: 'total', value: '', heartbeats, sessions });
  const deltas: DayDelta[] = [];
  for await (const [key, text] of store.iterator(prefixRange(LEGACY.day))) {
    const at = parseLegacyDay(key);
    const [day, n] = [parseDay(at?.date ?? ''), Number(text)];
    if (at === undefined || Number.isNaN(day) || !Number.isSafeInteger(n) || n < 0 || at.kind === 'sessions') continue;
    legacy.found = true;
    const scope = at.kind === 'heartbeats' ? 'total' : 'server_version';
    const value = scope === 'total' ? '' : admitted.get('server_version')?.has(at.value) === true ? at.value : OTHER_KEY;
    deltas.push({ ...zeroDelta, day, scope, value, heartbeats: n });
  }
  legacy.counts.merge(deltas, lifetime);
}

/** Each session's first day and the days its markers name, and from them the fleet's 1/7/30-day counts and installs. */
async function readMarkers(store: Utf8Sublevel, legacy: Legacy): Promise<void> {
  const installs: DayDelta[] = [];
  for await (const [key, text] of store.iterator(prefixRange(LEGACY.session))) {
    const at = Date.parse(text);
    legacy.found = true;
    const first = Number.isNaN(at) ? undefined : dayNumber(at);
    legacy.sessions.set(key.slice(LEGACY.session.length), { first });
    if (first !== undefined) installs.push({ ...zeroDelta, day: first, scope: 'total', value: '', installs: 1 });
  }
  legacy.counts.merge(installs, []);
  // Markers come day by day (the date leads the key), so each session's days arrive in order.
  for await (const key of store.keys(prefixRange(LEGACY.daySession))) {
    const { date, id } = parseLegacyDaySession(key);
    const day = parseDay(date);
    if (Number.isNaN(day)) continue;
    legacy.found = true;
    const session = legacy.sessions.get(id) ?? {};
    const seen = sight(session.total, day);
    if (seen === undefined) continue;
    legacy.sessions.set(id, { first: session.first ?? day, total: seen.next });
    legacy.counts.session({ next: { first: 0, total: seen.next, values: [] }, counts: [{ scope: 'total', value: '', first: false, added: seen.added }], installs: [] });
  }
}

/** Today's layout for what the old one held, as put operations. */
function newLayout(legacy: Legacy): BatchOperation[] {
  const put = (key: string, value: string): BatchOperation => ({ type: 'put', key, value });
  const operations = legacy.counts.lifetimeRows().map((r) => put(lifetimeKey(r.scope, r.value), encodeLifetime(r)));
  for (const r of legacy.counts.dayRows()) operations.push(put(dayKey(r.day, r.scope, r.value), encodeDay(r)));
  for (const [id, { first, total }] of legacy.sessions) {
    const start = first ?? total?.last;
    if (start === undefined) continue;
    operations.push(put(sessionKey(id), encodeSessionState({ first: start, total: total ?? { last: start, mask: 1n }, values: [] })));
  }
  if (legacy.last !== undefined && !Number.isNaN(Date.parse(legacy.last))) operations.push(put(LAST_KEY, new Date(Date.parse(legacy.last)).toISOString()));
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
    const legacy: Legacy = { counts: createGroupCounts(), sessions: new Map(), last: await store.get(LEGACY.last), found: false };
    await readCounters(store, legacy);
    await readMarkers(store, legacy);
    if (legacy.found) {
      const operations = newLayout(legacy);
      for (let i = 0; i < operations.length; i += MIGRATION_BATCH) await store.batch(operations.slice(i, i + MIGRATION_BATCH));
      logger?.info({ keys: operations.length, sessions: legacy.sessions.size }, 'Collector data migrated to the current layout');
    }
    await store.put(LAYOUT_KEY, LAYOUT_VERSION, { sync: true });
  }
  await deleteLegacy(store);
}
