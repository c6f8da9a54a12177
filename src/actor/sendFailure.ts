// What a failed heartbeat send is, in one short reason: the status line, the error code or the timeout, with
// the (redacted) URL; and the fields that steer a retry (status code, Retry-After, the heartbeat to resend).
import type { HeartbeatIdentity } from '../../machines/telemetryMachine.js';
import { errorCode, errorMessage } from '../errors.js';

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

/** The abort reason of the sender's own deadline, told apart from a stop. */
export class TimeoutReason extends Error {}

/** One send that failed: its limit, its redacted URL, when, and which heartbeat. */
export interface FailedAttempt {
  timeoutSeconds: number;
  url: string;
  failedAt: number;
  heartbeat: HeartbeatIdentity;
}

/** A non-2xx answer (3xx included: redirects are not followed); node:http is loaded only now, for the reason phrase. */
export async function statusFailure(statusCode: number, retryAfter: string | string[] | undefined, attempt: Omit<FailedAttempt, 'timeoutSeconds'>) {
  const { STATUS_CODES } = await import('node:http');
  const { url, failedAt, heartbeat } = attempt;
  const retryAfterMs = parseRetryAfter(retryAfter, failedAt);
  return new HeartbeatError(`HTTP ${statusCode} ${STATUS_CODES[statusCode] ?? 'Unknown'} from ${url}`, { statusCode, retryAfterMs, failedAt, heartbeat });
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/** A send that got no complete answer: the deadline (ours or undici's) as a timeout, else the error's code or text. */
export function transportFailure(error: unknown, abortReason: unknown, { timeoutSeconds, url, failedAt, heartbeat }: FailedAttempt) {
  const code = errorCode(error);
  if (abortReason instanceof TimeoutReason || (code !== undefined && TIMEOUT_CODES.has(code))) {
    return new HeartbeatError(`timed out after ${timeoutSeconds} s sending to ${url}`, { code: 'ETIMEDOUT', failedAt, heartbeat, cause: error });
  }
  const what = code?.startsWith('E') ? code : errorText(error, code);
  return new HeartbeatError(`${what} sending to ${url}`, { code, failedAt, heartbeat, cause: error });
}

function errorText(error: unknown, code: string | undefined): string {
  return code === undefined ? errorMessage(error) : `${errorMessage(error)} (${code})`;
}
