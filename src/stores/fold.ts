// The one fold from stored counters to what leaves a store (stats and export), shared by every backend: the
// privacy floor is applied here, so no bucket with fewer distinct sessions than the floor is ever shown.
import { DIMENSIONS, OTHER_KEY, type Dimension, type Scope } from './counting.js';
import type { DayRow, LifetimeRow } from './groupCounts.js';
import type { CollectorStore } from './collectorStore.js';
import { dayNumber, dayText, parseDay } from './presence.js';
import type { CollectorStats, ExportRow } from './stats.js';

/** A `YYYY-MM-DD` as a day number; throws (a caller's mistake: the edge checks it) when it is not a real date. */
function dayOf(text: string): number {
  const day = parseDay(text);
  if (Number.isNaN(day)) throw new TypeError(`not a date (YYYY-MM-DD): ${text}`);
  return day;
}

/**
 * A store's stats and export over its one counter read, `read(from, to)` (day numbers, inclusive): stats as of a
 * day (default today by `now`) over DAYS_SHOWN days, the export of a range, both folded by the privacy floor.
 */
export function counterQueries(
  read: (from: number, to: number) => Promise<CounterSnapshot>,
  options: { now: () => number; floor: number },
): Pick<CollectorStore, 'stats' | 'export'> {
  return {
    async stats(asked = {}) {
      const asOf = asked.asOf === undefined ? dayNumber(options.now()) : dayOf(asked.asOf);
      return buildStats(await read(asOf - DAYS_SHOWN + 1, asOf), { asOf, floor: options.floor });
    },
    async export(range) {
      const [from, to] = [dayOf(range.from), dayOf(range.to)];
      return buildExport(await read(from, to), { from, to, floor: options.floor });
    },
  };
}

/** Days the per-day series show, newest last. */
export const DAYS_SHOWN = 90;
/** Days of the installations breakdown (distinct sessions per value). */
export const INSTALLATIONS_WINDOW_DAYS = 30;

/** The counters a store read, for a range of days. Several rows may name one counter (shards, parts): they are summed. */
export interface CounterSnapshot {
  lifetime: LifetimeRow[];
  /** Rows of the days asked for (a store may return more; only the range is used). */
  days: DayRow[];
  lastHeartbeatAt: string | null;
}

/** A bucket as folded: its count, and the distinct sessions the floor is judged by. */
type Bucket = [value: string, count: number, sessions: number];

