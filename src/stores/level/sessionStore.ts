// The session in LevelDB: TELEMETRY_SESSION in sublevel `configuration` of any abstract-level database.
import { SESSION_KEY, newSession, parseSession } from '../session.js';
import type { LoadedStoredSession, SessionStore, StoredSession } from '../types.js';
import { utf8Sublevel, type LevelLike, type Utf8Sublevel } from './levelLike.js';

export const CONFIGURATION_SUBLEVEL = 'configuration';

/**
 * What every session store on one database object shares in this process. LevelDB is one process's while it is
 * open, and every write of TELEMETRY_SESSION in that process goes through a session store, so the session last
 * read or written is the stored one until the next write: the actor, which reads it before every heartbeat (so
 * that a reset reaches it), pays no disk read and no parse for it. A reopened database may have been changed by
 * another process meanwhile: its sublevel is a new one, and the remembered session goes with the old.
 */
interface Shared {
  /** Kept while it is open: a sublevel closes for good when its database is closed. */
  sublevel: Utf8Sublevel | undefined;
  /** The stored session as last read or written through `sublevel`; undefined when not known. */
  session: StoredSession | undefined;
  /** Counts writes and deletes: a read that overlapped one must not remember what it read. */
  writes: number;
  /** The chain that serialises writes, so concurrent get-or-create calls in a process make one session. */
  lock: Promise<unknown>;
}

const sharedByDb = new WeakMap<object, Shared>();

function sharedOf(db: LevelLike): Shared {
  let shared = sharedByDb.get(db);
  if (shared === undefined) sharedByDb.set(db, (shared = { sublevel: undefined, session: undefined, writes: 0, lock: Promise.resolve() }));
  return shared;
}

/** The open configuration sublevel (utf8: a corrupt value must reach us as text, not as a decode error). */
function configuration(db: LevelLike, shared: Shared): Utf8Sublevel {
  if (shared.sublevel !== undefined && shared.sublevel.status === 'open') return shared.sublevel;
  shared.session = undefined;
  return (shared.sublevel = utf8Sublevel(db, CONFIGURATION_SUBLEVEL));
}

function serialised<T>(shared: Shared, work: () => Promise<T>): Promise<T> {
  const next = shared.lock.then(work, work);
  shared.lock = next.catch(() => undefined);
  return next;
}

/**
 * Writes `session` (deletes it when undefined). Nothing is remembered while the write runs (a failed one leaves
 * the disk unknown), and no read that overlapped it is remembered after.
 */
async function write(shared: Shared, store: Utf8Sublevel, session: StoredSession | undefined): Promise<void> {
  shared.writes += 1;
  shared.session = undefined;
  // Synced: a session reported as created is on disk, whatever happens to the process or the machine next.
  await (session === undefined ? store.del(SESSION_KEY) : store.put(SESSION_KEY, JSON.stringify(session), { sync: true }));
  shared.writes += 1;
  shared.session = shared.sublevel === store ? session : undefined;
}

/** The SessionStore over an abstract-level database (a `Level`, a `MemoryLevel`, ...); it opens with the db. */
export function createLevelSessionStore(db: LevelLike): SessionStore {
  const shared = sharedOf(db);

  async function read(): Promise<StoredSession | undefined> {
    const store = configuration(db, shared);
    if (shared.session !== undefined) return { ...shared.session };
    const writes = shared.writes;
    const raw = await store.get(SESSION_KEY);
    const session = raw === undefined ? undefined : await parseSession(raw);
    if (session !== undefined && shared.writes === writes && shared.sublevel === store) shared.session = { ...session };
    return session;
  }

  async function create(options: Parameters<SessionStore['getOrCreate']>[0] = {}): Promise<LoadedStoredSession> {
    options.signal?.throwIfAborted();
    const store = configuration(db, shared);
    const raw = await store.get(SESSION_KEY);
    if (raw !== undefined) {
      const parsed = await parseSession(raw);
      if (parsed !== undefined) return { ...parsed, created: false };
      options.logger?.warn({ key: SESSION_KEY }, 'Stored telemetry session is not valid; replacing it');
    }
    // Stopped while reading: write nothing, so a stop never leaves a session behind.
    options.signal?.throwIfAborted();
    const session = await newSession(options.now);
    await write(shared, store, session);
    return { ...session, created: true };
  }

  return {
    read,
    async getOrCreate(options = {}) {
      options.signal?.throwIfAborted();
      // The common case (a valid session is stored) needs no lock: only creating one must be serialised.
      const found = await read();
      if (found !== undefined) return { ...found, created: false };
      return serialised(shared, () => create(options));
    },
    reset: () =>
      serialised(shared, async () => {
        const store = configuration(db, shared);
        const existed = (await store.get(SESSION_KEY)) !== undefined;
        await write(shared, store, undefined);
        return existed;
      }),
  };
}
