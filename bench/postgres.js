// A throwaway PostgreSQL for B9, B10 and B12, started by the tests' launcher (test/harness/embeddedPostgres.js: from
// any checkout path, as root or not), with PostgreSQL's flushes to disk kept, since the bench measures commits.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import pg from 'pg';
import { prepareBinaries, startEmbeddedPostgres } from '../test/harness/embeddedPostgres.js';
import { LIMITS } from '../test/harness/limits.js';

/** Starts PostgreSQL; resolves with { dataDir, database(): Promise<url>, stop() }. */
export async function startPostgres() {
  const binaries = await prepareBinaries();
  const server = await startEmbeddedPostgres({ binaries, timeoutMs: LIMITS.postgresStartMs, durable: true }).catch(async (error) => {
    await rm(binaries, { recursive: true, force: true });
    throw error;
  });
  return {
    /** The server's data folder: its processes are found from it (test/harness/postgresProcesses.js). */
    dataDir: server.dataDir,
    /** A new empty database's URL. */
    async database() {
      const name = `bench_${randomBytes(4).toString('hex')}`;
      const client = new pg.Client({ connectionString: server.adminUrl });
      await client.connect();
      await client.query(`CREATE DATABASE ${name}`);
      await client.end();
      return server.adminUrl.replace(/\/postgres$/, `/${name}`);
    },
    async stop() {
      await server.remove();
      await rm(binaries, { recursive: true, force: true });
    },
  };
}
