// Choosing a backend: the one place that knows which storage a home uses.
import type { Logger } from '../logger.js';
import { importOptional } from '../optionalPackages.js';
import type { QueueBounds } from './groupCommit.js';
import type { CollectorStore, CollectorStoreOptions, Storage } from './types.js';
import type { LevelLike } from './level/levelLike.js';

export type {
  Storage, HeartbeatLease, HeartbeatClaim, SessionStore, CollectorStore, CollectorStoreOptions, CountedHeartbeat, RecordOutcome,
  StoredSession, LoadedStoredSession, GetOrCreateOptions, CollectorStats, ExportRow,
} from './types.js';
export { SESSION_KEY, isStoredSession } from './session.js';
// The abstract-level conveniences: typed structurally, and free of the `level` package itself.
export { createLevelSessionStore } from './level/sessionStore.js';
export type { LevelLike } from './level/levelLike.js';

/**
 * The collector's store on any abstract-level database (the `createCollector({ db })` convenience), loaded on
 * demand so that the `.` entry, which reaches this file for the session store, never loads the collector.
 */
export async function openLevelCollector(db: LevelLike, options: CollectorStoreOptions): Promise<CollectorStore> {
  const { openLevelCollectorStore } = await import('./level/collectorStore.js');
  return openLevelCollectorStore(db, options);
}

/** Where the data lives: PostgreSQL when databaseUrl is set, else the home's LevelDB. */
export interface StorageSettings {
  home: string;
  dbPath: string;
  /** postgres:// URL (TELEMETRY_DATABASE_URL); undefined keeps LevelDB. */
  databaseUrl?: string;
  /** Where a shared backend reports dropped connections. */
  logger?: Logger;
  /** Bounds of the collector's write queue (defaults in src/stores/groupCommit.ts). */
  collectorQueue?: Partial<QueueBounds>;
}

/** The storage for these settings, not yet open; its driver is loaded only now, so unused backends cost nothing. */
export async function createStorage(settings: StorageSettings): Promise<Storage> {
  if (settings.databaseUrl !== undefined) {
    // pg is an optional peer dependency: installed by those who use PostgreSQL.
    const { createPostgresStorage } = await importOptional(() => import('./postgres/index.js'), 'TELEMETRY_DATABASE_URL (PostgreSQL)', ['pg']);
    return createPostgresStorage({ url: settings.databaseUrl, logger: settings.logger, collectorQueue: settings.collectorQueue });
  }
  const { createLevelStorage } = await import('./level/index.js');
  return createLevelStorage(settings);
}

/**
 * Opens the storage, runs work, and closes it again. With `existing`, a store that was never created is
 * left alone (nothing is written) and the result is undefined.
 */
export async function withStorage<T>(settings: StorageSettings, work: (storage: Storage) => Promise<T>): Promise<T>;
export async function withStorage<T>(settings: StorageSettings, work: (storage: Storage) => Promise<T>, existing: true): Promise<T | undefined>;
export async function withStorage<T>(settings: StorageSettings, work: (storage: Storage) => Promise<T>, existing = false): Promise<T | undefined> {
  const storage = await createStorage(settings);
  if (existing && !(await storage.exists())) return undefined;
  await storage.open();
  try {
    return await work(storage);
  } finally {
    await storage.close();
  }
}
