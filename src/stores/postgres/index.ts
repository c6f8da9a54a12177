// The PostgreSQL backend (TELEMETRY_DATABASE_URL): both stores in one database that replicas and collectors share.
// Loaded only when that variable is set, so LevelDB users never load `pg`.
import type { Logger } from '../../logger.js';
import { redactUrl } from '../../redact.js';
import type { Storage } from '../types.js';
import { openPostgresCollectorStore } from './collectorStore.js';
import { createPostgresLease } from './lease.js';
import { createPool, unreachable, type Pool } from './pool.js';
import { migrate, schemaExists } from './schema.js';
import { createPostgresSessionStore } from './sessionStore.js';

export { SCHEMA_VERSION, MIGRATIONS } from './schema.js';

/** The PostgreSQL storage at url (not yet connected). Its `location` is the URL without its password. */
export function createPostgresStorage(options: { url: string; logger?: Logger }): Storage {
  const { url } = options;
  let pool: Pool | undefined;
  const connected = (): Pool => (pool ??= createPool(url, options.logger));
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
    openCollector: async (collectorOptions) => openPostgresCollectorStore(connected(), url, { ...collectorOptions, logger: collectorOptions.logger ?? options.logger }),
    async close() {
      const open = pool;
      pool = undefined;
      await open?.end();
    },
  };
}
