// The collector's reads: GET /api/collector/stats (optionally as of a day) and GET /api/collector/export (JSON or
// CSV). Both come from the store already folded by the privacy floor; bad parameters are 400 naming them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson, sendText } from '../httpJson.js';
import type { CollectorStore } from '../stores/collectorStore.js';
import type { CollectorStats } from '../stores/stats.js';
import { dayNumber, dayText } from '../stores/presence.js';
import { singleFlightBy } from '../stores/singleFlight.js';
import { CSV_CONTENT_TYPE, exportCsv, exportFileName, exportJson } from './export.js';
import { parseExportQuery, parseStatsQuery, type DayWindow, type QueryResult } from './query.js';

export interface ReadsDeps {
  /** The stats as of a day, one read at a time per day (shared with the collector's other readers). */
  stats: (asOf: string) => Promise<CollectorStats>;
  exportRows: CollectorStore['export'];
  /** How many days' answers are built once for concurrent requests. */
  statsDaysShared: number;
  /** The collector's clock: which day is today. */
  now: () => number;
  retentionDays: number;
  privacyMinSessions: number;
}

/** Answers a refused parameter as every 400 of the API: `{ error, field }`, the field being the parameter. */
function refused<T>(res: ServerResponse, query: QueryResult<T>): query is Extract<QueryResult<T>, { ok: false }> {
  if (query.ok) return false;
  sendJson(res, 400, { error: query.message, field: query.parameter });
  return true;
}

/** The read handlers; a store failure is thrown to the caller, which answers 503 or 500. */
export function createReads(deps: ReadsDeps) {
  const window = (): DayWindow => ({ now: deps.now(), retentionDays: deps.retentionDays });
  // A burst of stats requests builds and serialises the answer once per day asked, not once each: building it
  // from a large snapshot takes a fraction of a second of this process's only thread, and 300 at once held the
  // writer's answers past its query timeout (test/postgres.load.test.ts, "a burst of stats reads").
  const statsText = singleFlightBy((asOf: string) => deps.stats(asOf).then((stats) => JSON.stringify(stats)), deps.statsDaysShared);
  return {
    async handleStats(req: IncomingMessage, res: ServerResponse): Promise<void> {
      const query = parseStatsQuery(req.url, window());
      if (refused(res, query)) return;
      // Today by the collector's clock (the one that stamps heartbeats), whatever clock the store was opened with.
      const asOf = query.value.asOf ?? dayText(dayNumber(deps.now()));
      sendText(res, 200, 'application/json', await statsText(asOf), { 'cache-control': 'no-store' });
    },
    async handleExport(req: IncomingMessage, res: ServerResponse): Promise<void> {
      const query = parseExportQuery(req.url, window());
      if (refused(res, query)) return;
      const rows = await deps.exportRows({ from: query.value.from, to: query.value.to });
      if (query.value.format === 'json') {
        return sendText(res, 200, 'application/json', exportJson(rows, query.value, deps.privacyMinSessions), { 'cache-control': 'no-store' });
      }
      sendText(res, 200, CSV_CONTENT_TYPE, exportCsv(rows), {
        'cache-control': 'no-store',
        'content-disposition': `attachment; filename="${exportFileName(query.value)}"`,
      });
    },
  };
}
