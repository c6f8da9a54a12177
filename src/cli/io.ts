// What every CLI command shares: where its lines go, and how it reaches the session of its home.
import type { Settings } from '../settings/index.js';
import { withStorage, type Storage } from '../stores/index.js';
import { lockedMessage } from '../server/serverInfo.js';
import { StoreLockedError, UserError } from '../errors.js';
import { findLocalServer, type LocalServer } from './localServer.js';

/** Where a command writes: `out` for its result, `err` for messages. */
export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

/**
 * Runs work against the home's storage: opened for the command and closed again, with a lock held by
 * something else reported in one line naming it. Only called when no live server owns the home.
 */
export async function withHomeStorage<T>(settings: Settings, work: (storage: Storage) => Promise<T>): Promise<T>;
export async function withHomeStorage<T>(settings: Settings, work: (storage: Storage) => Promise<T>, existing: true): Promise<T | undefined>;
export async function withHomeStorage<T>(settings: Settings, work: (storage: Storage) => Promise<T>, existing?: true): Promise<T | undefined> {
  try {
    return existing ? await withStorage(settings, work, true) : await withStorage(settings, work);
  } catch (error) {
    if (error instanceof StoreLockedError) throw new UserError(await lockedMessage(settings.home, error.location), { cause: error });
    throw error;
  }
}

/** The home's owner when a live server runs on it (ask it, never open its database), else undefined. */
export function owner(settings: Settings): Promise<LocalServer | undefined> {
  return findLocalServer(settings.home, settings.readToken);
}

/** Reads the stored session without creating one: from the owning server, else from storage if it exists. */
export async function readSession(settings: Settings, server: LocalServer | undefined) {
  if (server !== undefined) return server.readSession();
  return withHomeStorage(settings, (storage) => storage.sessions.read(), true);
}
