// What the LevelDB collector store keeps in memory, and how it is loaded at open: the lifetime counters (and
// with them the values each breakdown admitted), the groups not yet folded into the counters, and bounded
// caches that spare lookups (known sessions, known sightings, recent idempotency keys).
import type { Logger } from '../../logger.js';
import { DIMENSIONS, OTHER_KEY, type Dimension, type Scope } from '../counting.js';
import { createGroupCounts, createSightingCache, type GroupCounts, type LifetimeCounts, type LifetimeRow, type SightingCache } from '../groupCounts.js';
import { createLru, RECENT_KEYS_CACHE, SIGHTINGS_CACHE, type Lru } from '../lru.js';
import { decodeGroup, decodeLifetime } from './codec.js';
import { GROUP, IDEMPOTENCY, LAST_KEY, LIFETIME, SESSION, idempotencyDay, parseGroupKey, parseLifetimeKey, prefixRange, sessionIdOf } from './keys.js';
import type { LevelSnapshot, Utf8Sublevel } from './levelLike.js';

/**
 * Session ids remembered as having a record on disk. While every record fits (a fleet up to this size), a
 * session not in it is new and needs no lookup: 100k sessions reporting in turn once made LevelDB's lookups
 * the collector's top function (B7-distinct, docs/benchmarks.md). About 100 bytes a session when full.
 */
export const KNOWN_SESSIONS_CACHE = 100_000;

export interface CacheSizes {
  knownSessions?: number;
  sightings?: number;
  recentKeys?: number;
}

export interface LevelState {
  /** Lifetime counters as acknowledged: the stored ones plus every pending group's. */
  lifetime: Map<Scope, Map<string, LifetimeCounts>>;
  /** The values each breakdown admitted under the cap (those with a lifetime counter, `other` aside). */
  admitted: Map<Dimension, Set<string>>;
  /** The deltas of the groups committed but not yet folded into the counters, and their sequence numbers. */
  pending: GroupCounts;
  pendingSeqs: number[];
  /** The size of their records (text), which reads parse. */
  pendingBytes: number;
  /** Changes before every write that may change the stored day counters (a fold, a purge, a recovery). */
  dayRowsVersion: number;
  /** The latest heartbeat time acknowledged, in ms (null before the first). */
  lastAt: number | null;
  nextSeq: number;
  knownSessions: Lru<string, true>;
  /** True while knownSessions holds every session record on disk (so a miss means a new session). */
  sessionsComplete: boolean;
  sightings: SightingCache;
  /** Recent idempotency keys: fingerprint and the day they were counted on. */
  recentKeys: Lru<string, { fingerprint: string; day: number }>;
  /** Days whose stored keys are not all in recentKeys (stored before this open, or evicted): looked up there. */
  keyDays: Set<number>;
}

export function addLifetime(state: Pick<LevelState, 'lifetime' | 'admitted'>, row: LifetimeRow): void {
  let byValue = state.lifetime.get(row.scope);
  if (byValue === undefined) state.lifetime.set(row.scope, (byValue = new Map()));
  const counts = byValue.get(row.value);
  if (counts === undefined) byValue.set(row.value, { heartbeats: row.heartbeats, sessions: row.sessions });
  else [counts.heartbeats, counts.sessions] = [counts.heartbeats + row.heartbeats, counts.sessions + row.sessions];
  if (row.scope !== 'total' && row.value !== OTHER_KEY) state.admitted.get(row.scope)?.add(row.value);
}

/** Where a read looks: the database as it is, or an explicit snapshot of it. */
export type ReadAt = { snapshot?: LevelSnapshot };

/** The stored lifetime counters; `onBad` hears of each key that cannot be read (it is left out). */
export async function readLifetime(store: Utf8Sublevel, at: ReadAt = {}, onBad?: (key: string) => void): Promise<LifetimeRow[]> {
  const rows: LifetimeRow[] = [];
  for await (const [key, text] of store.iterator({ ...prefixRange(LIFETIME), ...at })) {
    const where = parseLifetimeKey(key);
    const counts = decodeLifetime(text);
    if (where === undefined || counts === undefined) onBad?.(key);
    else rows.push({ ...where, ...counts });
  }
  return rows;
}

