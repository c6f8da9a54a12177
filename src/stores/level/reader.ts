// The LevelDB collector store's reads: the day counters of a range from LevelDB (or from the last read of it, while
// no fold or purge has changed them), and what is not folded into them yet from memory, both as of one moment
// between two writes, so stats and export cost days x values (bounded by the cap), never sessions, history, or
// how many groups wait to be folded.
import type { CounterSnapshot } from '../fold.js';
import { createGroupCounts, type DayRow, type LifetimeRow } from '../groupCounts.js';
import { decodeDay } from './codec.js';
import { dayRange, parseDayKey } from './keys.js';
import type { LevelSnapshot, Utf8Sublevel } from './levelLike.js';
import { readLastAt, readLifetime, storedGroups, type LevelState, type ReadAt } from './state.js';


/** What memory holds beyond the folded day counters: every acknowledged lifetime counter and pending day row. */
export interface MemoryView {
  lifetime: LifetimeRow[];
  /** The pending groups' rows of the range asked for. */
  pending: DayRow[];
  lastAt: number | null;
}

/**
 * The acknowledged state beyond the folded day counters, taken synchronously. Only exact between two writes (in
 * the writer's turn): there, the pending deltas in memory are the group records on disk, and the lifetime
 * counters in memory the stored ones plus theirs.
 */
export function memoryView(state: LevelState, from: number, to: number): MemoryView {
  const lifetime: LifetimeRow[] = [];
  for (const [scope, byValue] of state.lifetime) for (const [value, counts] of byValue) lifetime.push({ scope, value, ...counts });
  const pending = state.pending.dayRows().filter((r) => r.day >= from && r.day <= to);
  return { lifetime, pending, lastAt: state.lastAt };
}

/** Entries read per call into LevelDB: one call (not one promise per entry) for a day or so of counters. */
const READ_CHUNK = 1_000;

/** The stored (folded) day counters of days from..to (inclusive). */
async function readDays(store: Utf8Sublevel, from: number, to: number, at: ReadAt): Promise<DayRow[]> {
  const days: DayRow[] = [];
  const iterator = store.iterator({ ...dayRange(from, to), ...at });
  try {
    for (;;) {
      const entries = await iterator.nextv(READ_CHUNK);
      for (const [key, text] of entries) {
        const where = parseDayKey(key);
        const c = decodeDay(text);
        if (where === undefined || c === undefined) continue;
        const { heartbeats, sessions1d, sessions7d, sessions30d, installs } = c;
        days.push({ day: where.day, scope: where.scope, value: where.value, heartbeats, sessions1d, sessions7d, sessions30d, installs });
      }
      if (entries.length < READ_CHUNK) return days;
    }
  } finally {
    await iterator.close();
  }
}

const toSnapshot = (lifetime: LifetimeRow[], days: DayRow[], lastAt: number | null): CounterSnapshot => ({
  lifetime,
  days,
  lastHeartbeatAt: lastAt === null || lastAt === 0 ? null : new Date(lastAt).toISOString(),
});

/**
 * Everything from disk, the group records not yet folded included: for the time after a failed write, when memory
 * may not say whether a fold landed. `skipSeq`: the failed group's record, never acknowledged.
 */
export async function readFromDisk(store: Utf8Sublevel, from: number, to: number, skipSeq?: number): Promise<CounterSnapshot> {
  // An explicit snapshot where the database has them (classic-level does): the reads below see one moment.
  const snapshot: LevelSnapshot | undefined = store.supports?.explicitSnapshots === true ? store.snapshot?.() : undefined;
  const at = snapshot === undefined ? {} : { snapshot };
  try {
    const lifetime = await readLifetime(store, at);
    const days = await readDays(store, from, to, at);
    const pending = createGroupCounts();
    let lastAt = (await readLastAt(store, at)) ?? 0;
    for await (const { seq, record } of storedGroups(store, at)) {
      if (record === undefined || seq === skipSeq) continue;
      pending.merge(record.deltas, record.lifetime);
      lastAt = Math.max(lastAt, record.lastAt);
    }
    const pendingDays = pending.dayRows().filter((r) => r.day >= from && r.day <= to);
    return toSnapshot([...lifetime, ...pending.lifetimeRows()], [...days, ...pendingDays], lastAt);
  } finally {
    await snapshot?.close();
  }
}

export interface CounterReadContext {
  /** The current sublevel (a fresh one after each reopen). */
  store(): Utf8Sublevel;
  state: LevelState;
  /** The writer's turn: work in it never runs beside a group write, a fold or a purge batch. */
  turn<T>(work: () => Promise<T>): Promise<T>;
  /** The failed write not yet recovered from, if any (and its group's sequence number). */
  failed(): { seq?: number } | undefined;
}

/** Ranges whose stored day rows are kept between reads (stats' 90 days and an export's range, say). */
export const CACHED_RANGES = 2;

/**
 * The counters of days from..to as of one moment. In the writer's turn, between two writes, memory's view is
 * taken with a LevelDB snapshot (both synchronously); the snapshot is read once the turn is released, so a read
 * holds up writes only for the view. The stored day rows change only when a fold, a purge or a recovery writes
 * them (state.dayRowsVersion): until then a range read again takes them from memory. After a failed write,
 * until recovery, the disk is read whole instead.
 */
export function createCounterReads(ctx: CounterReadContext) {
  const cache = new Map<string, { version: number; rows: DayRow[] }>();
  const remember = (range: string, version: number, rows: DayRow[]) => {
    cache.delete(range);
    cache.set(range, { version, rows });
    for (const oldest of cache.keys()) if (cache.size > CACHED_RANGES) cache.delete(oldest);
  };

  return async function readCounters(from: number, to: number): Promise<CounterSnapshot> {
    const range = `${from}..${to}`;
    const taken = await ctx.turn(async () => {
      if (ctx.failed() !== undefined) return undefined;
      const [store, view, version] = [ctx.store(), memoryView(ctx.state, from, to), ctx.state.dayRowsVersion];
      const cached = cache.get(range);
      if (cached?.version === version) return { view, version, rows: cached.rows };
      const snapshot = store.supports?.explicitSnapshots === true ? store.snapshot?.() : undefined;
      // Without explicit snapshots the days are read here, before another write can land.
      if (snapshot === undefined) return { view, version, rows: await readDays(store, from, to, {}) };
      // Read once the turn is released.
      const later = async () => {
        try {
          return await readDays(store, from, to, { snapshot });
        } finally {
          await snapshot.close();
        }
      };
      return { view, version, rows: later };
    });
    if (taken === undefined) return readFromDisk(ctx.store(), from, to, ctx.failed()?.seq);
    const rows = typeof taken.rows === 'function' ? await taken.rows() : taken.rows;
    remember(range, taken.version, rows);
    return toSnapshot(taken.view.lifetime, [...rows, ...taken.view.pending], taken.view.lastAt);
  };
}
