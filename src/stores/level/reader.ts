// The LevelDB collector store's reads: one consistent snapshot of the lifetime counters, the day counters of a
// range and the groups not yet folded, so stats and export cost days x values (bounded by the cap), never sessions.
import type { CounterSnapshot } from '../fold.js';
import { createGroupCounts, type DayRow, type LifetimeRow } from '../groupCounts.js';
import { decodeDay, decodeGroup, decodeLifetime } from './codec.js';
import { GROUP, LAST_KEY, LIFETIME, dayRange, parseDayKey, parseGroupKey, parseLifetimeKey, prefixRange } from './keys.js';
import type { LevelSnapshot, Utf8Sublevel } from './levelLike.js';

/** The counters of days from..to (inclusive) and the lifetime counters, as of one moment. `skipSeq`: a failed group's record. */
export async function readCounters(store: Utf8Sublevel, from: number, to: number, skipSeq?: number): Promise<CounterSnapshot> {
  // An explicit snapshot where the database has them (classic-level does): the reads below see one moment.
  const snapshot: LevelSnapshot | undefined = store.supports?.explicitSnapshots === true ? store.snapshot?.() : undefined;
  const at = snapshot === undefined ? {} : { snapshot };
  try {
    const lifetime: LifetimeRow[] = [];
    for await (const [key, text] of store.iterator({ ...prefixRange(LIFETIME), ...at })) {
      const where = parseLifetimeKey(key);
      const counts = decodeLifetime(text);
      if (where !== undefined && counts !== undefined) lifetime.push({ ...where, ...counts });
    }
    const days: DayRow[] = [];
    for await (const [key, text] of store.iterator({ ...dayRange(from, to), ...at })) {
      const where = parseDayKey(key);
      const counts = decodeDay(text);
      if (where !== undefined && counts !== undefined) days.push({ ...where, ...counts });
    }
    const pending = createGroupCounts();
    const lastText = await store.get(LAST_KEY, at);
    let lastAt = lastText === undefined || Number.isNaN(Date.parse(lastText)) ? 0 : Date.parse(lastText);
    for await (const [key, text] of store.iterator({ ...prefixRange(GROUP), ...at })) {
      const record = parseGroupKey(key) === skipSeq ? undefined : decodeGroup(text);
      if (record === undefined) continue;
      pending.merge(record.deltas, record.lifetime);
      lastAt = Math.max(lastAt, record.lastAt);
    }
    return {
      lifetime: [...lifetime, ...pending.lifetimeRows()],
      days: [...days, ...pending.dayRows().filter((r) => r.day >= from && r.day <= to)],
      lastHeartbeatAt: lastAt === 0 ? null : new Date(lastAt).toISOString(),
    };
  } finally {
    await snapshot?.close();
  }
}

