// What the collector stored before this version, carried into today's counters by one rule for every backend's
// migration: lifetime heartbeats per value (capped as today), heartbeats per day, and from each session's first
// day and the days it was seen, its record, the fleet's 1/7/30-day counts and new installations. Per-value
// session counts were never stored: they start at zero (so old buckets stay under the privacy floor).
import { DIMENSIONS, MAX_VALUES, OTHER_KEY, type Dimension, type Scope } from './counting.js';
import { createGroupCounts, type DayDelta, type DayRow, type LifetimeRow } from './groupCounts.js';
import { sight, type Presence } from './presence.js';
import type { SessionState } from './sessionState.js';

const zero = { heartbeats: 0, sessions1d: 0, sessions7d: 0, sessions30d: 0, installs: 0 };

/** The admitted values of a breakdown under today's cap: the MAX_VALUES - 1 with the most heartbeats (then by value). */
function admit(counts: Map<string, number>): Set<string> {
  const sorted = [...counts].filter(([value]) => value !== OTHER_KEY).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return new Set(sorted.slice(0, MAX_VALUES - 1).map(([value]) => value));
}

export function createLegacyCounts() {
  const counts = createGroupCounts();
  const byValue = new Map<Dimension, Map<string, number>>(DIMENSIONS.map((d) => [d, new Map()]));
  const dayHeartbeats: Array<{ day: number; scope: Scope; value: string; n: number }> = [];
  let totals = { heartbeats: 0, sessions: 0 };
  let admitted = new Map<Dimension, Set<string>>();
  const capped = (scope: Scope, value: string) => (scope === 'total' ? '' : admitted.get(scope)?.has(value) === true ? value : OTHER_KEY);

  return {
    /** The fleet's lifetime heartbeats and sessions. */
    totals(heartbeats: number, sessions: number): void {
      totals = { heartbeats, sessions };
    },
    /** Lifetime heartbeats of one value (before the cap; a value given twice is summed). */
    lifetime(dimension: Dimension, value: string, heartbeats: number): void {
      const map = byValue.get(dimension) as Map<string, number>;
      map.set(value, (map.get(value) ?? 0) + heartbeats);
    },
    /** Heartbeats of a day, for the fleet (`total`) or one value. */
    day(day: number, scope: Scope, value: string, heartbeats: number): void {
      dayHeartbeats.push({ day, scope, value, n: heartbeats });
    },
    /**
     * One session: its first day (undefined when unknown: its first day seen) and the days it was seen, in
     * ascending order. Returns its record; its sightings and its installation are counted.
     */
    session(first: number | undefined, days: readonly number[]): SessionState | undefined {
      let total: Presence | undefined;
      for (const day of days) {
        const seen = sight(total, day);
        if (seen === undefined) continue;
        total = seen.next;
        counts.session({ next: { first: 0, total, values: [] }, counts: [{ scope: 'total', value: '', first: false, added: seen.added }], installs: [] });
      }
      const start = first ?? days[0];
      if (start === undefined) return undefined;
      counts.merge([{ ...zero, day: start, scope: 'total', value: '', installs: 1 }], []);
      return { first: start, total: total ?? { last: start, mask: 1n }, values: [] };
    },
    /** The counters of everything given, capped, and the values each breakdown admitted. */
    result(): { lifetime: LifetimeRow[]; days: DayRow[]; admitted: Map<Dimension, Set<string>> } {
      admitted = new Map(DIMENSIONS.map((d) => [d, admit(byValue.get(d) as Map<string, number>)]));
      const lifetime: LifetimeRow[] = [{ scope: 'total', value: '', ...totals }];
      for (const [dimension, map] of byValue) for (const [value, n] of map) lifetime.push({ scope: dimension, value: capped(dimension, value), heartbeats: n, sessions: 0 });
      const deltas: DayDelta[] = dayHeartbeats.map(({ day, scope, value, n }) => ({ ...zero, day, scope, value: capped(scope, value), heartbeats: n }));
      counts.merge(deltas, lifetime);
      return { lifetime: counts.lifetimeRows(), days: counts.dayRows(), admitted };
    },
  };
}

export type LegacyCounts = ReturnType<typeof createLegacyCounts>;
