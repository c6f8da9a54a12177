// What one group of heartbeats adds to the counters, the one rule every backend writes: heartbeats per value
// (lifetime and per day), and from each session's record, distinct sessions per day, week and 30 days,
// lifetime distinct sessions per value, and new installations.
import { DIMENSIONS, type CountedHeartbeat, type Dimension, type Scope } from './counting.js';
import { createLru } from './lru.js';
import { dayNumber, WINDOWS, type DayRun } from './presence.js';
import { observeSession, type SessionChange, type SessionState } from './sessionState.js';

/** A day's counts for one scope and value. */
export interface DayCounts {
  heartbeats: number;
  /** Distinct sessions seen that day. */
  sessions1d: number;
  /** Distinct sessions seen in the 7 days ending that day. */
  sessions7d: number;
  /** Distinct sessions seen in the 30 days ending that day. */
  sessions30d: number;
  /** Sessions first seen that day (scope `total` only). */
  installs: number;
}

export interface LifetimeCounts {
  heartbeats: number;
  /** Distinct sessions ever counted here (a session purged by retention and seen again counts again). */
  sessions: number;
}

export interface DayRow extends DayCounts {
  /** UTC day number (see presence.ts dayNumber / dayText). */
  day: number;
  scope: Scope;
  /** '' for scope `total`. */
  value: string;
}

export interface LifetimeRow extends LifetimeCounts {
  scope: Scope;
  value: string;
}

const WINDOW_FIELD = { 1: 'sessions1d', 7: 'sessions7d', 30: 'sessions30d' } as const;

/**
 * A day's change to one counter as a group records it: heartbeats and installs added that day, and each window
 * count as a difference: +n on the day a run of newly covered days starts, -n on the day after it ends. A new
 * session thus costs 2 entries per window instead of 1 + 7 + 30 day rows; `materialize` turns deltas into the
 * DayRow increments they stand for.
 */
export type DayDelta = DayRow;

type Nested<T> = Map<Scope, Map<string, T>>;
/** One scope and value's deltas by day. */
type ByDay = Map<number, DayCounts>;

function slot<T>(map: Nested<T>, scope: Scope, value: string, make: () => T): T {
  let byValue = map.get(scope);
  if (byValue === undefined) map.set(scope, (byValue = new Map()));
  let counts = byValue.get(value);
  if (counts === undefined) byValue.set(value, (counts = make()));
  return counts;
}

const emptyDay = (): DayCounts => ({ heartbeats: 0, sessions1d: 0, sessions7d: 0, sessions30d: 0, installs: 0 });
const emptyLifetime = (): LifetimeCounts => ({ heartbeats: 0, sessions: 0 });
const emptyByDay = (): ByDay => new Map();

function cell(byDay: ByDay, day: number): DayCounts {
  let counts = byDay.get(day);
  if (counts === undefined) byDay.set(day, (counts = emptyDay()));
  return counts;
}

/** +1 where each run of consecutive days starts, -1 the day after it ends. */
function addRuns(byDay: ByDay, field: (typeof WINDOW_FIELD)[keyof typeof WINDOW_FIELD], runs: readonly DayRun[]): void {
  for (const [from, to] of runs) {
    cell(byDay, from)[field] += 1;
    cell(byDay, to + 1)[field] -= 1;
  }
}

/** The increments one scope and value's deltas stand for, one row per day that changes, oldest first. */
function materializeOne(scope: Scope, value: string, byDay: ByDay, out: DayRow[]): void {
  const days = [...byDay.keys()].sort((a, b) => a - b);
  let [s1, s7, s30] = [0, 0, 0];
  for (let i = 0; i < days.length; i += 1) {
    const from = days[i] as number;
    const to = i + 1 < days.length ? (days[i + 1] as number) - 1 : from;
    const delta = byDay.get(from) as DayCounts;
    [s1, s7, s30] = [s1 + delta.sessions1d, s7 + delta.sessions7d, s30 + delta.sessions30d];
    // The running sums hold until the next delta: a row for every day of [from, to] that has any count.
    for (let day = from; day <= to; day += 1) {
      const [heartbeats, installs] = day === from ? [delta.heartbeats, delta.installs] : [0, 0];
      if (heartbeats !== 0 || installs !== 0 || s1 !== 0 || s7 !== 0 || s30 !== 0) {
        out.push({ day, scope, value, heartbeats, sessions1d: s1, sessions7d: s7, sessions30d: s30, installs });
      }
      if (s1 === 0 && s7 === 0 && s30 === 0) break;
    }
  }
}

/**
 * The counter deltas of one group (or of several merged), kept in nested maps: no key is ever built by joining
 * values. Window counts are kept as differences (see DayDelta) and materialised only when asked.
 */
