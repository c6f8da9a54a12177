// Both collector store backends behind the store API, for tests that must hold on each: a real LevelDB in a temp
// folder and a real PostgreSQL database (test/helpers/postgres.ts), each reopenable as a restart would.
import type { Level } from 'level';
import type pg from 'pg';
import { createStorage, type Storage } from '../../src/stores/index.js';
import type { CollectorStore, CollectorStoreOptions } from '../../src/stores/collectorStore.js';
import { openLevelCollectorStore } from '../../src/stores/level/collectorStore.js';
import { COLLECTOR_SUBLEVEL, IDEMPOTENCY, prefixRange } from '../../src/stores/level/keys.js';
import type { LevelLike } from '../../src/stores/level/levelLike.js';
import { queryRows, type TestPostgres } from './postgres.js';
import { openTempDb } from './tempDb.js';

export type BackendName = 'LevelDB' | 'PostgreSQL';

/** The bounds the tests open stores with unless they say otherwise (floor 1: single sessions are shown). */
export const TEST_BOUNDS = { idempotencyHours: 24, retentionDays: 400, privacyMinSessions: 1 } as const;

/** One backend's store, its data kept across `reopen()` (a process restart), removed by `close()`. */
export interface BackendStore {
  name: BackendName;
  store: CollectorStore;
  /** Closes the store's database and opens it again, as a restarted process would; updates `store`. */
  reopen(): Promise<CollectorStore>;
  /** PostgreSQL only: the database's own URL (replicas of a deployment may share it). */
  url?: string;
  /** A second store on the same data at once (PostgreSQL only: LevelDB is one process's). */
  another?(): Promise<CollectorStore>;
  /** Keys of the LevelDB collector sublevel that start with `prefix` (LevelDB only), to check what is stored. */
  levelKeys?(prefix: string): Promise<string[]>;
  /** Rows of the PostgreSQL database itself (PostgreSQL only), to check what is stored, not only what is shown. */
  sql?<T extends pg.QueryResultRow>(text: string, params?: unknown[]): Promise<T[]>;
  /** The idempotency keys the store holds, read from the database itself (not through the store). */
  storedKeys(): Promise<string[]>;
  close(): Promise<void>;
}

type Options = Partial<Pick<CollectorStoreOptions, 'idempotencyHours' | 'retentionDays' | 'privacyMinSessions' | 'now'>> & {
  /** LevelDB: what the store is given instead of the database itself (a fake disk in front of it), at each open. */
  disk?: (db: Level<string, string>) => LevelLike;
  /** PostgreSQL: the URL the store connects to instead of the database's own (a proxy in front of it). */
  through?: (url: string) => string;
};

export async function openLevelBackend({ disk, ...options }: Options = {}): Promise<BackendStore> {
  const temp = await openTempDb('collector-backend-');
  const open = () => openLevelCollectorStore(disk?.(temp.db) ?? temp.db, { ...TEST_BOUNDS, ...options });
  const backend: BackendStore = {
    name: 'LevelDB',
    store: await open(),
    async reopen() {
      await temp.reopen();
      return (backend.store = await open());
    },
    async levelKeys(prefix) {
      const keys: string[] = [];
      for await (const key of temp.db.sublevel<string, string>(COLLECTOR_SUBLEVEL, { valueEncoding: 'utf8' }).keys(prefixRange(prefix))) keys.push(key);
      return keys;
    },
    // `k:<day>:<key>`: the key is all that follows the day.
    storedKeys: async () => (await backend.levelKeys!(IDEMPOTENCY)).map((stored) => stored.slice(stored.indexOf(':', IDEMPOTENCY.length) + 1)),
    close: () => temp.cleanup(),
  };
  return backend;
}

export async function openPostgresBackend(postgres: TestPostgres, { through, ...options }: Options = {}): Promise<BackendStore> {
  const url = await postgres.freshDatabase();
  const storages: Storage[] = [];
  const open = async () => {
    const storage = await createStorage({ home: '/nonexistent', dbPath: '/nonexistent/db', databaseUrl: through?.(url) ?? url });
    storages.push(storage);
    await storage.open();
    return storage.openCollector({ ...TEST_BOUNDS, ...options });
  };
  const closeAll = async () => void (await Promise.all(storages.splice(0).map((s) => s.close())));
  const backend: BackendStore = {
    name: 'PostgreSQL',
    url,
    store: await open(),
    async reopen() {
      await closeAll();
      return (backend.store = await open());
    },
    another: open,
    sql: <T extends pg.QueryResultRow>(text: string, params: unknown[] = []) => queryRows<T>(url, text, params),
    storedKeys: async () => (await backend.sql!<{ key: string }>('SELECT key FROM collector_keys')).map((row) => row.key),
    close: closeAll,
  };
  return backend;
}

/** Opens the named backend (PostgreSQL needs the file's server). */
export function openBackend(name: BackendName, postgres: () => TestPostgres, options: Options = {}): Promise<BackendStore> {
  return name === 'LevelDB' ? openLevelBackend(options) : openPostgresBackend(postgres(), options);
}

export const BACKENDS: readonly BackendName[] = ['LevelDB', 'PostgreSQL'];
