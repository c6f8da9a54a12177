// The LevelDB backend: both stores in one database at <TELEMETRY_HOME>/db (the embedded default).
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { QueueBounds } from '../groupCommit.js';
import type { Storage } from '../types.js';
import { openLevelCollectorStore } from './collectorStore.js';
import type { createDatabase } from './database.js';
import type { LevelLike } from './levelLike.js';
import { createLevelSessionStore } from './sessionStore.js';

export { createLevelSessionStore, CONFIGURATION_SUBLEVEL } from './sessionStore.js';
export { openLevelCollectorStore } from './collectorStore.js';
export type { LevelLike } from './levelLike.js';

/** The LevelDB storage of a home: created on open(), process-exclusive (a second opener gets StoreLockedError). */
export function createLevelStorage(options: { home: string; dbPath: string; collectorQueue?: Partial<QueueBounds> }): Storage {
  // Made at open(): abstract-level opens (and creates) a database on its own soon after construction,
  // and a command that only asks whether one exists must not create it.
  let db: ReturnType<typeof createDatabase> | undefined;
  let closed = false;
  const opened = () => {
    if (db === undefined) throw new Error('The LevelDB storage is not open');
    return db;
  };
  const lazy: LevelLike = {
    get status() {
      return db?.status ?? 'closed';
    },
    sublevel: (name, sublevelOptions) => opened().sublevel(name, sublevelOptions),
  };
  return {
    kind: 'level',
    location: options.dbPath,
    sessions: createLevelSessionStore(lazy),
    // LevelDB writes CURRENT when it creates a database: without it there is nothing to read.
    exists: async () => existsSync(path.join(options.dbPath, 'CURRENT')),
    async open() {
      closed = false;
      // Loaded here: `level` and its native binding cost a command that only checks whether a store exists.
      const { createDatabase, openDatabase } = await import('./database.js');
      db ??= createDatabase(options.dbPath);
      await openDatabase(db, options.home);
    },
    openCollector: (collectorOptions) =>
      openLevelCollectorStore(opened(), {
        ...collectorOptions,
        queue: options.collectorQueue,
        // Recovery after a failed write; never once the owner has closed the storage.
        reopen: async () => {
          if (closed) throw new Error('The LevelDB storage is closed');
          await opened().close();
          await opened().open();
        },
      }),
    async close() {
      closed = true;
      if (db?.status === 'open' || db?.status === 'opening') await db.close();
    },
  };
}
