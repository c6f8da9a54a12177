// The rules a group meets before it is counted, written once for every backend: the cap on distinct values
// per breakdown, and idempotency keys (a retry is a duplicate; the same key with another body is a conflict).
import { IdempotencyConflictError } from '../errors.js';
import { MAX_VALUES, OTHER_KEY, type CountedHeartbeat, type Dimension } from './counting.js';
import type { EntryResult } from './groupCommit.js';
import type { RecordOutcome } from './collectorStore.js';

/** What one heartbeat of a group came to: its outcome, or the error it alone is refused with (422). */
export type RecordResult = EntryResult<RecordOutcome>;

/**
 * The cap: a breakdown admits at most MAX_VALUES - 1 values (the last slot is `other`), first come first
 * served; a value beyond it is counted as OTHER_KEY. `admitted` gives a breakdown's admitted values as stored;
 * values this cap admits are kept in `added` (admitted for the rest of the group) for the caller to store.
 */
export function createCap(admitted: (dimension: Dimension) => ReadonlySet<string>) {
  const added = new Map<Dimension, Set<string>>();
  return {
    cap(dimension: Dimension, value: string): string {
      const stored = admitted(dimension);
      if (value === OTHER_KEY || stored.has(value)) return value;
      let mine = added.get(dimension);
      if (mine?.has(value) === true) return value;
      if (stored.size + (mine?.size ?? 0) >= MAX_VALUES - 1) return OTHER_KEY;
      if (mine === undefined) added.set(dimension, (mine = new Set()));
      mine.add(value);
      return value;
    },
    /** The values admitted by this cap, per breakdown. */
    added,
  };
}

/**
 * What each heartbeat of a group is, by its idempotency key: `counted` (no key, or a key seen nowhere before),
 * `duplicate` (its key was counted with the same body, stored or earlier in the group) or a conflict (the
 * key was counted with another body). `stored` gives the fingerprint a key was counted with, if it was.
 */
export function classifyKeys(group: readonly CountedHeartbeat[], stored: (key: string) => string | undefined): RecordResult[] {
  const inGroup = new Map<string, string>();
  return group.map((heartbeat): RecordResult => {
    if (heartbeat.idempotency === undefined) return 'counted';
    const { key, fingerprint } = heartbeat.idempotency;
    const before = stored(key) ?? inGroup.get(key);
    if (before === undefined) {
      inGroup.set(key, fingerprint);
      return 'counted';
    }
    return before === fingerprint ? 'duplicate' : new IdempotencyConflictError();
  });
}

/** The heartbeats of a group to count: those classified `counted`. */
export function toCount(group: readonly CountedHeartbeat[], results: readonly RecordResult[]): CountedHeartbeat[] {
  return group.filter((_, i) => results[i] === 'counted');
}