export function createGroupCounts() {
  const cells: Nested<ByDay> = new Map();
  const lifetime: Nested<LifetimeCounts> = new Map();
  const total = () => slot(cells, 'total', '', emptyByDay);

  return {
    /** One heartbeat: +1 for the fleet and for each of its (capped) values, lifetime and on its day. */
    heartbeat(values: Readonly<Record<Dimension, string>>, day: number): void {
      cell(total(), day).heartbeats += 1;
      slot(lifetime, 'total', '', emptyLifetime).heartbeats += 1;
      for (const dimension of DIMENSIONS) {
        cell(slot(cells, dimension, values[dimension], emptyByDay), day).heartbeats += 1;
        slot(lifetime, dimension, values[dimension], emptyLifetime).heartbeats += 1;
      }
    },
    /** What a session's sighting adds. */
    session(change: SessionChange): void {
      for (const count of change.counts) {
        if (count.first) slot(lifetime, count.scope, count.value, emptyLifetime).sessions += 1;
        const byDay = slot(cells, count.scope, count.value, emptyByDay);
        for (const window of WINDOWS) addRuns(byDay, WINDOW_FIELD[window], count.added[window]);
      }
      for (const [day, n] of change.installs) cell(total(), day).installs += n;
    },
    /** Adds deltas and lifetime rows recorded elsewhere (another group's), so several groups fold into one. */
    merge(deltas: readonly DayDelta[], lifetimeRows: readonly LifetimeRow[]): void {
      for (const d of deltas) {
        const c = cell(slot(cells, d.scope, d.value, emptyByDay), d.day);
        c.heartbeats += d.heartbeats;
        c.sessions1d += d.sessions1d;
        c.sessions7d += d.sessions7d;
        c.sessions30d += d.sessions30d;
        c.installs += d.installs;
      }
      for (const row of lifetimeRows) {
        const c = slot(lifetime, row.scope, row.value, emptyLifetime);
        c.heartbeats += row.heartbeats;
        c.sessions += row.sessions;
      }
    },
    /** The deltas as rows (window fields are differences: see DayDelta). */
    deltaRows(): DayDelta[] {
      const rows: DayDelta[] = [];
      for (const [scope, byValue] of cells) for (const [value, byDay] of byValue) for (const [day, counts] of byDay) rows.push({ day, scope, value, ...counts });
      return rows;
    },
    /** What the deltas add to each day's counters (window fields as counts), only days that change. */
    dayRows(): DayRow[] {
      const rows: DayRow[] = [];
      for (const [scope, byValue] of cells) for (const [value, byDay] of byValue) materializeOne(scope, value, byDay, rows);
      return rows;
    },
    lifetimeRows(): LifetimeRow[] {
      const rows: LifetimeRow[] = [];
      for (const [scope, byValue] of lifetime) for (const [value, counts] of byValue) rows.push({ scope, value, ...counts });
      return rows;
    },
    /** True when nothing was added. */
    empty(): boolean {
      return cells.size === 0 && lifetime.size === 0;
    },
  };
}

export type GroupCounts = ReturnType<typeof createGroupCounts>;
export type SightingCache = ReturnType<typeof createSightingCache>;

/** What a backend supplies to count a group. */
export interface GroupIO {
  /** A value as stored: itself when admitted under the cap (admitted before this call), else OTHER_KEY. */
  cap(dimension: Dimension, value: string): string;
  /** The stored records of these sessions; absent or undefined for a session never seen (or purged). */
  readStates(sessionIds: string[]): Promise<Map<string, SessionState | undefined>>;
  /** True when this sighting is known to be committed already: its session needs no work. */
  known?(sighting: Sighting): boolean;
}

/** A session seen on a day with its capped values (breakdowns in DIMENSIONS order). */
export interface Sighting {
  sessionId: string;
  day: number;
  values: Readonly<Record<Dimension, string>>;
}

export interface CountedGroup {
  counts: GroupCounts;
  /** Session records to write (only those that changed). */
  states: Map<string, SessionState>;
  /** The group's sightings, to pass to `known`'s cache once the group has committed. */
  sightings: Sighting[];
}

/**
 * The sightings a process knows are committed, by session: its latest day and values (a session reports the
 * same values day after day, so one entry each suffices; no key is built by joining values). Bounded.
 */
export function createSightingCache(limit: number) {
  const latest = createLru<string, Sighting>(limit);
  return {
    known(s: Sighting): boolean {
      const seen = latest.get(s.sessionId);
      return seen !== undefined && seen.day === s.day && DIMENSIONS.every((d) => seen.values[d] === s.values[d]);
    },
    /** Called once the group holding them has committed. */
    remember(sightings: readonly Sighting[]): void {
      for (const s of sightings) latest.set(s.sessionId, s);
    },
  };
}

/**
 * Counts a group (already free of duplicate idempotency keys): the heartbeat counters, and for each session
 * whose sighting is not known, its record read, sighted and returned for writing. Pure apart from `io`.
 */
export async function countGroup(group: readonly CountedHeartbeat[], io: GroupIO): Promise<CountedGroup> {
  const counts = createGroupCounts();
  const pending: Sighting[] = [];
  const sightings: Sighting[] = [];
  for (const heartbeat of group) {
    const values = {} as Record<Dimension, string>;
    for (const dimension of DIMENSIONS) values[dimension] = io.cap(dimension, heartbeat.values[dimension]);
    const sighting: Sighting = { sessionId: heartbeat.sessionId, day: dayNumber(heartbeat.receivedAt), values };
    counts.heartbeat(values, sighting.day);
    sightings.push(sighting);
    if (io.known?.(sighting) !== true) pending.push(sighting);
  }
  const states = new Map<string, SessionState>();
  if (pending.length === 0) return { counts, states, sightings };
  const stored = await io.readStates([...new Set(pending.map((p) => p.sessionId))]);
  for (const { sessionId, day, values } of pending) {
    const change = observeSession(states.get(sessionId) ?? stored.get(sessionId), values, day);
    if (change === undefined) continue;
    states.set(sessionId, change.next);
    counts.session(change);
  }
  return { counts, states, sightings };
}
