// The collector's counts in PostgreSQL: being moved to the new CollectorStore (branch `store`, step 3).
import { StoreUnavailableError } from '../../errors.js';
import type { CollectorStore, CollectorStoreOptions } from '../collectorStore.js';
import type { Pool } from './pool.js';

/** Interim: refuses until the PostgreSQL collector store of this round lands (the LevelDB one is done). */
export function openPostgresCollectorStore(_pool: Pool, _url: string, _options: CollectorStoreOptions): CollectorStore {
  const refuse = () => Promise.reject(new StoreUnavailableError('The PostgreSQL collector store is not ready in this build'));
  return { record: refuse, stats: refuse, export: refuse, purge: refuse };
}
