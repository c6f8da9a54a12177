// The collector's counts in LevelDB (sublevel `collector`; key layout in keys.ts): one record per session, the
// counters by value (lifetime and per day), idempotency keys, each group written in one synced batch.
import { StoreUnavailableError } from '../../errors.js';
import type { CollectorStore, CollectorStoreOptions } from '../collectorStore.js';
import { counterQueries } from '../fold.js';
import { createGroupCommit, type QueueBounds } from '../groupCommit.js';
import type { CountedHeartbeat, RecordOutcome } from '../collectorStore.js';
import { COLLECTOR_SUBLEVEL, LAYOUT_KEY, LAYOUT_VERSION } from './keys.js';
import { utf8Sublevel, type LevelLike, type Utf8Sublevel } from './levelLike.js';
import { migrateLayout } from './migrate.js';
import { createPurge } from './purge.js';
import { createCounterReads } from './reader.js';
import { createRecoveryGuard } from './recovery.js';
import { loadPending, loadState, type CacheSizes } from './state.js';
import { createWriter, type FoldBounds } from './writer.js';

export { COLLECTOR_SUBLEVEL } from './keys.js';
export { KNOWN_SESSIONS_CACHE } from './state.js';

export interface LevelCollectorOptions extends CollectorStoreOptions, CacheSizes {
  /**
   * Closes and reopens the database: how a store recovers from a failed write (LevelDB's log is misaligned
   * after one). Default: the database's own close() and open(), when it has them.
   */
  reopen?: () => Promise<void>;
  /** Bounds of the queue of heartbeats waiting for a write (groupCommit.ts's defaults). */
  queue?: Partial<QueueBounds>;
  /** When pending groups are folded into the counters (writer.ts's FOLD_AFTER_* by default; tests fold sooner). */
  foldAfter?: FoldBounds;
}

/** Runs async work one piece at a time, in call order: group writes, folds and purge batches never interleave. */
function createTurns() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>): Promise<T> => {
    const run = tail.then(work, work);
    tail = run.catch(() => undefined);
    return run;
  };
}

/**
 * Opens the collector's store on an abstract-level database, migrating what an older version stored. One per
 * database: LevelDB is one process's, and a second store would count on its own.
 *
 * Durability: a heartbeat is acknowledged only once its batch is synced. After a failed write the store refuses
 * (StoreUnavailableError) until it has reopened the database and written back exactly the acknowledged state:
 * whatever the failed batch may have left (its group record, session records and keys) is taken back, so it
 * stays invisible after recovery and after a restart. One error line when it starts refusing, one info line
 * when it accepts again.
 */
export async function openLevelCollectorStore(db: LevelLike, options: LevelCollectorOptions): Promise<CollectorStore> {
  const { logger } = options;
  const now = options.now ?? Date.now;
  // utf8 rather than json: a corrupt value must reach us as text, not as a decode error.
  let store: Utf8Sublevel = utf8Sublevel(db, COLLECTOR_SUBLEVEL);
  await migrateLayout(store, logger);
  const state = await loadState(store, options, logger);
  let warned = false;
  const corrupt = (key: string) => {
    if (warned) return;
    warned = true;
    logger?.warn({ key }, 'A stored collector record is not valid; counting it as absent');
  };
  const turn = createTurns();
  const writer = createWriter({ store: () => store, state, idempotencyHours: options.idempotencyHours, corrupt, foldAfter: options.foldAfter });
  const reopen = options.reopen ?? (async () => (await db.close?.(), await db.open?.()));
  const guard = createRecoveryGuard({
    store: COLLECTOR_SUBLEVEL,
    logger,
    recover: async () => {
      await reopen();
      // A sublevel stays closed when its database reopens: take a fresh one.
      store = utf8Sublevel(db, COLLECTOR_SUBLEVEL);
      // Synced, so it also proves the disk takes writes again.
      await store.batch([...(writer.failed()?.operations ?? []), { type: 'put', key: LAYOUT_KEY, value: LAYOUT_VERSION }], { sync: true });
      // A fold that failed may have landed: what is pending is what the disk holds. Loaded before the failure is
      // cleared, so no read takes memory's view while it is being reloaded.
      await loadPending(store, state, corrupt);
      state.dayRowsVersion += 1;
      writer.recovered();
    },
  });
  /** Runs a write in the writer's turn; a failed one starts recovery. */
  const write = <T>(work: () => Promise<T>): Promise<T> =>
    turn(async () => {
      guard.assertWritable();
      try {
        return await work();
      } catch (error) {
        guard.failed(error);
        throw new StoreUnavailableError(undefined, { cause: error });
      }
    });
  const fold = () => write(writer.fold).catch(() => undefined);
  const enqueue = createGroupCommit<CountedHeartbeat, RecordOutcome>({
    commit: (group) =>
      turn(async () => {
        const results = await writer.commit(group);
        if (writer.foldDue()) void fold();
        return results;
      }),
    unavailable(error) {
      // Nothing after a failed write is acknowledged: this group and every queued one are refused.
      guard.failed(error);
      return new StoreUnavailableError(undefined, { cause: error });
    },
    bounds: options.queue,
  });
  const purgeAll = createPurge({ ...options, store: () => store, state, exclusive: write, fold: writer.fold });
  // The collector's timer may fire after the owner closed the database: nothing to purge then (and no recovery).
  const purge = async (at: Date) => (db.status === 'open' ? purgeAll(at) : { deleted: 0 });
  const readCounters = createCounterReads({ store: () => store, state, turn, failed: writer.failed });
  /** A read while the database is being reopened is refused like a write (503, try again). */
  const read = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      if (db.status !== 'open' || writer.failed() !== undefined) throw new StoreUnavailableError(undefined, { cause: error });
      throw error;
    }
  };

  return {
    async record(heartbeat) {
      guard.assertWritable();
      return enqueue(heartbeat);
    },
    ...counterQueries((from, to) => read(() => readCounters(from, to)), { now, floor: options.privacyMinSessions }),
    purge,
  };
}
