// The collector's counts in LevelDB (sublevel `collector`): one small key per counter, written through in
// groups, so a heartbeat rewrites only the few counters it touches, never a summary of everything.
import { StoreUnavailableError } from '../../errors.js';
import type { Heartbeat } from '../../heartbeat.js';
import type { Logger } from '../../logger.js';
import { DIMENSIONS, MAX_MAP_KEYS, OTHER_KEY, countKey, dayOf, lastDays, type LegacyCollectorStats } from '../stats.js';
import type { CollectorStore, PendingHeartbeat as Pending } from '../types.js';
import { migrateAggregate } from './legacyAggregate.js';
import { utf8Sublevel, type LevelLike, type Utf8Sublevel } from './levelLike.js';
import { createRecoveryGuard } from './recovery.js';
import { createGroupCommit } from '../groupCommit.js';

export { MAX_MAP_KEYS, OTHER_KEY, UNKNOWN_KEY } from '../stats.js';
export const COLLECTOR_SUBLEVEL = 'collector';
/** Prefix of the per-session marker keys (`session:<id>`, value: first seen, ISO). */
export const SESSION_MARKER_PREFIX = 'session:';
/** Counter keys: `count:<field>:<value>` and `count:total:heartbeats|sessions`; value: the count in decimal. */
export const COUNT_PREFIX = 'count:';
/** Per-day counter keys: `day:<YYYY-MM-DD>:heartbeats:`, `...:sessions:`, `...:server_version:<v>`. */
export const DAY_PREFIX = 'day:';
/** Per-day session markers: `daysession:<YYYY-MM-DD>:<id>`. */
export const DAY_SESSION_PREFIX = 'daysession:';
export const LAST_KEY = 'last';
export const HEARTBEATS_KEY = `${COUNT_PREFIX}total:heartbeats`;
export const SESSIONS_KEY = `${COUNT_PREFIX}total:sessions`;
/**
 * Marker keys known to be on disk, remembered to skip the lookup for repeat heartbeats. Sized for a fleet:
 * at 10k, 100k sessions reporting in turn missed it every time and LevelDB's hasMany became the collector's
 * top function (B7-distinct, docs/benchmarks.md). About 100 bytes a key when full.
 */
export const KNOWN_SESSIONS_CACHE = 100_000;


type Counters = Map<string, number>;
type Sublevel = Utf8Sublevel;

/** The end of a key range: ';' follows ':' in ASCII, so [prefix, end) holds exactly the prefix's keys. */
const rangeEnd = (prefix: string) => `${prefix.slice(0, -1)};`;

function isCount(v: number): boolean {
  return Number.isSafeInteger(v) && v >= 0;
}

async function countKeys(store: Sublevel, prefix: string): Promise<number> {
  let n = 0;
  for await (const _ of store.keys({ gte: prefix, lt: rangeEnd(prefix) })) n += 1;
  return n;
}

/** Loads every counter; a value that is not a count is dropped with one warning (sessions are then recounted). */
async function loadCounters(store: Sublevel, logger?: Logger): Promise<Counters> {
  const counters: Counters = new Map();
  const bad: string[] = [];
  for (const prefix of [COUNT_PREFIX, DAY_PREFIX]) {
    for await (const key of store.keys({ gte: prefix, lt: rangeEnd(prefix) })) {
      const n = Number(await store.get(key));
      if (isCount(n)) counters.set(key, n);
      else bad.push(key);
    }
  }
  if (bad.length > 0) {
    // The markers are still right, so the session count survives a corrupt counter.
    if (bad.includes(SESSIONS_KEY)) counters.set(SESSIONS_KEY, await countKeys(store, SESSION_MARKER_PREFIX));
    logger?.warn({ keys: bad.slice(0, 10), count: bad.length }, 'Stored collector stats are not valid; starting over');
  }
  return counters;
}

/** The capped map a counter belongs to: `count:<field>:` or `day:<date>:server_version:`; undefined for totals. */
function scopeOf(key: string): string | undefined {
  const parts = key.split(':');
  if (parts[0] === 'count' && parts[1] !== 'total') return `${parts[0]}:${parts[1]}:`;
  if (parts[0] === 'day' && parts[2] === 'server_version') return `${parts[0]}:${parts[1]}:${parts[2]}:`;
  return undefined;
}

/** Distinct values per capped map, so the cap holds without scanning. */
function distinctValues(counters: Counters): Map<string, number> {
  const distinct = new Map<string, number>();
  for (const key of counters.keys()) {
    const scope = scopeOf(key);
    if (scope !== undefined) distinct.set(scope, (distinct.get(scope) ?? 0) + 1);
  }
  return distinct;
}

