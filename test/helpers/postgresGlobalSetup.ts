// Vitest globalSetup (vitest.config.ts): prepares the embedded binaries once and starts the one PostgreSQL the
// run's files share (a database per test keeps them apart); about a second. A server that cannot start is
// reported by each file that needs it, in one line, not here: the files that do not need it still run.
import { rm } from 'node:fs/promises';
import type { TestProject } from 'vitest/node';
import { prepareBinaries, startEmbeddedPostgres, type EmbeddedPostgres } from '../harness/embeddedPostgres.js';
import { LIMITS } from '../harness/limits.js';

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Vitest runs a global setup for the root project and again for each project that extends it (vitest.config.ts
  // has two); the projects see what the root provides, so the root alone prepares and starts.
  if (!project.isRootProject()) return async () => {};
  let binaries: string | undefined;
  let server: EmbeddedPostgres | undefined;
  try {
    binaries = await prepareBinaries();
    project.provide('postgresBinaries', binaries);
    // With TELEMETRY_TEST_DATABASE_URL the files use that server; only restartable ones start their own.
    if (!process.env.TELEMETRY_TEST_DATABASE_URL) {
      server = await startEmbeddedPostgres({ binaries, timeoutMs: LIMITS.postgresStartMs });
      project.provide('postgresShared', { adminUrl: server.adminUrl });
    }
  } catch (error) {
    project.provide('postgresShared', { error: message(error) });
  }
  return async () => {
    await server?.remove();
    if (binaries !== undefined) await rm(binaries, { recursive: true, force: true });
  };
}
