// The collector: receives heartbeats (POST /api/collector) and serves their totals (GET /api/collector/stats).
// Served by the reference server when TELEMETRY_COLLECTOR is on (or auto with no endpoint set).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StoreUnavailableError } from '../errors.js';
import { drainRest, readLimitedBody, DRAIN_LIMIT_BYTES } from './body.js';
import { createIdempotency, INVALID_KEY_MESSAGE, isValidKey } from './idempotency.js';

export { readLimitedBody, DRAIN_LIMIT_BYTES } from './body.js';
import type { Heartbeat } from '../heartbeat.js';
import { isJsonContentType, MAX_BODY_BYTES, sendJson, sendJsonText } from '../httpJson.js';
import { limitRepeats, type LimitedLog } from '../logLimit.js';
import type { Logger } from '../logger.js';
import { openLevelCollectorStore, type LegacyCollectorStats as CollectorStats, type CollectorStore, type LevelLike } from '../stores/index.js';

export type { LegacyCollectorStats as CollectorStats } from '../stores/index.js';

export { MAX_BODY_BYTES };
export const MAX_SOURCE_LENGTH = 64;
export const MAX_VALUE_LENGTH = 200;

export type ValidationResult = { ok: true; heartbeat: Heartbeat } | { ok: false; field: string; message: string };

