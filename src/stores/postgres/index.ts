// The PostgreSQL backend (TELEMETRY_DATABASE_URL): both stores in one database that replicas and collectors share.
// Loaded only when that variable is set, so LevelDB users never load `pg`.
import type { Logger } from '../../logger.js';
import { redactUrl } from '../../redact.js';
import type { QueueBounds } from '../groupCommit.js';
import type { Storage } from '../types.js';
import { openPostgresCollectorStore } from './collectorStore.js';
import { createPostgresLease } from './lease.js';
import { createPool, unreachable, type Pool } from './pool.js';
import { migrate, schemaExists } from './schema.js';
import { createPostgresSessionStore } from './sessionStore.js';

export { SCHEMA_VERSION, MIGRATIONS } from './schema.js';

/**
 * Connections per process, by use, so no use waits on another's: the session, lease and schema (MAIN), the
 * collector's one group-commit writer (WRITER), and its stats reads (READER: one read at a time per process,
 * plus one spare).
 */
export const POOL_SIZES = { main: 2, writer: 1, reader: 2 } as const;

/** The PostgreSQL storage at url (not yet connected). Its `location` is the URL without its password. */
export function createPostgresStorage(options: { url: string; logger?: Logger; collectorQueue?: Partial<QueueBounds> }): Storage {
  const { url } = options;
  let pools: Partial<Record<keyof typeof POOL_SIZES, Pool>> = {};
  const pool = (use: keyof typeof POOL_SIZES) => (): Pool => (pools[use] ??= createPool(url, options.logger, POOL_SIZES[use]));
  const connected = pool('main');
  // Start-up failures name the server (redacted) and the reason in one line.
  const orUnreachable = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw unreachable(error, url);
    }
  };
  return {
    kind: 'postgres',
    location: redactUrl(url),
    sessions: createPostgresSessionStore(connected, url),
    lease: createPostgresLease(connected, url),
    exists: () => orUnreachable(() => schemaExists(connected())),
    open: () => orUnreachable(async () => void (await migrate(connected()))),
    openCollector: async (collectorOptions) =>
      openPostgresCollectorStore({
        writer: pool('writer')(), reader: pool('reader')(), main: connected(), url, queue: options.collectorQueue,
        ...collectorOptions, logger: collectorOptions.logger ?? options.logger,
      }),
    async close() {
      const open = Object.values(pools);
      pools = {};
      await Promise.all(open.map((p) => p.end()));
    },
  };
}