/** The counter deltas of one group: key -> added count. */
function groupDeltas(group: Pending[], committed: Counters, distinct: Map<string, number>): Counters {
  const delta: Counters = new Map();
  const seen = new Map(distinct);
  const add = (key: string, n = 1) => delta.set(key, (delta.get(key) ?? 0) + n);
  // One slot stays free for `other`, so a map never exceeds MAX_MAP_KEYS.
  const capped = (scope: string, value: string) => {
    const key = `${scope}${value}`;
    if (committed.has(key) || delta.has(key)) return key;
    if ((seen.get(scope) ?? 0) < MAX_MAP_KEYS - 1) {
      seen.set(scope, (seen.get(scope) ?? 0) + 1);
      return key;
    }
    return `${scope}${OTHER_KEY}`;
  };
  add(HEARTBEATS_KEY, group.length);
  for (const p of group) {
    const payload = p.heartbeat.payload as unknown as Record<string, unknown>;
    for (const [, field] of DIMENSIONS) add(capped(`${COUNT_PREFIX}${field}:`, countKey(payload[field])));
    const day = `${DAY_PREFIX}${dayOf(p.receivedAt)}:`;
    add(`${day}heartbeats:`);
    add(capped(`${day}server_version:`, countKey(payload.server_version)));
  }
  return delta;
}

/** The session markers a group needs: `session:<id>` and `daysession:<date>:<id>`, each once. */
function markerKeys(group: Pending[]): string[] {
  const keys = new Set<string>();
  for (const p of group) {
    const id = p.heartbeat.payload.session_id.toLowerCase();
    keys.add(SESSION_MARKER_PREFIX + id);
    keys.add(`${DAY_SESSION_PREFIX}${dayOf(p.receivedAt)}:${id}`);
  }
  return [...keys];
}

/**
 * Fills `known` with the session markers and the day-session markers from `fromDay` on, up to `limit`;
 * true when that was all of them.
 */
async function loadMarkers(store: Sublevel, known: Set<string>, limit: number, fromDay: string): Promise<boolean> {
  const ranges = [
    { gte: SESSION_MARKER_PREFIX, lt: rangeEnd(SESSION_MARKER_PREFIX) },
    { gte: `${DAY_SESSION_PREFIX}${fromDay}`, lt: rangeEnd(DAY_SESSION_PREFIX) },
  ];
  for (const range of ranges) {
    for await (const key of store.keys(range)) {
      if (known.size >= limit) return false;
      known.add(key);
    }
  }
  return true;
}

/** Stats from the counters held in memory. */
function toStats(counters: Counters, lastAt: string | null): LegacyCollectorStats {
  const by = Object.fromEntries(DIMENSIONS.map(([stat]) => [stat, {} as Record<string, number>])) as Record<string, Record<string, number>>;
  const heartbeatsByDay = new Map<string, number>();
  const sessionsByDay = new Map<string, number>();
  const versionsByDay = new Map<string, Record<string, number>>();
  for (const [key, n] of counters) {
    const [kind, a = '', b = ''] = key.split(':', 3);
    const rest = key.slice(kind!.length + a.length + b.length + 3);
    if (kind === 'count') {
      const stat = DIMENSIONS.find(([, field]) => field === a)?.[0];
      if (stat !== undefined) by[stat]![key.slice(COUNT_PREFIX.length + a.length + 1)] = n;
    } else if (b === 'heartbeats') heartbeatsByDay.set(a, n);
    else if (b === 'sessions') sessionsByDay.set(a, n);
    else versionsByDay.set(a, { ...versionsByDay.get(a), [rest]: n });
  }
  return {
    heartbeats_total: counters.get(HEARTBEATS_KEY) ?? 0,
    sessions_total: counters.get(SESSIONS_KEY) ?? 0,
    by_server_version: by.by_server_version ?? {},
    by_platform: by.by_platform ?? {},
    by_environment: by.by_environment ?? {},
    last_heartbeat_at: lastAt,
    heartbeats_by_day: lastDays(heartbeatsByDay),
    sessions_by_day: lastDays(sessionsByDay),
    versions_by_day: lastDays(versionsByDay),
  };
}

export interface LevelCollectorOptions {
  /** How many marker keys the known-session cache holds (default KNOWN_SESSIONS_CACHE). */
  knownSessions?: number;
  /**
   * Closes and reopens the database: how a store recovers from a failed write (LevelDB's log is misaligned
   * after one). Default: the database's own close() and open(), when it has them.
   */
  reopen?: () => Promise<void>;
}

/**
 * Opens the collector's store on an abstract-level database: loads the counters (the database opens if it
 * has not yet). One per database: LevelDB is one process's, and a second store would count on its own.
 *
 * Durability: a heartbeat is acknowledged only once its batch is synced to disk. After a failed write the
 * store refuses (StoreUnavailableError) until it has reopened the database, written the acknowledged counters
 * back and synced them; one error line when it starts refusing, one info line when it accepts again.
 */