/** The stored time of the last heartbeat (ms), or undefined. */
export async function readLastAt(store: Utf8Sublevel, at: ReadAt = {}): Promise<number | undefined> {
  const text = await store.get(LAST_KEY, at);
  const time = text === undefined ? NaN : Date.parse(text);
  return Number.isNaN(time) ? undefined : time;
}

/** Every stored group record (committed, not yet folded), in order: its key, sequence, record (undefined when unreadable) and text. */
export async function* storedGroups(store: Utf8Sublevel, at: ReadAt = {}) {
  for await (const [key, text] of store.iterator({ ...prefixRange(GROUP), ...at })) {
    yield { key, seq: parseGroupKey(key), record: decodeGroup(text), text };
  }
}

/** Reads every committed group not yet folded (a crash, or a store closed before folding); corrupt ones are skipped. */
export async function loadPending(store: Utf8Sublevel, state: LevelState, warn: (key: string) => void): Promise<void> {
  state.pending = createGroupCounts();
  state.pendingSeqs = [];
  state.pendingBytes = 0;
  for await (const { key, seq, record, text } of storedGroups(store)) {
    state.nextSeq = Math.max(state.nextSeq, Number.isSafeInteger(seq) ? seq + 1 : 0);
    if (record === undefined || !Number.isSafeInteger(seq)) {
      warn(key);
      continue;
    }
    state.pending.merge(record.deltas, record.lifetime);
    state.pendingSeqs.push(seq);
    state.pendingBytes += text.length;
    state.lastAt = Math.max(state.lastAt ?? 0, record.lastAt);
  }
}

/** The days that hold stored idempotency keys: one seek per day present. */
async function storedKeyDays(store: Utf8Sublevel): Promise<Set<number>> {
  const days = new Set<number>();
  let from = IDEMPOTENCY;
  for (;;) {
    let found: string | undefined;
    for await (const key of store.keys({ gte: from, lt: prefixRange(IDEMPOTENCY).lt, limit: 1 })) found = key;
    if (found === undefined) return days;
    const day = Number(found.slice(IDEMPOTENCY.length, IDEMPOTENCY.length + 6));
    days.add(day);
    from = idempotencyDay(day).lt;
  }
}

/** Loads the state of a migrated store. Corrupt counters start over at zero, with one warning for all of them. */
export async function loadState(store: Utf8Sublevel, sizes: CacheSizes, logger?: Logger): Promise<LevelState> {
  const corrupt: string[] = [];
  const state: LevelState = {
    lifetime: new Map(),
    admitted: new Map(DIMENSIONS.map((d) => [d, new Set<string>()])),
    pending: createGroupCounts(),
    pendingSeqs: [],
    pendingBytes: 0,
    dayRowsVersion: 0,
    lastAt: null,
    nextSeq: 0,
    knownSessions: createLru(sizes.knownSessions ?? KNOWN_SESSIONS_CACHE, () => void (state.sessionsComplete = false)),
    sessionsComplete: true,
    sightings: createSightingCache(sizes.sightings ?? SIGHTINGS_CACHE),
    recentKeys: createLru(sizes.recentKeys ?? RECENT_KEYS_CACHE, (_key, entry) => void state.keyDays.add(entry.day)),
    keyDays: new Set(),
  };
  for (const row of await readLifetime(store, {}, (key) => corrupt.push(key))) addLifetime(state, row);
  state.lastAt = (await readLastAt(store)) ?? null;
  await loadPending(store, state, (key) => corrupt.push(key));
  for (const row of state.pending.lifetimeRows()) addLifetime(state, row);
  // One more than fits: its eviction says the cache is not complete, and no more need be read.
  const sessionLimit = (sizes.knownSessions ?? KNOWN_SESSIONS_CACHE) + 1;
  for await (const key of store.keys({ ...prefixRange(SESSION), limit: sessionLimit })) state.knownSessions.set(sessionIdOf(key), true);
  state.keyDays = await storedKeyDays(store);
  if (corrupt.length > 0) logger?.warn({ keys: corrupt.slice(0, 10), count: corrupt.length }, 'Stored collector stats are not valid; starting over');
  return state;
}
