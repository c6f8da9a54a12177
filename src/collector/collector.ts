// The collector: receives heartbeats (POST /api/collector) and serves what they add up to (stats, export, schema).
// Served by the reference server when TELEMETRY_COLLECTOR is on (or auto with no endpoint set).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { IdempotencyConflictError, REFUSALS, StoreUnavailableError, type Refusal } from '../errors.js';
import { readLimitedBody } from './body.js';
import { startPurgeJob } from './purgeJob.js';
import type { createReads } from './reads.js';
import { createRejections, type RejectReason, type RejectStatus } from './rejections.js';
import { heartbeatSchemaText, SCHEMA_CONTENT_TYPE, validateHeartbeat } from './validate.js';
import { IDEMPOTENCY_HEADER, type Heartbeat } from '../heartbeat.js';
import { isJsonContentType, MAX_BODY_BYTES, refuseTooLarge, sendJsonText, sendRefusal, sendText } from '../httpJson.js';
import { limitRepeats, type LimitedLog } from '../logLimit.js';
import type { Logger } from '../logger.js';
import { SETTINGS } from '../settings/table.js';
import { openLevelCollector, type CollectorStats, type CollectorStore, type CollectorStoreOptions, type LevelLike, type RecordOutcome } from '../stores/index.js';
import { toCounted } from '../stores/counting.js';
import { dayNumber, dayText } from '../stores/presence.js';
import { singleFlightBy } from '../stores/singleFlight.js';

export { readLimitedBody } from './body.js';
export { validateHeartbeat, type ValidationResult } from './validate.js';
export type { RejectReason, RejectStatus } from './rejections.js';
export type { CollectorStats } from '../stores/index.js';
export { MAX_BODY_BYTES };

const MAX_KEY_LENGTH = 200;

/** A key the `idempotency-key` header may carry: 1 to 200 visible ASCII characters. */
export function isValidKey(key: unknown): key is string {
  return typeof key === 'string' && key.length > 0 && key.length <= MAX_KEY_LENGTH && /^[\x21-\x7e]+$/.test(key);
}

const INVALID_KEY = REFUSALS.invalidKey(MAX_KEY_LENGTH);

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(body: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(utf8.decode(body)) };
  } catch {
    return { ok: false };
  }
}

