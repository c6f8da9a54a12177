// What one group of heartbeats adds to the counters, the one rule every backend writes: heartbeats per value
// (lifetime and per day), and from each session's record, distinct sessions per day, week and 30 days,
// lifetime distinct sessions per value, and new installations.
import { DIMENSIONS, type CountedHeartbeat, type Dimension, type Scope } from './counting.js';
import { dayNumber, WINDOWS } from './presence.js';
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

type Nested<T> = Map<Scope, Map<string, T>>;

function slot<T>(map: Nested<T>, scope: Scope, value: string, make: () => T): T {
  let byValue = map.get(scope);
  if (byValue === undefined) map.set(scope, (byValue = new Map()));
  let counts = byValue.get(value);
  if (counts === undefined) byValue.set(value, (counts = make()));
  return counts;
}

const emptyDay = (): DayCounts => ({ heartbeats: 0, sessions1d: 0, sessions7d: 0, sessions30d: 0, installs: 0 });
const emptyLifetime = (): LifetimeCounts => ({ heartbeats: 0, sessions: 0 });

/** The counter deltas of one group, kept in nested maps (no key is ever built by joining values). */
export function createGroupCounts() {
  const days = new Map<number, Nested<DayCounts>>();
  const lifetime: Nested<LifetimeCounts> = new Map();
  const dayOf = (day: number, scope: Scope, value: string): DayCounts => {
    let byScope = days.get(day);
    if (byScope === undefined) days.set(day, (byScope = new Map()));
    return slot(byScope, scope, value, emptyDay);
  };

  return {
    /** One heartbeat: +1 for the fleet and for each of its (capped) values, lifetime and on its day. */
    heartbeat(values: Readonly<Record<Dimension, string>>, day: number): void {
      dayOf(day, 'total', '').heartbeats += 1;
      slot(lifetime, 'total', '', emptyLifetime).heartbeats += 1;
      for (const dimension of DIMENSIONS) {
        dayOf(day, dimension, values[dimension]).heartbeats += 1;
        slot(lifetime, dimension, values[dimension], emptyLifetime).heartbeats += 1;
      }
    },
    /** What a session's sighting adds. */
    session(change: SessionChange): void {
      for (const count of change.counts) {
        if (count.first) slot(lifetime, count.scope, count.value, emptyLifetime).sessions += 1;
        for (const window of WINDOWS) for (const day of count.added[window]) dayOf(day, count.scope, count.value)[WINDOW_FIELD[window]] += 1;
      }
      for (const [day, n] of change.installs) dayOf(day, 'total', '').installs += n;
    },
    dayRows(): DayRow[] {
      const rows: DayRow[] = [];
      for (const [day, byScope] of days)
        for (const [scope, byValue] of byScope) for (const [value, counts] of byValue) rows.push({ day, scope, value, ...counts });
      return rows;
    },
    lifetimeRows(): LifetimeRow[] {
      const rows: LifetimeRow[] = [];
      for (const [scope, byValue] of lifetime) for (const [value, counts] of byValue) rows.push({ scope, value, ...counts });
      return rows;
    },
  };
}

export type GroupCounts = ReturnType<typeof createGroupCounts>;

/** What a backend supplies to count a group. */
export interface GroupIO {
  /** A value as stored: itself when admitted under the cap (admitted before this call), else OTHER_KEY. */
  cap(dimension: Dimension, value: string): string;
  /** The stored records of these sessions; absent or undefined for a session never seen (or purged). */
  readStates(sessionIds: string[]): Promise<Map<string, SessionState | undefined>>;
  /** True when this sighting (see sightingKey) is known to be committed already: its session needs no work. */
  known?(sighting: string): boolean;
}

export interface CountedGroup {
  counts: GroupCounts;
  /** Session records to write (only those that changed). */
  states: Map<string, SessionState>;
  /** The group's sightings, to pass to `known`'s cache once the group has committed. */
  sightings: string[];
}

/** Names one sighting: a session, a day and its capped values (an in-memory cache key, never stored). */
export function sightingKey(sessionId: string, day: number, values: readonly string[]): string {
  return JSON.stringify([sessionId, day, ...values]);
}

/**
 * Counts a group (already free of duplicate idempotency keys): the heartbeat counters, and for each session
 * whose sighting is not known, its record read, sighted and returned for writing. Pure apart from `io`.
 */
export async function countGroup(group: readonly CountedHeartbeat[], io: GroupIO): Promise<CountedGroup> {
  const counts = createGroupCounts();
  const pending: Array<{ id: string; day: number; values: Record<Dimension, string> }> = [];
  const sightings: string[] = [];
  for (const heartbeat of group) {
    const values = {} as Record<Dimension, string>;
    for (const dimension of DIMENSIONS) values[dimension] = io.cap(dimension, heartbeat.values[dimension]);
    const day = dayNumber(heartbeat.receivedAt);
    counts.heartbeat(values, day);
    const key = sightingKey(heartbeat.sessionId, day, DIMENSIONS.map((d) => values[d]));
    sightings.push(key);
    if (io.known?.(key) !== true) pending.push({ id: heartbeat.sessionId, day, values });
  }
  const states = new Map<string, SessionState>();
  if (pending.length === 0) return { counts, states, sightings };
  const stored = await io.readStates([...new Set(pending.map((p) => p.id))]);
  for (const { id, day, values } of pending) {
    const change = observeSession(states.get(id) ?? stored.get(id), values, day);
    if (change === undefined) continue;
    states.set(id, change.next);
    counts.session(change);
  }
  return { counts, states, sightings };
}
