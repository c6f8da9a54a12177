// The collector's aggregate in LevelDB (sublevel `collector`): in memory, written through in order, in groups.
import type { Heartbeat } from '../../heartbeat.js';
import type { Logger } from '../../logger.js';
import type { CollectorStats, CollectorStore } from '../types.js';
import { utf8Sublevel, type LevelLike, type Utf8Sublevel } from './levelLike.js';

export const COLLECTOR_SUBLEVEL = 'collector';
export const AGGREGATE_KEY = 'aggregate';
/** Prefix of the per-session marker keys (`session:<id>`, value: first seen, ISO). */
export const SESSION_MARKER_PREFIX = 'session:';
/** Distinct keys kept per by_* map, `other` included; further values are counted under `other`. */
export const MAX_MAP_KEYS = 1000;
export const OTHER_KEY = 'other';
/** The bucket for a heartbeat that lacks the field. */
export const UNKNOWN_KEY = 'unknown';
/** Heartbeats written in one batch at most, so one batch stays small. */
const MAX_GROUP = 1000;
/**
 * Session ids known to be on disk, remembered to skip the lookup for repeat heartbeats. Sized for a fleet:
 * at 10k, 100k sessions reporting in turn missed it every time and LevelDB's hasMany became the collector's
 * top function (B7-distinct, docs/benchmarks.md). About 100 bytes an id when full.
 */
export const KNOWN_SESSIONS_CACHE = 100_000;

type Counts = Map<string, number>;

interface Aggregate {
  heartbeats: number;
  sessions: number;
  byServerVersion: Counts;
  byPlatform: Counts;
  byEnvironment: Counts;
  lastAt: string | null;
}