/** Largest first, then by value; `other` last: the same counters give the same text, before and after a restart. */
function ordered(entries: Array<[string, number]>): Array<[string, number]> {
  return entries.sort((a, b) => (a[0] === OTHER_KEY ? 1 : b[0] === OTHER_KEY ? -1 : b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/**
 * Folds every bucket with fewer than `floor` distinct sessions into `other`; the counts keep their sum.
 * Object.fromEntries makes own properties, so `__proto__` or `constructor` is a value like any other.
 */
export function applyFloor(buckets: Iterable<Bucket>, floor: number): Record<string, number> {
  const kept: Array<[string, number]> = [];
  let other = 0;
  let hasOther = false;
  for (const [value, count, sessions] of buckets) {
    if (count === 0) continue;
    if (value === OTHER_KEY || sessions < floor) {
      other += count;
      hasOther = true;
    } else kept.push([value, count]);
  }
  if (hasOther) kept.push([OTHER_KEY, other]);
  return Object.fromEntries(ordered(kept));
}

type DayIndex = Map<number, Map<Scope, DayRow[]>>;

function addDay(into: DayRow, row: DayRow): void {
  into.heartbeats += row.heartbeats;
  into.sessions1d += row.sessions1d;
  into.sessions7d += row.sessions7d;
  into.sessions30d += row.sessions30d;
  into.installs += row.installs;
}

/** The rows of days from..to by day and scope, rows naming the same counter summed (Maps: any value is itself). */
function indexDays(rows: readonly DayRow[], from: number, to: number): DayIndex {
  const sums = new Map<number, Map<Scope, Map<string, DayRow>>>();
  for (const row of rows) {
    if (row.day < from || row.day > to) continue;
    let byScope = sums.get(row.day);
    if (byScope === undefined) sums.set(row.day, (byScope = new Map()));
    let byValue = byScope.get(row.scope);
    if (byValue === undefined) byScope.set(row.scope, (byValue = new Map()));
    const sum = byValue.get(row.value);
    if (sum === undefined) byValue.set(row.value, { ...row });
    else addDay(sum, row);
  }
  const index: DayIndex = new Map();
  for (const [day, byScope] of sums) index.set(day, new Map([...byScope].map(([scope, byValue]) => [scope, [...byValue.values()]])));
  return index;
}

/** One entry per day of the index that has any count, oldest first. */
function series<T>(index: DayIndex, pick: (rows: Map<Scope, DayRow[]>) => T | undefined): Record<string, T> {
  const out: Array<[string, T]> = [];
  for (const day of [...index.keys()].sort((a, b) => a - b)) {
    const value = pick(index.get(day) as Map<Scope, DayRow[]>);
    if (value !== undefined) out.push([dayText(day), value]);
  }
  return Object.fromEntries(out);
}

const totalOf = (rows: Map<Scope, DayRow[]>): DayRow | undefined => rows.get('total')?.[0];

function lifetimeBy(rows: readonly LifetimeRow[], floor: number): Record<Dimension, Record<string, number>> & { totals: LifetimeRow | undefined } {
  const sums = new Map<Scope, Map<string, LifetimeRow>>();
  for (const row of rows) {
    let byValue = sums.get(row.scope);
    if (byValue === undefined) sums.set(row.scope, (byValue = new Map()));
    const sum = byValue.get(row.value);
    if (sum === undefined) byValue.set(row.value, { ...row });
    else [sum.heartbeats, sum.sessions] = [sum.heartbeats + row.heartbeats, sum.sessions + row.sessions];
  }
  const totals = sums.get('total')?.get('');
  const by = Object.fromEntries(DIMENSIONS.map((d) => [d, [...(sums.get(d)?.values() ?? [])].map((r): Bucket => [r.value, r.heartbeats, r.sessions])])) as Record<Dimension, Bucket[]>;
  const folded = Object.fromEntries(DIMENSIONS.map((d) => [d, applyFloor(by[d], floor)])) as Record<Dimension, Record<string, number>>;
  return { ...folded, totals };
}

/** Shares of a day's active sessions per server_version, after the floor (rounded to 4 places). */
function adoption(rows: Map<Scope, DayRow[]>, floor: number): Record<string, number> | undefined {
  const dau = totalOf(rows)?.sessions1d ?? 0;
  if (dau === 0) return undefined;
  const sessions = applyFloor((rows.get('server_version') ?? []).map((r) => [r.value, r.sessions1d, r.sessions1d]), floor);
  return Object.fromEntries(Object.entries(sessions).map(([v, n]) => [v, Math.round((n / dau) * 10_000) / 10_000]));
}

/** GET /api/collector/stats from a snapshot holding at least the DAYS_SHOWN days ending `asOf`. */
export function buildStats(snapshot: CounterSnapshot, options: { asOf: number; floor: number }): CollectorStats {
  const { asOf, floor } = options;
  const index = indexDays(snapshot.days, asOf - DAYS_SHOWN + 1, asOf);
  const life = lifetimeBy(snapshot.lifetime, floor);
  const today = index.get(asOf);
  const total = today === undefined ? undefined : totalOf(today);
  const installations = Object.fromEntries(
    DIMENSIONS.map((d) => [`by_${d}`, applyFloor((today?.get(d) ?? []).map((r) => [r.value, r.sessions30d, r.sessions30d]), floor)]),
  );
  return {
    heartbeats_total: life.totals?.heartbeats ?? 0,
    sessions_total: life.totals?.sessions ?? 0,
    by_server_version: life.server_version,
    by_platform: life.platform,
    by_environment: life.environment,
    by_architecture: life.architecture,
    by_node_version: life.node_version,
    last_heartbeat_at: snapshot.lastHeartbeatAt,
    heartbeats_by_day: series(index, (rows) => totalOf(rows)?.heartbeats || undefined),
    sessions_by_day: series(index, (rows) => totalOf(rows)?.sessions1d || undefined),
    versions_by_day: series(index, (rows) => {
      const folded = applyFloor((rows.get('server_version') ?? []).map((r) => [r.value, r.heartbeats, r.sessions1d]), floor);
      return Object.keys(folded).length === 0 ? undefined : folded;
    }),
    as_of: dayText(asOf),
    privacy_min_sessions: floor,
    active: { day: total?.sessions1d ?? 0, week: total?.sessions7d ?? 0, month: total?.sessions30d ?? 0 },
    active_by_day: series(index, (rows) => {
      const t = totalOf(rows);
      return t === undefined || t.sessions30d === 0 ? undefined : { day: t.sessions1d, week: t.sessions7d, month: t.sessions30d };
    }),
    new_by_day: series(index, (rows) => totalOf(rows)?.installs || undefined),
    installations: { window_days: INSTALLATIONS_WINDOW_DAYS, ...installations } as CollectorStats['installations'],
    adoption_by_day: series(index, (rows) => adoption(rows, floor)),
  };
}

/** GET /api/collector/export: per day and breakdown, each value's heartbeats and distinct sessions, after the floor. */
export function buildExport(snapshot: CounterSnapshot, options: { from: number; to: number; floor: number }): ExportRow[] {
  const index = indexDays(snapshot.days, options.from, options.to);
  const rows: ExportRow[] = [];
  for (const day of [...index.keys()].sort((a, b) => a - b)) {
    const byScope = index.get(day) as Map<Scope, DayRow[]>;
    const total = totalOf(byScope);
    if (total !== undefined && total.heartbeats > 0) rows.push({ day: dayText(day), breakdown: 'total', value: '', heartbeats: total.heartbeats, sessions: total.sessions1d });
    for (const dimension of DIMENSIONS) {
      const list = (byScope.get(dimension) ?? []).filter((r) => r.heartbeats > 0 || r.sessions1d > 0);
      const sessions = applyFloor(list.map((r) => [r.value, r.sessions1d, r.sessions1d]), options.floor);
      const heartbeats = applyFloor(list.map((r) => [r.value, r.heartbeats, r.sessions1d]), options.floor);
      // Maps, not property lookups: a value named `__proto__` must read as itself.
      const [s, h] = [new Map(Object.entries(sessions)), new Map(Object.entries(heartbeats))];
      for (const value of new Set([...h.keys(), ...s.keys()])) {
        rows.push({ day: dayText(day), breakdown: dimension, value, heartbeats: h.get(value) ?? 0, sessions: s.get(value) ?? 0 });
      }
    }
  }
  return rows;
}
