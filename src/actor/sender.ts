// The heartbeat POST: undici, hard timeouts, no redirects, the body always dumped, short failure reasons.
// undici is loaded at the first send, not at import: it costs a host ~100 ms of start-up and several MiB
// (see docs/benchmarks.md, H1 and H4), and a host with telemetry off never sends at all.
import { createRequire } from 'node:module';
import type { Dispatcher, EnvHttpProxyAgent as EnvHttpProxyAgentClass } from 'undici';
import type { HeartbeatIdentity } from '../../machines/telemetryMachine.js';
import { buildHeartbeat, type HeartbeatFields } from '../heartbeat.js';
import { redactUrl } from '../redact.js';
import { VERSION } from '../version.js';

/** How much of a response body is read (and thrown away) before the connection is dropped instead. */
const DUMP_LIMIT_BYTES = 4096;

/** A failed send: `reason` is the short text logged, the other fields steer retries. */
export class HeartbeatError extends Error {
  readonly reason: string;
  readonly statusCode?: number;
  readonly retryAfterMs?: number;
  readonly code?: string;
  readonly failedAt: number;
  /** The heartbeat that failed (its session and idempotency key): a retry resends exactly it. */
  readonly heartbeat: HeartbeatIdentity;

  constructor(
    reason: string,
    fields: { statusCode?: number; retryAfterMs?: number; code?: string; failedAt: number; heartbeat: HeartbeatIdentity; cause?: unknown },
  ) {
    super(reason, { cause: fields.cause });
    this.name = 'HeartbeatError';
    this.reason = reason;
    this.statusCode = fields.statusCode;
    this.retryAfterMs = fields.retryAfterMs;
    this.code = fields.code;
    this.failedAt = fields.failedAt;
    this.heartbeat = fields.heartbeat;
  }
}

/** One heartbeat request: its fields, where it goes, its limit and its idempotency key. */
export interface HeartbeatRequest extends HeartbeatFields {
  endpoint: string;
  timeoutSeconds: number;
  /** The key a collector counts once; default a new one (a retry passes the key of the heartbeat it resends). */
  idempotencyKey?: string;
}

/** A heartbeat the endpoint accepted (2xx); times are epoch milliseconds. */
export interface SentHeartbeat {
  statusCode: number;
  startedAt: number;
  finishedAt: number;
}

type RequestOptions = Omit<Dispatcher.RequestOptions, 'origin' | 'path'> & { dispatcher: Dispatcher };

/** The two parts of undici a heartbeat needs. */
interface UndiciParts {
  request: (url: string, options: RequestOptions) => Promise<Dispatcher.ResponseData>;
  EnvHttpProxyAgent: typeof EnvHttpProxyAgentClass;
}

let undici: UndiciParts | undefined;

/**
 * undici, required on first use. Its index loads ~110 modules (fetch, websocket, cache, cookies, mock), ~30 of
 * which a POST on a given dispatcher uses: those are required directly, and request() is given the origin and
 * path as undici's own wrapper does. Should a future undici move them, the full package is used instead.
 */