interface Pending {
  heartbeat: Heartbeat;
  receivedAt: Date;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function emptyAggregate(): Aggregate {
  return { heartbeats: 0, sessions: 0, byServerVersion: new Map(), byPlatform: new Map(), byEnvironment: new Map(), lastAt: null };
}

function cloneAggregate(a: Aggregate): Aggregate {
  return { ...a, byServerVersion: new Map(a.byServerVersion), byPlatform: new Map(a.byPlatform), byEnvironment: new Map(a.byEnvironment) };
}

function bump(counts: Counts, value: unknown): void {
  const key = value === undefined || value === null ? UNKNOWN_KEY : String(value);
  const current = counts.get(key);
  if (current !== undefined) counts.set(key, current + 1);
  // One slot stays free for `other`, so a map never exceeds MAX_MAP_KEYS.
  else if (counts.size < MAX_MAP_KEYS - 1) counts.set(key, 1);
  else counts.set(OTHER_KEY, (counts.get(OTHER_KEY) ?? 0) + 1);
}

function apply(a: Aggregate, group: Pending[]): void {
  let latest = -Infinity;
  for (const p of group) {
    const payload = p.heartbeat.payload as unknown as Record<string, unknown>;
    a.heartbeats += 1;
    bump(a.byServerVersion, payload.server_version);
    bump(a.byPlatform, payload.platform);
    bump(a.byEnvironment, payload.environment);
    latest = Math.max(latest, p.receivedAt.getTime());
  }
  // One date formatted per group, not per heartbeat (toISOString showed up in the collector's profile).
  const at = new Date(latest).toISOString();
  if (a.lastAt === null || at > a.lastAt) a.lastAt = at;
}

/** The aggregate as the stats API and the database both show it. */
function toStats(a: Aggregate): CollectorStats {
  return {
    heartbeats_total: a.heartbeats,
    sessions_total: a.sessions,
    by_server_version: Object.fromEntries(a.byServerVersion),
    by_platform: Object.fromEntries(a.byPlatform),
    by_environment: Object.fromEntries(a.byEnvironment),
    last_heartbeat_at: a.lastAt,
  };
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function toCounts(v: unknown): Counts | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const entries = Object.entries(v);
  return entries.every(([, n]) => isCount(n)) ? new Map(entries as [string, number][]) : undefined;
}

/** Parses a stored aggregate; undefined when it is not valid JSON of the stats shape. */
export function parseAggregate(raw: string): Aggregate | undefined {
  let v: Partial<Record<keyof CollectorStats, unknown>>;
  try {
    v = JSON.parse(raw) as typeof v;
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== 'object') return undefined;
  const [byServerVersion, byPlatform, byEnvironment] = [toCounts(v.by_server_version), toCounts(v.by_platform), toCounts(v.by_environment)];
  const lastAt = v.last_heartbeat_at;
  if (!isCount(v.heartbeats_total) || !isCount(v.sessions_total) || !byServerVersion || !byPlatform || !byEnvironment) return undefined;
  if (lastAt !== null && (typeof lastAt !== 'string' || Number.isNaN(Date.parse(lastAt)))) return undefined;
  return { heartbeats: v.heartbeats_total, sessions: v.sessions_total, byServerVersion, byPlatform, byEnvironment, lastAt };
}

type Sublevel = Utf8Sublevel;

async function countMarkers(store: Sublevel): Promise<number> {
  let n = 0;
  // ';' follows ':' in ASCII: the range holds exactly the marker keys.
  for await (const _ of store.keys({ gte: SESSION_MARKER_PREFIX, lt: 'session;' })) n += 1;
  return n;
}

/** Adds the ids of up to `limit` + 1 markers to `known`; true when that was all of them. */
async function loadMarkers(store: Sublevel, known: Set<string>, limit: number): Promise<boolean> {
  for await (const key of store.keys({ gte: SESSION_MARKER_PREFIX, lt: 'session;' })) {
    known.add(key.slice(SESSION_MARKER_PREFIX.length));
    if (known.size > limit) break;
  }
  if (known.size <= limit) return true;
  known.delete(known.values().next().value as string);
  return false;
}

async function loadAggregate(store: Sublevel, logger?: Logger): Promise<Aggregate> {
  const raw = await store.get(AGGREGATE_KEY);
  if (raw === undefined) return emptyAggregate();
  const parsed = parseAggregate(raw);
  if (parsed) return parsed;
  // The markers are still right, so the session count survives a corrupt aggregate.
  const fresh = { ...emptyAggregate(), sessions: await countMarkers(store) };
  logger?.warn({ key: AGGREGATE_KEY, sessions: fresh.sessions }, 'Stored collector stats are not valid; starting over');
  return fresh;
}

/**
 * Opens the collector's store on an abstract-level database: loads the aggregate (the database opens if it
 * has not yet). One per database: a second one would keep its own, diverging, aggregate.
 */
export async function openLevelCollectorStore(db: LevelLike, logger?: Logger, options: { knownSessions?: number } = {}): Promise<CollectorStore> {
  const cacheSize = options.knownSessions ?? KNOWN_SESSIONS_CACHE;
  // utf8 rather than json: a corrupt aggregate must reach us as text, not as a decode error.
  const store = utf8Sublevel(db, COLLECTOR_SUBLEVEL);
  let committed = await loadAggregate(store, logger);
  const known = new Set<string>();
  // While every marker on disk is in `known` (a fleet small enough to hold), an id not in it is a new session
  // and needs no lookup: a fresh collector never asks LevelDB. The first eviction ends that.
  let complete = committed.sessions <= cacheSize && (await loadMarkers(store, known, cacheSize));
  const queue: Pending[] = [];
  let writing = false;

  function remember(ids: string[]): void {
    for (const id of ids) {
      known.delete(id);
      known.add(id);
      // A Set iterates in insertion order: the first entry is the least recently seen.
      if (known.size > cacheSize) {
        known.delete(known.values().next().value as string);
        complete = false;
      }
    }
  }

  async function newSessions(ids: string[]): Promise<string[]> {
    const unknown = [...new Set(ids)].filter((id) => !known.has(id));
    if (unknown.length === 0 || complete) return unknown;
    const present = await store.hasMany(unknown.map((id) => SESSION_MARKER_PREFIX + id));
    return unknown.filter((_, i) => !present[i]);
  }

  // Next totals = committed + group; they replace the committed ones only once the batch is written,
  // so a failed write counts nothing (those requests are answered 500).
  async function commit(group: Pending[]): Promise<void> {
    const ids = group.map((p) => p.heartbeat.payload.session_id.toLowerCase());
    const fresh = await newSessions(ids);
    const next = cloneAggregate(committed);
    apply(next, group);
    next.sessions += fresh.length;
    const firstSeen = new Date(Math.min(...group.map((p) => p.receivedAt.getTime()))).toISOString();
    await store.batch([
      { type: 'put', key: AGGREGATE_KEY, value: JSON.stringify(toStats(next)) },
      ...fresh.map((id) => ({ type: 'put' as const, key: SESSION_MARKER_PREFIX + id, value: firstSeen })),
    ]);
    committed = next;
    remember(ids);
  }

  // One writer: while a batch is in flight, new heartbeats queue up and go together in the next one
  // (group commit), which keeps the read-modify-write serial and the write rate independent of load.
  async function drain(): Promise<void> {
    writing = true;
    while (queue.length > 0) {
      const group = queue.splice(0, MAX_GROUP);
      try {
        await commit(group);
        for (const p of group) p.resolve();
      } catch (err) {
        for (const p of group) p.reject(err);
      }
    }
    writing = false;
  }

  return {
    stats: async () => toStats(committed),
    record(heartbeat, receivedAt) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ heartbeat, receivedAt, resolve, reject });
        if (!writing) void drain();
      });
    },
  };
}
