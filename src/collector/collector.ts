// The collector: receives heartbeats (POST /api/collector) and serves their totals (GET /api/collector/stats).
// Served by the reference server when TELEMETRY_COLLECTOR is on (or auto with no endpoint set).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StoreUnavailableError } from '../errors.js';
import { readLimitedBody } from './body.js';
import { createIdempotency, INVALID_KEY_MESSAGE, isValidKey } from './idempotency.js';
import { heartbeatSchemaText, SCHEMA_CONTENT_TYPE, validateHeartbeat } from './validate.js';
import type { Heartbeat } from '../heartbeat.js';
import { MAX_BODY_BYTES, refuseTooLarge, sendJson, sendJsonText, sendText } from '../httpJson.js';
import { limitRepeats, type LimitedLog } from '../logLimit.js';
import type { Logger } from '../logger.js';
import { openLevelCollectorStore, type LegacyCollectorStats as CollectorStats, type CollectorStore, type LevelLike } from '../stores/index.js';

export { readLimitedBody } from './body.js';
export { validateHeartbeat, type ValidationResult } from './validate.js';
export type { LegacyCollectorStats as CollectorStats } from '../stores/index.js';
export { MAX_BODY_BYTES };

/** application/json, with no parameter but an optional utf-8 charset. */
function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  // What every client we know sends: answered without splitting the header.
  if (value === 'application/json') return true;
  const [type, ...params] = value.split(';').map((part) => part.trim().toLowerCase());
  if (type !== 'application/json') return false;
  return params.every((p) => p === '' || p === 'charset=utf-8' || p === 'charset="utf-8"');
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(body: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(utf8.decode(body)) };
  } catch {
    return { ok: false };
  }
}

/** The collector's endpoints; the router dispatches methods and paths to them. */
export interface Collector {
  /** Handles POST /api/collector: reads the body with limits, validates, records, answers. */
  handlePost(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Handles GET /api/collector/stats. */
  handleStats(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Handles GET /api/collector/schema: the heartbeat's JSON Schema, the rule handlePost applies. */
  handleSchema(req: IncomingMessage, res: ServerResponse): Promise<void>;
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

const UNAVAILABLE = { error: 'The collector cannot store heartbeats right now; retry later' };
// Serialised once: it is the answer to every accepted heartbeat.
const ACCEPTED = JSON.stringify({ status: 'accepted' });

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
    if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) return refuseTooLarge(req, res);
    const read = await readLimitedBody(req, MAX_BODY_BYTES);
    if (read.kind === 'aborted') return;
    if (read.kind === 'too-large') return refuseTooLarge(req, res);
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
    async handleSchema(_req, res) {
      sendText(res, 200, SCHEMA_CONTENT_TYPE, await heartbeatSchemaText(), { 'cache-control': 'no-cache' });
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