function loadUndici(): UndiciParts {
  if (undici !== undefined) return undici;
  const require = createRequire(import.meta.url);
  try {
    const apiRequest = require('undici/lib/api/api-request.js') as (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;
    const { parseURL } = require('undici/lib/core/util.js') as { parseURL: (url: string) => URL };
    const EnvHttpProxyAgent = require('undici/lib/dispatcher/env-http-proxy-agent.js') as typeof EnvHttpProxyAgentClass;
    // As undici's index does: the proxy agents call connect() and request() on their inner clients, which
    // come from Dispatcher.prototype only once the API methods are assigned to it.
    const Dispatcher = require('undici/lib/dispatcher/dispatcher.js') as { prototype: object };
    Object.assign(Dispatcher.prototype, require('undici/lib/api/index.js') as object);
    const request = (url: string, options: RequestOptions) => {
      const parsed = parseURL(url);
      const path = parsed.search ? `${parsed.pathname}${parsed.search}` : parsed.pathname;
      return apiRequest.call(options.dispatcher, { ...options, origin: parsed.origin, path } as Dispatcher.RequestOptions);
    };
    undici = { request, EnvHttpProxyAgent };
  } catch {
    const full = require('undici') as typeof import('undici');
    undici = { request: (url, options) => full.request(url, options), EnvHttpProxyAgent: full.EnvHttpProxyAgent };
  }
  return undici;
}

/** A dispatcher honouring HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as every sender uses unless given one. */
export function createDefaultDispatcher(): Dispatcher {
  return new (loadUndici().EnvHttpProxyAgent)({ keepAliveTimeout: 4_000 });
}

let sharedDispatcher: Dispatcher | undefined;

// Shared so that many senders in one process keep one pool, as undici's global dispatcher does.
function defaultDispatcher(): Dispatcher {
  sharedDispatcher ??= createDefaultDispatcher();
  return sharedDispatcher;
}

export interface SenderOptions {
  dispatcher?: Dispatcher;
  /** Clock for startedAt / finishedAt; default Date.now. */
  now?: () => number;
}

/** Parses Retry-After (delay seconds or an HTTP date) into milliseconds from now. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  // Every HTTP date form names a day or month; V8's lenient Date.parse would take '-5' as a year.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

class TimeoutReason extends Error {}

/** The reason phrase of a status code; node:http is loaded only when a send fails on one. */
async function statusText(statusCode: number): Promise<string> {
  const { STATUS_CODES } = await import('node:http');
  return STATUS_CODES[statusCode] ?? 'Unknown';
}

/**
 * Reads at most DUMP_LIMIT_BYTES of the body, dropping the connection beyond that, and returns what cut
 * the body short, if anything. undici's dump() resolves even when the body is destroyed by an error (our
 * deadline, a stop, a body timeout, a cut connection): a 2xx whose body never ends is a timeout, not a success.
 */
async function dumpBody(body: Dispatcher.ResponseData['body'], signal: AbortSignal): Promise<unknown> {
  let failure: unknown;
  body.on('error', (error: unknown) => {
    failure = error;
  });
  await body.dump({ limit: DUMP_LIMIT_BYTES });
  if (signal.aborted) return signal.reason;
  // dump() itself aborts a body whose content-length is over the limit: that drop is ours, not a failure.
  return (failure as { code?: unknown } | undefined)?.code === 'UND_ERR_ABORT' ? undefined : failure;
}

/** The request header that names one heartbeat across its retries; a collector counts each key once. */
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/**
 * Creates the send function the `sendHeartbeat` actor runs, on the given dispatcher or the shared proxy-aware one.
 *
 * Delivery is at least once: a 2xx that arrives just after the deadline counts as a failure, and a retry
 * sends the heartbeat again. Every heartbeat therefore carries an `idempotency-key` header (a header, not a
 * payload field: the payload is exactly the documented fields). The caller owns the key: the telemetry actor
 * makes a new one for every heartbeat and passes it again for that heartbeat's retries (a failure carries it
 * back in `HeartbeatError.heartbeat`); the collector counts a key once.
 */
export function createSender(options: SenderOptions = {}) {
  const now = options.now ?? Date.now;

  return async function sendHeartbeat(input: HeartbeatRequest, signal?: AbortSignal): Promise<SentHeartbeat> {
    const heartbeat: HeartbeatIdentity = {
      sessionId: input.sessionId,
      sessionStartTimestamp: input.sessionStartTimestamp,
      idempotencyKey: input.idempotencyKey ?? globalThis.crypto.randomUUID(),
    };
    // Made at the first send, not here: a server with telemetry off never loads undici or builds the proxy agents.
    const dispatcher = options.dispatcher ?? defaultDispatcher();
    const { request } = loadUndici();
    const timeoutMs = input.timeoutSeconds * 1000;
    const url = redactUrl(input.endpoint);
    const startedAt = now();
    // One deadline for connect, headers and body together, and the invoke's signal for an instant stop.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new TimeoutReason()), timeoutMs);
    timer.unref();
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    try {
      const response = await request(input.endpoint, {
        method: 'POST',
        dispatcher,
        signal: controller.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        headers: {
          'content-type': 'application/json',
          'x-telemetry-event': input.source,
          'user-agent': `telemetry-actor/${VERSION}`,
          [IDEMPOTENCY_HEADER]: heartbeat.idempotencyKey,
        },
        body: JSON.stringify(buildHeartbeat(input)),
      });
      const bodyFailure = await dumpBody(response.body, controller.signal);
      const { statusCode } = response;
      // A non-2xx status is the clearer reason (and steers 410 and Retry-After) even if its body was cut.
      if (statusCode < 200 || statusCode > 299) {
        const failedAt = now();
        throw new HeartbeatError(`HTTP ${statusCode} ${await statusText(statusCode)} from ${url}`, {
          statusCode,
          retryAfterMs: parseRetryAfter(response.headers['retry-after'], failedAt),
          failedAt,
          heartbeat,
        });
      }
      if (bodyFailure !== undefined) throw bodyFailure;
      return { statusCode, startedAt, finishedAt: now() };
    } catch (error) {
      if (error instanceof HeartbeatError) throw error;
      if (signal?.aborted) throw signal.reason ?? error;
      throw toHeartbeatError(error, controller.signal.reason, { timeoutSeconds: input.timeoutSeconds, url, failedAt: now(), heartbeat });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  };
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

interface FailedAttempt {
  timeoutSeconds: number;
  url: string;
  failedAt: number;
  heartbeat: HeartbeatIdentity;
}

function toHeartbeatError(error: unknown, abortReason: unknown, { timeoutSeconds, url, failedAt, heartbeat }: FailedAttempt) {
  const code = (error as { code?: unknown } | null)?.code;
  const codeText = typeof code === 'string' ? code : undefined;
  if (abortReason instanceof TimeoutReason || (codeText !== undefined && TIMEOUT_CODES.has(codeText))) {
    return new HeartbeatError(`timed out after ${timeoutSeconds} s sending to ${url}`, { code: 'ETIMEDOUT', failedAt, heartbeat, cause: error });
  }
  const what = codeText?.startsWith('E') ? codeText : errorText(error, codeText);
  return new HeartbeatError(`${what} sending to ${url}`, { code: codeText, failedAt, heartbeat, cause: error });
}

function errorText(error: unknown, code: string | undefined): string {
  const message = error instanceof Error ? error.message : String(error);
  return code === undefined ? message : `${message} (${code})`;
}
