// The anonymous session in the server's configuration store: get-or-create TELEMETRY_SESSION.
import type { AbstractLevel } from 'abstract-level';
import { v4 as uuidv4, validate as validateUuid, version as uuidVersion } from 'uuid';
import type { Logger } from 'pino';

/** Any abstract-level database (the server passes its own `level` instance). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Database = AbstractLevel<any, any, any>;

/** The stored session, exactly as kept in the database. */
export interface StoredSession {
  session_id: string;
  session_start_timestamp: string;
}

export const SESSION_KEY = 'TELEMETRY_SESSION';
export const CONFIGURATION_SUBLEVEL = 'configuration';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** True when value is a session of the documented shape. */
export function isStoredSession(value: unknown): value is StoredSession {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.session_id === 'string' &&
    validateUuid(v.session_id) &&
    uuidVersion(v.session_id) === 4 &&
    typeof v.session_start_timestamp === 'string' &&
    ISO_UTC.test(v.session_start_timestamp) &&
    !Number.isNaN(Date.parse(v.session_start_timestamp))
  );
}

function configuration(db: Database) {
  // utf8 rather than json: a corrupt value must reach us as text, not as a decode error.
  return db.sublevel<string, string>(CONFIGURATION_SUBLEVEL, { valueEncoding: 'utf8' });
}

// One chain per database object, so concurrent get-or-create calls in a process make one session.
const locks = new WeakMap<object, Promise<unknown>>();

function serialised<T>(db: Database, work: () => Promise<T>): Promise<T> {
  const previous = locks.get(db) ?? Promise.resolve();
  const next = previous.then(work, work);
  locks.set(db, next.catch(() => undefined));
  return next;
}

/** Reads the stored session without creating one; undefined when absent or not of the right shape. */
export async function readSession(db: Database): Promise<StoredSession | undefined> {
  const raw = await configuration(db).get(SESSION_KEY);
  if (raw === undefined) return undefined;
  const parsed = parseOrUndefined(raw);
  return isStoredSession(parsed) ? parsed : undefined;
}

export interface SessionStoreOptions {
  logger?: Logger;
  /** Clock for the session start; default Date.now. */
  now?: () => number;
}

/** The session as loaded for the telemetry actor; `created` is true when this call wrote it. */
export interface LoadedStoredSession extends StoredSession {
  created: boolean;
}

/** Gets the stored session, or creates and stores a new one. A corrupt value is replaced, with one warning. */
export function getOrCreateSession(
  db: Database,
  options: SessionStoreOptions & { signal?: AbortSignal } = {},
): Promise<LoadedStoredSession> {
  return serialised(db, async () => {
    options.signal?.throwIfAborted();
    const store = configuration(db);
    const raw = await store.get(SESSION_KEY);
    if (raw !== undefined) {
      const parsed = parseOrUndefined(raw);
      if (isStoredSession(parsed)) return { ...parsed, created: false };
      options.logger?.warn({ key: SESSION_KEY }, 'Stored telemetry session is not valid; replacing it');
    }
    // Stopped while reading: write nothing, so a stop never leaves a session behind.
    options.signal?.throwIfAborted();
    const session: StoredSession = {
      session_id: uuidv4(),
      session_start_timestamp: new Date((options.now ?? Date.now)()).toISOString(),
    };
    await store.put(SESSION_KEY, JSON.stringify(session));
    return { ...session, created: true };
  });
}

/** Forgets the session; the next start creates a new one. Returns true if one was stored. */
export async function deleteSession(db: Database): Promise<boolean> {
  const store = configuration(db);
  const existed = (await store.get(SESSION_KEY)) !== undefined;
  await store.del(SESSION_KEY);
  return existed;
}

function parseOrUndefined(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
