// The collector's retention job: one periodic purge of what is older than TELEMETRY_RETENTION_DAYS (and of
// idempotency keys older than TELEMETRY_IDEMPOTENCY_HOURS), on unref'd timers that never hold the process open.
// It runs wherever the collector runs; stores that are shared take turns (PostgreSQL: an advisory lock).
import type { Logger } from '../logger.js';
import type { LimitedLog } from '../logLimit.js';
import type { CollectorStore } from '../stores/index.js';

/** The first purge, a minute after start: start-up is not slowed, and a restart loop cannot purge in a loop. */
export const PURGE_FIRST_MS = 60_000;
/** Then hourly: keys expire by the hour; days and sessions by the day (the store skips what is not due). */
export const PURGE_EVERY_MS = 3_600_000;

export interface PurgeJobOptions {
  store: Pick<CollectorStore, 'purge'>;
  /** The collector's clock: what "older than" is measured from. */
  now: () => number;
  logger?: Pick<Logger, 'info'>;
  /** Where a failed run is said (rate-limited). */
  warnings?: LimitedLog;
}

/** Starts the job; `stop()` ends it (a run in flight finishes). */
export function startPurgeJob(options: PurgeJobOptions) {
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  async function run(): Promise<void> {
    if (running) return;
    running = true;
    try {
      const { deleted } = await options.store.purge(new Date(options.now()));
      if (deleted > 0) options.logger?.info({ deleted }, 'Collector data past its retention purged');
    } catch (err) {
      options.warnings?.warn({ err }, 'Collector purge failed; trying again at the next run');
    } finally {
      running = false;
    }
  }
  timer = setTimeout(() => {
    void run();
    timer = setInterval(() => void run(), PURGE_EVERY_MS).unref();
  }, PURGE_FIRST_MS).unref();
  return {
    stop: () => clearTimeout(timer),
    /** One run now (tests, and an operator's `purge` later). */
    run,
  };
}
