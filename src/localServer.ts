// Finding and asking the server that runs on this TELEMETRY_HOME, and opening its database when none does.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { createDatabase, openDatabase, readServerInfo } from './database.js';
import type { Settings } from './settings.js';
import type { TelemetryStatus } from './status.js';
import type { Database } from './sessionStore.js';

/** How long a command waits for a local server before reading the database instead. */
const ASK_TIMEOUT_MS = 1_000;

/**
 * The live status from the server running on this TELEMETRY_HOME (found through its server.json), or
 * undefined if none answers. A server on the same port but another home is not asked: its session is not ours.
 */
export async function askRunningServer(settings: Settings): Promise<{ url: string; status: TelemetryStatus } | undefined> {
  const info = await readServerInfo(settings.home);
  if (info === undefined) return undefined;
  const status = await getJson<TelemetryStatus>(`${info.url}/api/telemetry`);
  return status !== undefined && typeof status.state === 'string' ? { url: info.url, status } : undefined;
}

async function getJson<T>(url: string): Promise<T | undefined> {
  try {
    const res = await request(url, { signal: AbortSignal.timeout(ASK_TIMEOUT_MS), headersTimeout: ASK_TIMEOUT_MS, bodyTimeout: ASK_TIMEOUT_MS });
    if (res.statusCode !== 200) {
      await res.body.dump();
      return undefined;
    }
    return (await res.body.json()) as T;
  } catch {
    return undefined;
  }
}

/** True when a database has been created in this home (so reading it is worth opening it). */
export function databaseExists(settings: Settings): boolean {
  return existsSync(path.join(settings.dbPath, 'CURRENT'));
}

/** Opens the database for a command, runs work, and closes it; a lock held by a server is a UserError. */
export async function withDatabase<T>(settings: Settings, work: (db: Database) => Promise<T>): Promise<T> {
  const db = createDatabase(settings.dbPath);
  await openDatabase(db, settings.home);
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}
