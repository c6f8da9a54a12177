// The heartbeat POST policy: undici, one deadline, no redirects, the body always dumped, the key in a header.
// undici is loaded at the first send, not at import (src/actor/undiciParts.ts): it costs a host ~100 ms of
// start-up and several MiB (see docs/benchmarks.md, H1 and H4), and a host with telemetry off never sends at all.
// What a failure is called lives in src/actor/sendFailure.ts.
import type { Dispatcher } from 'undici';
import type { HeartbeatIdentity } from '../../machines/telemetryMachine.js';
import { errorCode } from '../errors.js';
import { buildHeartbeat, IDEMPOTENCY_HEADER, type HeartbeatFields } from '../heartbeat.js';
import { redactUrl } from '../redact.js';
import { VERSION } from '../version.js';
import { HeartbeatError, statusFailure, TimeoutReason, transportFailure } from './sendFailure.js';
import { loadUndici } from './undiciParts.js';

export { HeartbeatError, parseRetryAfter } from './sendFailure.js';

/** How much of a response body is read (and thrown away) before the connection is dropped instead. */
const DUMP_LIMIT_BYTES = 4096;

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
  return errorCode(failure) === 'UND_ERR_ABORT' ? undefined : failure;
}

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
      if (statusCode < 200 || statusCode > 299) throw await statusFailure(statusCode, response.headers['retry-after'], { url, failedAt: now(), heartbeat });
      if (bodyFailure !== undefined) throw bodyFailure;
      return { statusCode, startedAt, finishedAt: now() };
    } catch (error) {
      if (error instanceof HeartbeatError) throw error;
      if (signal?.aborted) throw signal.reason ?? error;
      throw transportFailure(error, controller.signal.reason, { timeoutSeconds: input.timeoutSeconds, url, failedAt: now(), heartbeat });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  };
}
