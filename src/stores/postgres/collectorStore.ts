// The collector's counts in PostgreSQL, shared by any number of collector processes: counters by scope and value
// (lifetime and per day) in per-process shards, one record per session, the admitted values, idempotency keys.
// Writes: collectorWrite.ts; reads: collectorRead.ts; retention: collectorPurge.ts; tables: collectorSchema.ts.
import { randomInt } from 'node:crypto';
import { postgresUnavailable, type StoreUnavailableError } from '../../errors.js';
import type { CollectorStore, CollectorStoreOptions, CountedHeartbeat, RecordOutcome } from '../collectorStore.js';
import { counterQueries, type CounterSnapshot } from '../fold.js';
import { createGroupCommit, type QueueBounds } from '../groupCommit.js';
import { limitRepeats } from '../../logLimit.js';
import { singleFlightBy } from '../singleFlight.js';
import { createPostgresPurge } from './collectorPurge.js';
import { readCounters } from './collectorRead.js';
import { createPostgresWriter } from './collectorWrite.js';
import { describePgError, isUnavailable, type Pool } from './pool.js';
import { createValueCache } from './values.js';

/** Counter shards: each process adds to its own rows (and its own last-seen row), so writers rarely share a lock. */
export const SHARDS = 64;
/** Distinct day ranges whose reads are coalesced at once (today's stats, a few exports). */
const READ_RANGES = 16;

export interface PostgresCollectorOptions extends CollectorStoreOptions {
  /** The group-commit writer's pool (one connection). */
  writer: Pool;
  /** Stats and export reads, never on the writer's connection. */
  reader: Pool;
  /** Admissions under the cap and the purge. */
  main: Pool;
  url: string;
  queue?: Partial<QueueBounds>;
}

/** Opens the collector's store on the pools; nothing is read until the first heartbeat or stats. */
export async function openPostgresCollectorStore(options: PostgresCollectorOptions): Promise<CollectorStore> {
  const { url, logger } = options;
  const now = options.now ?? Date.now;
  const values = createValueCache(options.main);
  const writer = createPostgresWriter({ writer: options.writer, shard: randomInt(SHARDS), values });
  // An outage refuses every request: one line a minute says so, and why (the collector answers them 503 silently).
  const limited = logger === undefined ? undefined : limitRepeats(logger, { perWindow: 1 });
  const unavailable = (error: unknown, msg: string): StoreUnavailableError | undefined => {
    if (!isUnavailable(error)) return undefined;
    const reason = describePgError(error, url);
    limited?.warn({ reason }, msg);
    return postgresUnavailable(reason, error);
  };
  const record = createGroupCommit<CountedHeartbeat, RecordOutcome>({
    commit: writer.commit,
    unavailable: (error) => unavailable(error, 'Collector writes unavailable; answering 503'),
    bounds: options.queue,
  });
  // A burst of stats requests costs one read per range at a time (singleFlight), never a query each.
  const flight = singleFlightBy(([from, to]: [number, number]) => readCounters(options.reader, from, to), READ_RANGES);
  const read = async (from: number, to: number): Promise<CounterSnapshot> => {
    try {
      return await flight([from, to]);
    } catch (error) {
      throw unavailable(error, 'Collector stats unavailable') ?? error;
    }
  };

  return {
    record,
    ...counterQueries(read, { now, floor: options.privacyMinSessions }),
    purge: createPostgresPurge(options),
  };
}