const TOP_LEVEL_KEYS = new Set(['source', 'type', 'payload']);
// payload.session_id on the wire: any RFC 9562 UUID, nil and max included (the rule of uuid's `validate`). A
// synchronous format check at the edge, so validateHeartbeat stays pure and sync; stored sessions are checked by
// the uuid package itself (src/stores/session.ts), which this hot path does not wait to import.
const UUID = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$/i;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** ISO 8601 date-time with an offset; Date.parse alone would let 2026-02-30 roll over into March. */
export function isIsoDateTime(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  const m = ISO_DATE.exec(v);
  if (!m || Number.isNaN(Date.parse(v))) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function isScalar(v: unknown): boolean {
  if (typeof v === 'string') return v.length <= MAX_VALUE_LENGTH;
  return typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

const fail = (field: string, message: string): ValidationResult => ({ ok: false, field, message });

function validatePayload(payload: unknown): ValidationResult | undefined {
  if (!isPlainObject(payload)) return fail('payload', 'payload must be an object');
  if (typeof payload.session_id !== 'string' || !UUID.test(payload.session_id)) {
    return fail('payload.session_id', 'payload.session_id must be a UUID');
  }
  if (!isIsoDateTime(payload.session_start_timestamp)) {
    return fail('payload.session_start_timestamp', 'payload.session_start_timestamp must be an ISO 8601 date-time');
  }
  // Keys, not entries: no [key, value] pair is allocated per field of every heartbeat.
  for (const key of Object.keys(payload)) {
    if (!isScalar(payload[key])) {
      return fail(`payload.${key}`, `payload.${key} must be a string of at most ${MAX_VALUE_LENGTH} characters, a number or a boolean`);
    }
  }
  return undefined;
}

/**
 * Checks a parsed body against the heartbeat shape; pure. On failure `field` names the first bad
 * field (`source`, `payload.session_id`, ...; `body` when the body is not an object). Payload fields
 * other than session_id and session_start_timestamp are checked for kind only, and may be absent,
 * so that heartbeats from other versions still count.
 */
export function validateHeartbeat(body: unknown): ValidationResult {
  if (!isPlainObject(body)) return fail('body', 'body must be a JSON object');
  const extra = Object.keys(body).find((key) => !TOP_LEVEL_KEYS.has(key));
  if (extra !== undefined) return fail(extra, `unexpected field ${extra}: only source, type and payload are allowed`);
  const { source, type, payload } = body;
  if (typeof source !== 'string' || source.length === 0 || source.length > MAX_SOURCE_LENGTH) {
    return fail('source', `source must be a string of 1 to ${MAX_SOURCE_LENGTH} characters`);
  }
  if (type !== 'heartbeat') return fail('type', 'type must be "heartbeat"');
  return validatePayload(payload) ?? { ok: true, heartbeat: body as unknown as Heartbeat };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(body: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(utf8.decode(body)) };
  } catch {
    return { ok: false };
  }
}

/** The collector's two endpoints; the router dispatches methods and paths to them. */
export interface Collector {
  /** Handles POST /api/collector: reads the body with limits, validates, records, answers. */
  handlePost(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Handles GET /api/collector/stats. */
  handleStats(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** The totals of the heartbeats recorded (and answered 202) so far. */
  stats(): Promise<CollectorStats>;
  /** Validates and records one heartbeat; resolves once it is written. Rejects on an invalid heartbeat. */
  record(heartbeat: Heartbeat, receivedAt?: Date): Promise<void>;
}

/** Where the counts live: a CollectorStore, or (the convenience) any abstract-level database. */
export type CollectorSource =
  | { store: CollectorStore; db?: never }
  /** The collector keeps its data in sublevel `collector`; one collector per database. */
  | { db: LevelLike; store?: never };

export type CollectorDeps = CollectorSource & {
  logger?: Logger;
  /** Clock for last_heartbeat_at; default Date.now. */
  now?: () => number;
};

const TOO_LARGE = { error: `Body larger than ${MAX_BODY_BYTES} bytes` };
const UNAVAILABLE = { error: 'The collector cannot store heartbeats right now; retry later' };
// Serialised once: it is the answer to every accepted heartbeat.
const ACCEPTED = JSON.stringify({ status: 'accepted' });

// Connection: close, so Node drops the connection instead of reading the rest of a large body.
function refuseTooLarge(res: ServerResponse): void {
  sendJson(res, 413, TOO_LARGE, { connection: 'close' });
}

/** Creates the collector and loads its stored totals. */
export async function createCollector(deps: CollectorDeps): Promise<Collector> {
  const store = deps.store ?? (await openLevelCollectorStore(deps.db, deps.logger));
  const logger = deps.logger;
  // A store that fails keeps failing (a full disk): one line with its stack a minute, then a summary.
  const limited: LimitedLog | undefined = logger === undefined ? undefined : limitRepeats(logger, { perWindow: 1 });
  const now = deps.now ?? Date.now;
  const idempotency = createIdempotency();

  async function receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isJsonContentType(req.headers['content-type'])) {
      return sendJson(res, 415, { error: 'Content-Type must be application/json' });
    }
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
      return sendJson(res, 415, { error: 'Content-Encoding is not supported' });
    }
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
      if (declared <= DRAIN_LIMIT_BYTES) await drainRest(req);
      return refuseTooLarge(res);
    }
    const read = await readLimitedBody(req, MAX_BODY_BYTES);
    if (read.kind === 'aborted') return;
    if (read.kind === 'too-large') {
      await drainRest(req);
      return refuseTooLarge(res);
    }
    const parsed = parseJson(read.body);
    if (!parsed.ok) return sendJson(res, 400, { error: 'Body is not valid JSON', field: 'body' });
    const result = validateHeartbeat(parsed.value);
    if (!result.ok) return sendJson(res, 400, { error: result.message, field: result.field });
    const { session_id: sessionId, server_version: serverVersion } = result.heartbeat.payload;
    const key = req.headers['idempotency-key'];
    if (key === undefined) await store.record(result.heartbeat, new Date(now()));
    else if (!isValidKey(key)) return sendJson(res, 400, { error: INVALID_KEY_MESSAGE, field: 'idempotency-key' });
    else if (!(await idempotency.once(key, () => store.record(result.heartbeat, new Date(now()))))) {
      logger?.debug({ sessionId }, 'Heartbeat already counted under its idempotency key');
      return sendJsonText(res, 202, ACCEPTED);
    }
    // Checked first so that no fields object is built per heartbeat when debug is off.
    if (logger?.isLevelEnabled('debug') === true) {
      logger.debug({ sessionId, serverVersion, source: result.heartbeat.source }, 'Heartbeat received');
    }
    sendJsonText(res, 202, ACCEPTED);
  }

  function failed(res: ServerResponse, err: unknown, msg: string): void {
    // A store that cannot take writes now (PostgreSQL restarting, LevelDB recovering): nothing was written,
    // and the sender may try again.
    if (err instanceof StoreUnavailableError) {
      limited?.warn({ reason: err.message }, msg);
      return sendJson(res, 503, UNAVAILABLE, { 'retry-after': '5' });
    }
    limited?.error({ err }, msg);
    sendJson(res, 500, { error: 'Internal server error' });
  }

  return {
    async handlePost(req, res) {
      try {
        await receive(req, res);
      } catch (err) {
        // The store said so once when it started refusing; each refused request is only answered.
        if (err instanceof StoreUnavailableError) return sendJson(res, 503, UNAVAILABLE, { 'retry-after': '1' });
        failed(res, err, 'Failed to record heartbeat');
      }
    },
    async handleStats(_req, res) {
      try {
        sendJson(res, 200, await store.stats(), { 'cache-control': 'no-store' });
      } catch (err) {
        failed(res, err, 'Failed to read collector stats');
      }
    },
    async stats() {
      return store.stats();
    },
    async record(heartbeat, receivedAt) {
      const result = validateHeartbeat(heartbeat);
      if (!result.ok) throw new Error(`Invalid heartbeat: ${result.message}`);
      await store.record(result.heartbeat, receivedAt ?? new Date(now()));
    },
  };
}
