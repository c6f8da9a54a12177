// The session in PostgreSQL: TELEMETRY_SESSION in table `configuration`, as Prefect keeps it; get-or-create is atomic.
import { SESSION_KEY, newSession, toStoredSession } from '../session.js';
import type { GetOrCreateOptions, LoadedStoredSession, SessionStore, StoredSession } from '../types.js';
import { asStoreError, type Pool } from './pool.js';

// Each round either writes, finds a valid session, or loses a replace race to a replica that wrote one:
// a few rounds always settle.
const MAX_ROUNDS = 5;

/** The SessionStore over the pool; every replica sharing the database gets the same session. */
export function createPostgresSessionStore(pool: () => Pool, url: string): SessionStore {
  async function stored(): Promise<unknown> {
    const { rows } = await pool().query<{ value: unknown }>('SELECT value FROM configuration WHERE key = $1', [SESSION_KEY]);
    return rows[0]?.value;
  }

  // INSERT ... ON CONFLICT DO NOTHING decides between replicas starting together: one row wins, the rest read it.
  async function insert(session: StoredSession): Promise<boolean> {
    const { rowCount } = await pool().query(
      'INSERT INTO configuration (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING',
      [SESSION_KEY, JSON.stringify(session)],
    );
    return rowCount === 1;
  }

  // Compare-and-set, so two replicas replacing the same bad value end up with one session between them.
  async function replace(old: unknown, session: StoredSession): Promise<boolean> {
    const { rowCount } = await pool().query(
      'UPDATE configuration SET value = $2, updated_at = now() WHERE key = $1 AND value = $3::jsonb',
      [SESSION_KEY, JSON.stringify(session), JSON.stringify(old)],
    );
    return rowCount === 1;
  }

  async function getOrCreate(options: GetOrCreateOptions = {}): Promise<LoadedStoredSession> {
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      options.signal?.throwIfAborted();
      const found = await stored();
      const valid = await toStoredSession(found);
      if (valid !== undefined) return { ...valid, created: false };
      // Stopped while reading: write nothing, so a stop never leaves a session behind.
      options.signal?.throwIfAborted();
      const session = await newSession(options.now);
      if (found === undefined) {
        if (await insert(session)) return { ...session, created: true };
        continue;
      }
      options.logger?.warn({ key: SESSION_KEY }, 'Stored telemetry session is not valid; replacing it');
      if (await replace(found, session)) return { ...session, created: true };
    }
    throw new Error('the telemetry session kept changing under concurrent writers');
  }

  // Errors leave with a short reason and no password: the actor logs it as `Failed to load telemetry session: <reason>`.
  const safe = <A extends unknown[], T>(work: (...args: A) => Promise<T>) => (...args: A) =>
    work(...args).catch((error: unknown) => {
      throw asStoreError(error, url);
    });

  return {
    getOrCreate: safe(getOrCreate),
    read: safe(async () => toStoredSession(await stored())),
    reset: safe(async () => {
      const { rowCount } = await pool().query('DELETE FROM configuration WHERE key = $1', [SESSION_KEY]);
      return rowCount === 1;
    }),
  };
}