export async function openLevelCollectorStore(db: LevelLike, logger?: Logger, options: LevelCollectorOptions = {}): Promise<CollectorStore> {
  // utf8 rather than json: a corrupt value must reach us as text, not as a decode error.
  let store = utf8Sublevel(db, COLLECTOR_SUBLEVEL);
  await migrateAggregate(store, logger);
  const committed = await loadCounters(store, logger);
  const distinct = distinctValues(committed);
  let lastAt = (await store.get(LAST_KEY)) ?? null;
  const reopen =
    options.reopen ??
    (async () => {
      await db.close?.();
      await db.open?.();
    });
  const guard = createRecoveryGuard({
    store: COLLECTOR_SUBLEVEL,
    logger,
    recover: async () => {
      await reopen();
      // A sublevel stays closed when its database reopens: take a fresh one.
      store = utf8Sublevel(db, COLLECTOR_SUBLEVEL);
      const onDisk = (await store.get(HEARTBEATS_KEY)) ?? '0';
      const acknowledged = committed.get(HEARTBEATS_KEY) ?? 0;
      if (Number(onDisk) !== acknowledged) {
        logger?.warn({ onDisk: Number(onDisk), acknowledged }, 'Collector totals on disk differ from those acknowledged; keeping the acknowledged ones');
      }
      // The verification is a synced write of what was acknowledged: it fails while the disk still does.
      const counters = [...committed].map(([key, n]) => ({ type: 'put' as const, key, value: String(n) }));
      await store.batch(lastAt === null ? counters : [...counters, { type: 'put', key: LAST_KEY, value: lastAt }], { sync: true });
    },
  });
  const cacheSize = options.knownSessions ?? KNOWN_SESSIONS_CACHE;
  const known = new Set<string>();
  // While `known` holds every session marker and every day-session marker from today on (a fleet small
  // enough to hold), a key not in it is new and needs no lookup. The first eviction ends that.
  const openedDay = dayOf(new Date());
  let complete = await loadMarkers(store, known, cacheSize, openedDay);

  function remember(keys: string[]): void {
    for (const key of keys) {
      known.delete(key);
      known.add(key);
      // A Set iterates in insertion order: the first entry is the least recently seen.
      if (known.size > cacheSize) {
        known.delete(known.values().next().value as string);
        complete = false;
      }
    }
  }

  /** True when `complete` vouches for this key: a session marker, or a day-session marker of today or later. */
  const vouched = (key: string) => key.startsWith(SESSION_MARKER_PREFIX) || key.slice(DAY_SESSION_PREFIX.length, DAY_SESSION_PREFIX.length + 10) >= openedDay;

  /** The marker keys of this group not yet on disk (sessions overall, and sessions of each day). */
  async function newMarkers(group: Pending[]): Promise<string[]> {
    const wanted = markerKeys(group).filter((key) => !known.has(key));
    if (wanted.length === 0) return [];
    if (complete && wanted.every(vouched)) return wanted;
    const present = await store.hasMany(wanted);
    return wanted.filter((_, i) => !present[i]);
  }

  // The new counts replace the committed ones only once the batch is written, so a failed write counts
  // nothing (those requests are answered 503).
  async function commit(group: Pending[]): Promise<void> {
    const delta = groupDeltas(group, committed, distinct);
    const markers = await newMarkers(group);
    for (const key of markers) {
      // A new daysession:<date>:<id> marker is one more distinct session on that day.
      const counter = key.startsWith(SESSION_MARKER_PREFIX) ? SESSIONS_KEY : `${DAY_PREFIX}${key.split(':')[1]}:sessions:`;
      delta.set(counter, (delta.get(counter) ?? 0) + 1);
    }
    const next = [...delta].map(([key, n]): [string, number] => [key, (committed.get(key) ?? 0) + n]);
    // One date formatted per group, not per heartbeat (toISOString showed up in the collector's profile).
    const times = group.map((p) => p.receivedAt.getTime());
    const latest = new Date(Math.max(...times)).toISOString();
    const nextLast = lastAt === null || latest > lastAt ? latest : lastAt;
    const firstSeen = new Date(Math.min(...times)).toISOString();
    await store.batch(
      [
        ...next.map(([key, n]) => ({ type: 'put' as const, key, value: String(n) })),
        ...markers.map((key) => ({ type: 'put' as const, key, value: firstSeen })),
        { type: 'put', key: LAST_KEY, value: nextLast },
      ],
      { sync: true },
    );
    for (const [key, n] of next) {
      const scope = scopeOf(key);
      if (!committed.has(key) && scope !== undefined) distinct.set(scope, (distinct.get(scope) ?? 0) + 1);
      committed.set(key, n);
    }
    lastAt = nextLast;
    remember(markerKeys(group));
  }

  const enqueue = createGroupCommit({
    commit,
    failed(err) {
      // Nothing after a failed write is acknowledged: this group and every queued one are refused.
      guard.failed(err);
      return { error: new StoreUnavailableError(undefined, { cause: err }), refuseQueued: true };
    },
  });

  return {
    stats: async () => toStats(committed, lastAt),
    async record(heartbeat, receivedAt) {
      guard.assertWritable();
      return enqueue(heartbeat, receivedAt);
    },
  };
}
