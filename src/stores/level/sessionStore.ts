// The session in LevelDB: TELEMETRY_SESSION in sublevel `configuration` of any abstract-level database.
import { SESSION_KEY, newSession, parseSession } from '../session.js';
import type { LoadedStoredSession, SessionStore, StoredSession } from '../types.js';
import { utf8Sublevel, type LevelLike, type Utf8Sublevel } from './levelLike.js';

export const CONFIGURATION_SUBLEVEL = 'configuration';

// One chain per database object, so concurrent get-or-create calls in a process make one session.
const locks = new WeakMap<object, Promise<unknown>>();

function serialised<T>(db: LevelLike, work: () => Promise<T>): Promise<T> {
  const previous = locks.get(db) ?? Promise.resolve();
  const next = previous.then(work, work);
  locks.set(db, next.catch(() => undefined));
  return next;
}

/** The SessionStore over an abstract-level database (a `Level`, a `MemoryLevel`, ...); it opens with the db. */
export function createLevelSessionStore(db: LevelLike): SessionStore {
  // utf8 rather than json: a corrupt value must reach us as text, not as a decode error. Kept while it is open:
  // the actor reads the session every heartbeat, and a sublevel closes for good when its database is reopened.
  let sublevel: Utf8Sublevel | undefined;
  const configuration = () => (sublevel !== undefined && sublevel.status === 'open' ? sublevel : (sublevel = utf8Sublevel(db, CONFIGURATION_SUBLEVEL)));

  async function read(): Promise<StoredSession | undefined> {
    const raw = await configuration().get(SESSION_KEY);
    return raw === undefined ? undefined : await parseSession(raw);
  }

  return {
    read,
    async getOrCreate(options = {}) {
      options.signal?.throwIfAborted();
      // The common case (a valid session is stored) needs no lock: only creating one must be serialised.
      const found = await read();
      if (found !== undefined) return { ...found, created: false };
      return serialised(db, async (): Promise<LoadedStoredSession> => {
        options.signal?.throwIfAborted();
        const store = configuration();
        const raw = await store.get(SESSION_KEY);
        if (raw !== undefined) {
          const parsed = await parseSession(raw);
          if (parsed !== undefined) return { ...parsed, created: false };
          options.logger?.warn({ key: SESSION_KEY }, 'Stored telemetry session is not valid; replacing it');
        }
        // Stopped while reading: write nothing, so a stop never leaves a session behind.
        options.signal?.throwIfAborted();
        const session = await newSession(options.now);
        // Synced: a session reported as created is on disk, whatever happens to the process or the machine next.
        await store.put(SESSION_KEY, JSON.stringify(session), { sync: true });
        return { ...session, created: true };
      });
    },
    async reset() {
      const store = configuration();
      const existed = (await store.get(SESSION_KEY)) !== undefined;
      await store.del(SESSION_KEY);
      return existed;
    },
  };
}
