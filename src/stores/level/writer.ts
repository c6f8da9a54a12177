// The LevelDB collector store's writes. A group is one synced batch: its idempotency keys, its session records,
// and one record of its counter deltas (a few KiB at most, however many sessions are new), so a heartbeat costs
// about one small key. The pending deltas are folded into the counters in one batch now and then (FOLD_AFTER_*).
// Whatever a failed batch might have left on disk is remembered as an undo, for recovery to write.
import { classifyKeys, createCap, toCount } from '../admission.js';
import type { CountedHeartbeat } from '../counting.js';
import { countGroup, createGroupCounts, type CountedGroup } from '../groupCounts.js';
import type { RecordResult } from '../admission.js';
import { dayNumber } from '../presence.js';
import { decodeSessionState, encodeSessionState, type SessionState } from '../sessionState.js';
import { decodeDay, encodeDay, encodeGroup, encodeLifetime } from './codec.js';
import { LAST_KEY, SESSION, dayKey, groupKey, idempotencyKey, lifetimeKey, sessionIdOf, sessionKey } from './keys.js';
import type { BatchOperation, Utf8Sublevel } from './levelLike.js';
import { addLifetime, type LevelState } from './state.js';

/**
 * Group records kept before they are folded into the counters. A fold rewrites about 30 days x the values the
 * groups touched, whatever their number, so folding less often is cheaper; reads and opening parse the records
 * not yet folded, so they are bounded in count and in bytes.
 */
export const FOLD_AFTER_GROUPS = 1_024;
export const FOLD_AFTER_BYTES = 1024 * 1024;
const HOUR_MS = 3_600_000;

export interface WriterContext {
  /** The current sublevel (a fresh one after each reopen). */
  store(): Utf8Sublevel;
  state: LevelState;
  idempotencyHours: number;
  /** Says once that a stored record is not valid (it is then counted as absent). */
  corrupt(key: string): void;
}

/** What a failed write may have left on disk (LevelDB may or may not replay a record whose sync failed), to take back. */
export interface Undo {
  operations: BatchOperation[];
  /** The failed group's record, which reads must skip until the undo is written. */
  seq?: number;
}

const put = (key: string, value: string): BatchOperation => ({ type: 'put', key, value });
const del = (key: string): BatchOperation => ({ type: 'del', key });

