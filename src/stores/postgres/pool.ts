// The PostgreSQL connection pools: created lazily, every wait bounded, errors made safe to show (never the password).
import pg from 'pg';
import { StoreUnavailableError, UserError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { redactUrl } from '../../redact.js';

// Tells "unreachable" from "slow" at start-up and while PostgreSQL restarts: a connection (or a free pooled
// one) not had within this is a failure, answered 503.
export const CONNECT_TIMEOUT_MS = 5_000;
/** PostgreSQL cancels a statement running longer (statement_timeout); the connection stays usable. */
export const STATEMENT_TIMEOUT_MS = 5_000;
/**
 * The client gives up on an answer after this (pg's query_timeout) and drops the connection: it covers a
 * server that answers nothing at all (stopped, or a network gone quiet), where statement_timeout cannot fire.
 */
export const QUERY_TIMEOUT_MS = 6_000;
/** PostgreSQL ends a session left idle inside a transaction this long, releasing its locks. */
export const IDLE_IN_TRANSACTION_TIMEOUT_MS = 10_000;
/** TCP keep-alive probes start on a connection idle this long, so a vanished peer is noticed. */
export const KEEPALIVE_DELAY_MS = 10_000;
const IDLE_CLOSE_MS = 30_000;

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

/**
 * A pool of at most `max` connections on url, every wait bounded (the timeouts above); idle connections that
 * PostgreSQL drops are logged (redacted), never thrown.
 */
export function createPool(url: string, logger?: Logger, max = 2): Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
    idleTimeoutMillis: IDLE_CLOSE_MS,
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

/**
 * Watches a client checked out of a pool until `done()`. pg-pool listens for errors on idle clients only: a
 * checked-out client whose connection is lost emits 'error', which without a listener is an uncaught exception
 * that ends the process. The statement in flight (or the next one) rejects with the failure all the same; `lost()`
 * says whether the link went, so the client is dropped rather than pooled again.
 */
export function watchCheckedOut(client: PoolClient): { lost(): Error | undefined; done(): void } {
  let lost: Error | undefined;
  const onError = (error: Error) => void (lost ??= error);
  client.on('error', onError);
  return { lost: () => lost, done: () => void client.off('error', onError) };
}

/**
 * Runs work on one pooled connection inside `begin` ... COMMIT; rolls back on an error of the work. A
 * connection that failed (a timeout, a lost link) is dropped, not pooled again: it may still owe an answer.
 */
export async function transaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
  const client = await pool.connect();
  const watch = watchCheckedOut(client);
  let failure: unknown;
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    failure = error;
    if (!isUnavailable(error) && watch.lost() === undefined) await client.query('ROLLBACK').catch((e: unknown) => void (failure = e));
    throw error;
  } finally {
    watch.done();
    client.release(watch.lost() ?? (failure !== undefined && isUnavailable(failure) ? (failure as Error) : undefined));
  }
}

/** Runs reads in one REPEATABLE READ, READ ONLY transaction: they all see the same snapshot. */
export function snapshot<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  return transaction(pool, work, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
}

// SQLSTATEs of reaching PostgreSQL, not of the statement or its data: connection exceptions (class 08,
// but 08P01, a malformed message), shutdowns and start-ups (57P01-57P03, 57P05), timeouts (57014
// statement_timeout, 55P03 lock_timeout, 25P03 idle in transaction) and too many connections (53300).
const UNAVAILABLE_SQLSTATES = new Set(['08000', '08001', '08003', '08004', '08006', '08007', '57P01', '57P02', '57P03', '57P05', '57014', '55P03', '25P03', '53300']);
// Socket errors of the link to PostgreSQL (codes set by Node's net and dns).
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);
// What pg and pg-pool throw, without a code, when the link fails, times out or is closed under a query.
const UNAVAILABLE_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|timeout expired|Client has encountered a connection error|Client was closed|Cannot use a pool after calling end)/;

/**
 * True for a failure of reaching PostgreSQL: unreachable, the connection lost, a timeout. Anything else (a
 * value or statement PostgreSQL rejects, a bug) is false: the collector answers it 500 and logs it.
 */
export function isUnavailable(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_ERRNOS.has(code))) return true;
  if (error instanceof AggregateError) return error.errors.some(isUnavailable);
  return typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message);
}

/** The error as callers should see it: an unreachable PostgreSQL becomes StoreUnavailableError with a safe message. */
export function asStoreError(error: unknown, url: string): unknown {
  if (error instanceof StoreUnavailableError || (error as { name?: unknown })?.name === 'AbortError' || !isUnavailable(error)) return error;
  return new StoreUnavailableError(`PostgreSQL is unavailable: ${describePgError(error, url)}`, { cause: error });
}
