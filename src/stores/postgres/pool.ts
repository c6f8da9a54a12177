// The PostgreSQL connection pool: created lazily, its errors made safe to show (never the password).
import pg from 'pg';
import { StoreUnavailableError, UserError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { redactUrl } from '../../redact.js';

/** Connections per process: the collector's one writer, the stats reads, the lease and the session. */
const POOL_SIZE = 5;
// Tells "unreachable" from "slow" at start-up and while PostgreSQL restarts; a request waits no longer.
const CONNECT_TIMEOUT_MS = 5_000;

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

/** A pool on url; idle connections that PostgreSQL drops are logged (redacted), never thrown. */
export function createPool(url: string, logger?: Logger): Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    application_name: 'telemetry-actor',
  });
  // Without a listener, an idle client's error (PostgreSQL restarting) would crash the process.
  pool.on('error', (error) => logger?.warn({ reason: describePgError(error, url) }, 'PostgreSQL connection lost; reconnecting on next use'));
  return pool;
}

/** A short reason: the error code (ECONNREFUSED, 28P01) and message, with the URL's password removed. */
export function describePgError(error: unknown, url: string): string {
  const e = error as { code?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' && e.message !== '' ? e.message : String(error);
  const code = typeof e?.code === 'string' && !message.includes(e.code) ? `${e.code} ` : '';
  return scrub(`${code}${message}`, url);
}

/** Removes the URL's password (and the whole URL) from text, in case a driver message ever echoes them. */
export function scrub(text: string, url: string): string {
  let out = text.split(url).join(redactUrl(url));
  try {
    const password = decodeURIComponent(new URL(url).password);
    if (password !== '') out = out.split(password).join('<redacted>');
  } catch {
    // Not a URL: nothing more to take out.
  }
  return out;
}

/** The one-line start-up failure: where (redacted) and why. */
export function unreachable(error: unknown, url: string): UserError {
  return new UserError(`Cannot use PostgreSQL at ${redactUrl(url)}: ${describePgError(error, url)}`, { cause: error });
}

/** Runs work in one transaction on one pooled connection; rolls back on any error. */
export async function transaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** True for a failure of reaching PostgreSQL (down, restarting, refusing connections), not of the data. */
export function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return ['08', '53', '57', '58'].includes(code.slice(0, 2));
  return !(error instanceof pg.DatabaseError);
}

/** The error as callers should see it: an unreachable PostgreSQL becomes StoreUnavailableError with a safe message. */
export function asStoreError(error: unknown, url: string): unknown {
  if (error instanceof StoreUnavailableError || (error as { name?: unknown })?.name === 'AbortError' || !isUnavailable(error)) return error;
  return new StoreUnavailableError(`PostgreSQL is unavailable: ${describePgError(error, url)}`, { cause: error });
}