export function createWriter(ctx: WriterContext) {
  const { state } = ctx;
  const windowMs = ctx.idempotencyHours * HOUR_MS;
  let failed: Undo | undefined;

  /** The fingerprints the group's keys were counted with: from the cache, else looked up on the days of their window. */
  async function storedKeys(group: readonly CountedHeartbeat[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const wanted: Array<[key: string, stored: string]> = [];
    for (const { idempotency, receivedAt } of group) {
      if (idempotency === undefined) continue;
      const oldest = dayNumber(receivedAt.getTime() - windowMs);
      const cached = state.recentKeys.get(idempotency.key);
      if (cached !== undefined && cached.day >= oldest) found.set(idempotency.key, cached.fingerprint);
      else for (let day = oldest; day <= dayNumber(receivedAt); day += 1) if (state.keyDays.has(day)) wanted.push([idempotency.key, idempotencyKey(day, idempotency.key)]);
    }
    if (wanted.length === 0) return found;
    const values = await ctx.store().getMany(wanted.map(([, stored]) => stored));
    values.forEach((value, i) => value !== undefined && found.set(wanted[i]![0], value));
    return found;
  }

  /** Session records, read only for sessions that may have one; `prior` keeps the text read, for the undo. */
  async function readStates(ids: string[], prior: Map<string, string | undefined>): Promise<Map<string, SessionState | undefined>> {
    const states = new Map<string, SessionState | undefined>();
    const toRead = ids.filter((id) => !state.sessionsComplete || state.knownSessions.has(id));
    if (toRead.length === 0) return states;
    const texts = await ctx.store().getMany(toRead.map(sessionKey));
    texts.forEach((text, i) => {
      const id = toRead[i] as string;
      prior.set(id, text);
      const decoded = text === undefined ? undefined : decodeSessionState(text);
      if (text !== undefined && decoded === undefined) ctx.corrupt(sessionKey(id));
      states.set(id, decoded);
    });
    return states;
  }

  /** The batch that writes a counted group. */
  function groupBatch(seq: number, counting: CountedHeartbeat[], counted: CountedGroup) {
    const lastAt = counting.reduce((max, h) => Math.max(max, h.receivedAt.getTime()), 0);
    const [lifetime, deltas] = [counted.counts.lifetimeRows(), counted.counts.deltaRows()];
    const operations = [put(groupKey(seq), encodeGroup({ lastAt, lifetime, deltas }))];
    for (const [id, next] of counted.states) operations.push(put(sessionKey(id), encodeSessionState(next)));
    for (const { idempotency, receivedAt } of counting) {
      if (idempotency !== undefined) operations.push(put(idempotencyKey(dayNumber(receivedAt), idempotency.key), idempotency.fingerprint));
    }
    return { operations, lastAt, lifetime, deltas };
  }

  /** What takes a failed batch back: each key it put restored to what it was before (a session's text read), or deleted. */
  function undoOf(operations: BatchOperation[], prior: Map<string, string | undefined>): BatchOperation[] {
    return operations.map((op) => {
      const before = op.key.startsWith(SESSION) ? prior.get(sessionIdOf(op.key)) : undefined;
      return before === undefined ? del(op.key) : put(op.key, before);
    });
  }

  /** Counts a group: one synced batch; the state changes only once it is written. */
  async function commit(group: readonly CountedHeartbeat[]): Promise<RecordResult[]> {
    const found = await storedKeys(group);
    const results = classifyKeys(group, (key) => found.get(key));
    const counting = toCount(group, results);
    if (counting.length === 0) return results;
    const prior = new Map<string, string | undefined>();
    const cap = createCap((dimension) => state.admitted.get(dimension) as Set<string>);
    const counted = await countGroup(counting, { cap: cap.cap, readStates: (ids) => readStates(ids, prior), known: state.sightings.known });
    const seq = state.nextSeq;
    state.nextSeq += 1;
    const batch = groupBatch(seq, counting, counted);
    try {
      await ctx.store().batch(batch.operations, { sync: true });
    } catch (error) {
      failed = { operations: undoOf(batch.operations, prior), seq };
      throw error;
    }
    state.pending.merge(batch.deltas, batch.lifetime);
    state.pendingSeqs.push(seq);
    state.pendingBytes += batch.operations[0]!.type === 'put' ? batch.operations[0]!.value.length : 0;
    for (const row of batch.lifetime) addLifetime(state, row);
    state.lastAt = Math.max(state.lastAt ?? 0, batch.lastAt);
    for (const id of counted.states.keys()) state.knownSessions.set(id, true);
    state.sightings.remember(counted.sightings);
    for (const { idempotency, receivedAt } of counting) {
      if (idempotency !== undefined) state.recentKeys.set(idempotency.key, { fingerprint: idempotency.fingerprint, day: dayNumber(receivedAt) });
    }
    return results;
  }

  /**
   * Folds the pending groups into the counters and deletes their records, in one batch. Not synced: it changes
   * what is stored, not what it says (the counters plus the records are the same counts before and after), and
   * the next synced group write takes it to disk.
   */
  async function fold(): Promise<void> {
    if (state.pendingSeqs.length === 0) return;
    const increments = state.pending.dayRows();
    const keys = increments.map((r) => dayKey(r.day, r.scope, r.value));
    const stored = keys.length === 0 ? [] : await ctx.store().getMany(keys);
    const operations = increments.map((r, i) => {
      const text = stored[i];
      const old = text === undefined ? undefined : decodeDay(text);
      if (text !== undefined && old === undefined) ctx.corrupt(keys[i] as string);
      const sum = (a: number, b: number | undefined) => Math.max(0, a + (b ?? 0));
      return put(keys[i] as string, encodeDay({
        heartbeats: sum(r.heartbeats, old?.heartbeats), sessions1d: sum(r.sessions1d, old?.sessions1d), sessions7d: sum(r.sessions7d, old?.sessions7d),
        sessions30d: sum(r.sessions30d, old?.sessions30d), installs: sum(r.installs, old?.installs),
      }));
    });
    for (const { scope, value } of state.pending.lifetimeRows()) operations.push(put(lifetimeKey(scope, value), encodeLifetime(state.lifetime.get(scope)!.get(value)!)));
    if (state.lastAt !== null) operations.push(put(LAST_KEY, new Date(state.lastAt).toISOString()));
    for (const seq of state.pendingSeqs) operations.push(del(groupKey(seq)));
    try {
      await ctx.store().batch(operations);
    } catch (error) {
      failed = { operations: [] };
      throw error;
    }
    state.pending = createGroupCounts();
    state.pendingSeqs = [];
    state.pendingBytes = 0;
  }

  return {
    commit,
    fold,
    /** Fold when enough groups are pending. */
    foldDue: () => state.pendingSeqs.length >= FOLD_AFTER_GROUPS || state.pendingBytes >= FOLD_AFTER_BYTES,
    /** The undo of the last failed write (for recovery), if any. */
    failed: () => failed,
    /** Called once recovery has written the undo. */
    recovered: () => void (failed = undefined),
  };
}

export type LevelWriter = ReturnType<typeof createWriter>;
