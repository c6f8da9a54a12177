// Choosing a backend: the one place that knows which storage a home uses.
import type { Storage } from './types.js';

export type { Storage, SessionStore, CollectorStore, StoredSession, LoadedStoredSession, GetOrCreateOptions, CollectorStats } from './types.js';
export { SESSION_KEY, isStoredSession } from './session.js';
// The abstract-level conveniences: typed structurally, and free of the `level` package itself.
export { createLevelSessionStore } from './level/sessionStore.js';
export { openLevelCollectorStore } from './level/collectorStore.js';
export type { LevelLike } from './level/levelLike.js';

/** Where the data lives: the home's LevelDB (the only backend so far). */
export interface StorageSettings {
  home: string;
  dbPath: string;
}

/** The storage for these settings, not yet open; its driver is loaded only now, so unused backends cost nothing. */
export async function createStorage(settings: StorageSettings): Promise<Storage> {
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
