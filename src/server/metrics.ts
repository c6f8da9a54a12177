// GET /metrics: the Prometheus text format (version 0.0.4), written by hand from what the server already holds:
// its own telemetry (state, heartbeats sent) and, when the collector is served, its stats after the privacy
// floor and the heartbeats it refused. No client library: every series is computed when scraped, so there is no
// registry to keep, and prom-client would add packages to the install and modules to start-up for nothing.
import type { ServerResponse } from 'node:http';
import { telemetryMachine } from '../../machines/telemetryMachine.js';
import type { Collector } from '../collector/collector.js';
import type { RejectReason } from '../collector/rejections.js';
import { StoreUnavailableError } from '../errors.js';
import { sendJson, sendText } from '../httpJson.js';
import type { CollectorStats } from '../stores/stats.js';
import type { TelemetryStatus } from './status.js';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Labels = ReadonlyArray<readonly [name: string, value: string]>;
type Sample = readonly [labels: Labels, value: number];

/** Label values may hold any text a heartbeat carried: backslash, quote and newline are escaped. */
const labelValue = (text: string) => text.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');

function family(name: string, type: 'counter' | 'gauge', help: string, samples: readonly Sample[]): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const [labels, value] of samples) {
    const text = labels.length === 0 ? '' : `{${labels.map(([k, v]) => `${k}="${labelValue(v)}"`).join(',')}}`;
    lines.push(`${name}${text} ${Number.isFinite(value) ? value : 0}`);
  }
  return lines.join('\n');
}

/** The states a telemetry status can show: the machine's, and `disabled` when telemetry is off. */
const STATES = [...Object.keys(telemetryMachine.root.states), 'disabled'];

/** The server's own telemetry: on or off, its state (one series per state, 1 for the current one), heartbeats sent. */
export function telemetryFamilies(status: TelemetryStatus): string[] {
  return [
    family('telemetry_enabled', 'gauge', 'Whether this server sends heartbeats (1) or not (0).', [[[], status.enabled ? 1 : 0]]),
    family(
      'telemetry_state',
      'gauge',
      "The telemetry actor's state: 1 for the current one.",
      STATES.map((state) => [[['state', state]], state === status.state ? 1 : 0]),
    ),
    family('telemetry_heartbeats_sent_total', 'counter', 'Heartbeats this server sent and saw accepted (2xx) since it started.', [[[], status.heartbeats_sent]]),
  ];
}

/** The collector's families: heartbeats and sessions counted, refusals by reason, the fleet as of today (after the floor). */
export function collectorFamilies(stats: CollectorStats, rejected: ReadonlyMap<RejectReason, number>): string[] {
  const installations = Object.entries(stats.installations).filter((entry): entry is [string, Record<string, number>] => typeof entry[1] === 'object');
  const adoption = Object.entries(stats.adoption_by_day[stats.as_of] ?? {});
  const last = stats.last_heartbeat_at === null ? [] : ([[[], Date.parse(stats.last_heartbeat_at) / 1000]] as Sample[]);
  return [
    family('telemetry_collector_heartbeats_total', 'counter', 'Heartbeats counted by the collector (answered 202), each once.', [[[], stats.heartbeats_total]]),
    family('telemetry_collector_sessions_total', 'counter', 'Distinct sessions (installations) the collector has ever counted.', [[[], stats.sessions_total]]),
    family(
      'telemetry_collector_heartbeats_rejected_total',
      'counter',
      'Heartbeats the collector refused since this process started, by reason (invalid 400, too_large 413, unsupported_media_type 415, idempotency_conflict 422, rate_limited 429, error 500, unavailable 503).',
      [...rejected].map(([reason, n]) => [[['reason', reason]], n]),
    ),
    family('telemetry_collector_active_installations', 'gauge', 'Distinct sessions seen today (window="1d"), in the last 7 days and in the last 30 days: DAU, WAU, MAU.', [
      [[['window', '1d']], stats.active.day],
      [[['window', '7d']], stats.active.week],
      [[['window', '30d']], stats.active.month],
    ]),
    family('telemetry_collector_new_installations', 'gauge', 'Sessions first seen today (UTC day of receipt).', [[[], stats.new_by_day[stats.as_of] ?? 0]]),
    family(
      'telemetry_collector_installations',
      'gauge',
      `Distinct sessions in the last ${stats.installations.window_days} days per breakdown value; values with fewer than ${stats.privacy_min_sessions} sessions are counted in "other".`,
      installations.flatMap(([by, values]) => Object.entries(values).map(([value, n]): Sample => [[['breakdown', by.replace(/^by_/, '')], ['value', value]], n])),
    ),
    family('telemetry_collector_adoption_ratio', 'gauge', "Share (0 to 1) of today's active sessions on each server_version, after the privacy floor.", adoption.map(([version, share]) => [[['server_version', version]], share])),
    family('telemetry_collector_last_heartbeat_timestamp_seconds', 'gauge', 'When the last heartbeat was received (Unix time).', last),
    family('telemetry_collector_privacy_min_sessions', 'gauge', 'TELEMETRY_PRIVACY_MIN_SESSIONS: the fewest distinct sessions a bucket needs to be shown by its own value.', [[[], stats.privacy_min_sessions]]),
  ];
}

/** The whole exposition: every family, a blank line apart, ending with a newline. */
export function metricsText(status: TelemetryStatus, collector?: { stats: CollectorStats; rejected: ReadonlyMap<RejectReason, number> }): string {
  const families = [...telemetryFamilies(status), ...(collector === undefined ? [] : collectorFamilies(collector.stats, collector.rejected))];
  return `${families.join('\n')}\n`;
}

/** Answers GET /metrics; 503 with Retry-After while the collector's store cannot be read (a scrape retries anyway). */
export async function handleMetrics(res: ServerResponse, status: TelemetryStatus, collector?: Collector): Promise<void> {
  let counts: { stats: CollectorStats; rejected: ReadonlyMap<RejectReason, number> } | undefined;
  try {
    counts = collector === undefined ? undefined : { stats: await collector.stats(), rejected: collector.rejections() };
  } catch (err) {
    if (!(err instanceof StoreUnavailableError)) throw err;
    return sendJson(res, 503, { error: 'The collector cannot read its counts right now; retry later' }, { 'retry-after': '5' });
  }
  sendText(res, 200, METRICS_CONTENT_TYPE, metricsText(status, counts), { 'cache-control': 'no-store' });
}