/** The collector: its HTTP handlers (the router dispatches methods and paths to them) and the same in-process. */
export interface Collector {
  /** Handles POST /api/collector: reads the body with limits, validates, records, answers. */
  handlePost(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Handles GET /api/collector/stats (`?as_of=YYYY-MM-DD`: the day the windows end on; default today). */
  handleStats(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Handles GET /api/collector/export (`?format=json|csv&from=YYYY-MM-DD&to=YYYY-MM-DD`). */
  handleExport(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Handles GET /api/collector/schema: the heartbeat's JSON Schema, the rule handlePost applies. */
  handleSchema(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** The stats as of a UTC day (default today by the collector's clock), after the privacy floor. */
  stats(options?: { asOf?: string }): Promise<CollectorStats>;
  /** Heartbeats refused since this collector started, by reason (for GET /metrics). */
  rejections(): ReadonlyMap<RejectReason, number>;
  /** Counts a refusal answered outside the collector (the server's rate limit: 429). */
  countRejection(status: RejectStatus): void;
  /**
   * Validates and records one heartbeat (under an idempotency key when given); resolves once it is written,
   * with `duplicate` when its key was already counted. Rejects on an invalid heartbeat, and with
   * IdempotencyConflictError when the key was counted with another body.
   */
  record(heartbeat: Heartbeat, receivedAt?: Date, idempotencyKey?: string): Promise<RecordOutcome>;
  /** Stops the periodic purge (the store itself is closed by its owner). */
  close(): void;
}

/** Where the counts live: a CollectorStore, or (the convenience) any abstract-level database. */
export type CollectorSource =
  | { store: CollectorStore; db?: never }
  /** The collector keeps its data in sublevel `collector`; one collector per database. */
  | { db: LevelLike; store?: never };

type Bounds = Pick<CollectorStoreOptions, 'idempotencyHours' | 'retentionDays' | 'privacyMinSessions'>;

export type CollectorDeps = CollectorSource & {
  logger?: Logger;
  /** The collector's clock: when a heartbeat is received, today for the stats, the purge's now; default Date.now. */
  now?: () => number;
  /**
   * The store's bounds (default: the settings table's defaults): what a `db` store is opened with, and what the
   * reads check against (the retention window of `as_of`, `from` and `to`; the floor an export names).
   */
  storeOptions?: Partial<Bounds>;
};

/** The bounds given, with the settings table's defaults for the rest. */
function boundsOf(deps: CollectorDeps): Bounds {
  return {
    idempotencyHours: SETTINGS.idempotencyHours.fallback,
    retentionDays: SETTINGS.retentionDays.fallback,
    privacyMinSessions: SETTINGS.privacyMinSessions.fallback,
    ...deps.storeOptions,
  };
}

// Serialised once: it is the answer to every accepted heartbeat.
const ACCEPTED = JSON.stringify({ status: 'accepted' });
/** Days whose stats reads are shared by concurrent readers (today, and a few asked with as_of). */
const STATS_DAYS_SHARED = 8;

/** Creates the collector and loads its stored totals. */
export async function createCollector(deps: CollectorDeps): Promise<Collector> {
  const bounds = boundsOf(deps);
  const store = deps.store ?? (await openLevelCollector(deps.db, { ...bounds, logger: deps.logger, now: deps.now }));
  const logger = deps.logger;
  // A store that fails keeps failing (a full disk): one line with its stack a minute, then a summary.
  const limited: LimitedLog | undefined = logger === undefined ? undefined : limitRepeats(logger, { perWindow: 1 });
  const now = deps.now ?? Date.now;
  const purgeJob = startPurgeJob({ store, now, logger, warnings: limited });
  const today = () => dayText(dayNumber(now()));
  // One stats read at a time per day, shared by every reader: the stats API, /metrics and the console feed.
  const statsAsOf = singleFlightBy((asOf: string) => store.stats({ asOf }), STATS_DAYS_SHARED);
  const rejected = createRejections();
  // The read handlers (query parsing, CSV) are loaded at the first read: start-up and the POST path never need them.
  let reads: Promise<ReturnType<typeof createReads>> | undefined;
  const readsOf = () =>
    (reads ??= import('./reads.js').then((m) => m.createReads({ stats: statsAsOf, exportRows: (range) => store.export(range), now, retentionDays: bounds.retentionDays, privacyMinSessions: bounds.privacyMinSessions, statsDaysShared: STATS_DAYS_SHARED })));

  /** Answers a refused heartbeat with a JSON error, counting it by reason. */
  function refuse(res: ServerResponse, refusal: Refusal & { status: RejectStatus }, fields?: { field: string }): void {
    rejected.count(refusal.status);
    sendRefusal(res, refusal, fields);
  }

  /** Counts one valid heartbeat; a key counted with another body is answered 422 naming it. */
  async function count(res: ServerResponse, heartbeat: Heartbeat, key: string | undefined): Promise<RecordOutcome | undefined> {
    try {
      return await store.record(toCounted(heartbeat, new Date(now()), key));
    } catch (err) {
      if (!(err instanceof IdempotencyConflictError) || key === undefined) throw err;
      refuse(res, REFUSALS.keyConflict(key), { field: IDEMPOTENCY_HEADER });
      return undefined;
    }
  }

  /** The body as a valid heartbeat, or undefined once the refusal is answered. */
  async function readHeartbeat(req: IncomingMessage, res: ServerResponse): Promise<Heartbeat | undefined> {
    if (!isJsonContentType(req.headers['content-type'])) return void refuse(res, REFUSALS.notJson);
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return void refuse(res, REFUSALS.encoding);
    const declared = Number(req.headers['content-length']);
    const read = Number.isFinite(declared) && declared > MAX_BODY_BYTES ? ({ kind: 'too-large' } as const) : await readLimitedBody(req, MAX_BODY_BYTES);
    if (read.kind === 'aborted') return undefined;
    if (read.kind === 'too-large') {
      rejected.count(413);
      return void refuseTooLarge(req, res);
    }
    const parsed = parseJson(read.body);
    if (!parsed.ok) return void refuse(res, REFUSALS.bodyNotJson, { field: 'body' });
    const result = validateHeartbeat(parsed.value);
    if (!result.ok) return void refuse(res, { status: 400, error: result.message }, { field: result.field });
    return result.heartbeat;
  }

  async function receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const heartbeat = await readHeartbeat(req, res);
    if (heartbeat === undefined) return;
    const { session_id: sessionId, server_version: serverVersion } = heartbeat.payload;
    const key = req.headers[IDEMPOTENCY_HEADER];
    if (key !== undefined && !isValidKey(key)) return refuse(res, INVALID_KEY, { field: IDEMPOTENCY_HEADER });
    const outcome = await count(res, heartbeat, key);
    if (outcome === undefined) return;
    if (outcome === 'duplicate') {
      logger?.debug({ sessionId }, 'Heartbeat already counted under its idempotency key');
      return sendJsonText(res, 202, ACCEPTED);
    }
    // Checked first so that no fields object is built per heartbeat when debug is off.
    if (logger?.isLevelEnabled('debug') === true) {
      logger.debug({ sessionId, serverVersion, source: heartbeat.source }, 'Heartbeat received');
    }
    sendJsonText(res, 202, ACCEPTED);
  }

  /** A store failure: 503 with Retry-After when it cannot be reached (nothing was written), else 500, logged. */
  function failed(res: ServerResponse, err: unknown, msg: string): void {
    if (err instanceof StoreUnavailableError) {
      limited?.warn({ reason: err.message }, msg);
      return sendRefusal(res, REFUSALS.cannotRead);
    }
    limited?.error({ err }, msg);
    sendRefusal(res, REFUSALS.internal);
  }

  return {
    async handlePost(req, res) {
      try {
        await receive(req, res);
      } catch (err) {
        // The store said so once when it started refusing; each refused request is only answered.
        if (err instanceof StoreUnavailableError) return refuse(res, REFUSALS.cannotStore);
        rejected.count(500);
        failed(res, err, 'Failed to record heartbeat');
      }
    },
    async handleStats(req, res) {
      await (await readsOf()).handleStats(req, res).catch((err: unknown) => failed(res, err, 'Failed to read collector stats'));
    },
    async handleExport(req, res) {
      await (await readsOf()).handleExport(req, res).catch((err: unknown) => failed(res, err, 'Failed to export collector stats'));
    },
    async handleSchema(_req, res) {
      sendText(res, 200, SCHEMA_CONTENT_TYPE, await heartbeatSchemaText(), { 'cache-control': 'no-cache' });
    },
    stats: (options = {}) => statsAsOf(options.asOf ?? today()),
    rejections: () => rejected.snapshot(),
    countRejection: (status) => rejected.count(status),
    async record(heartbeat, receivedAt, idempotencyKey) {
      const result = validateHeartbeat(heartbeat);
      if (!result.ok) throw new Error(`Invalid heartbeat: ${result.message}`);
      // The rule the HTTP edge applies to the header, for a caller that records directly.
      if (idempotencyKey !== undefined && !isValidKey(idempotencyKey)) throw new Error(`Invalid idempotency key: ${INVALID_KEY.error}`);
      return store.record(toCounted(result.heartbeat, receivedAt ?? new Date(now()), idempotencyKey));
    },
    close: () => purgeJob.stop(),
  };
}
