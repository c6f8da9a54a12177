// The collector's read formats, pure: the query parameters of stats and export (400 naming the parameter), the CSV
// (RFC 4180, spreadsheet formulas defused, `__proto__` a value like any other) and the /metrics exposition, read
// back with a third-party Prometheus text parser.
import { describe, expect, it } from 'vitest';
import { exportCsv } from '../src/collector/export.js';
import { EXPORT_MAX_DAYS, parseExportQuery, parseStatsQuery } from '../src/collector/query.js';
import { createRejections } from '../src/collector/rejections.js';
import { metricsText } from '../src/server/metrics.js';
import { liveStatus } from '../src/server/status.js';
import type { CollectorStats, ExportRow } from '../src/stores/stats.js';
import { parseMetrics, sampleValue } from './helpers/prometheus.js';

const now = Date.parse('2026-12-04T15:00:00Z');
const window = { now, retentionDays: 400 };

describe('query parameters', () => {
  it.each<[string, string]>([
    ['?as_of=2026-12-05', 'as_of'],
    ['?as_of=2026-02-30', 'as_of'],
    ['?as_of=yesterday', 'as_of'],
    ['?as_of=2025-10-30', 'as_of'],
    ['?as_of=2026-12-01&as_of=2026-12-02', 'as_of'],
    ['?asof=2026-12-01', 'asof'],
  ])('stats%s is refused, naming %s', (url, parameter) => {
    expect(parseStatsQuery(`/api/collector/stats${url}`, window)).toMatchObject({ ok: false, parameter });
  });

  it('stats takes no parameter, or a day of the retention window', () => {
    expect(parseStatsQuery('/api/collector/stats', window)).toEqual({ ok: true, value: {} });
    expect(parseStatsQuery('/api/collector/stats?as_of=2026-12-04', window)).toEqual({ ok: true, value: { asOf: '2026-12-04' } });
    // The oldest day kept: today and the 399 before it.
    expect(parseStatsQuery('/api/collector/stats?as_of=2025-10-31', window)).toEqual({ ok: true, value: { asOf: '2025-10-31' } });
  });

  it.each<[string, string]>([
    ['?format=xml', 'format'],
    ['?from=2026-12-03&to=2026-12-01', 'from'],
    ['?from=2026-01-01&to=2026-03-01', 'to'],
    ['?to=2026-12-05', 'to'],
    ['?from=12/01/2026', 'from'],
    ['?from=2026-12-01&until=2026-12-02', 'until'],
  ])('export%s is refused, naming %s', (url, parameter) => {
    expect(parseExportQuery(`/api/collector/export${url}`, window)).toMatchObject({ ok: false, parameter });
  });

  it(`export defaults to JSON for the 30 days ending today, and spans at most ${EXPORT_MAX_DAYS} days`, () => {
    expect(parseExportQuery('/api/collector/export', window)).toEqual({ ok: true, value: { format: 'json', from: '2026-11-05', to: '2026-12-04' } });
    expect(parseExportQuery('/api/collector/export?format=csv&from=2026-11-04&to=2026-12-04', window)).toMatchObject({ ok: true, value: { format: 'csv' } });
    expect(parseExportQuery('/api/collector/export?from=2026-11-03&to=2026-12-04', window)).toMatchObject({ ok: false, parameter: 'to' });
  });
});

describe('CSV', () => {
  it('quotes what needs it, defuses formulas, and keeps __proto__ as a value', () => {
    const row = (value: string): ExportRow => ({ day: '2026-12-04', breakdown: 'server_version', value, heartbeats: 3, sessions: 2 });
    const csv = exportCsv([row('1.0'), row('a,b'), row('say "hi"'), row('=HYPERLINK("x")'), row('-1'), row('__proto__')]);
    expect(csv.split('\r\n')).toEqual([
      'day,breakdown,value,heartbeats,sessions',
      '2026-12-04,server_version,1.0,3,2',
      '2026-12-04,server_version,"a,b",3,2',
      '2026-12-04,server_version,"say ""hi""",3,2',
      `2026-12-04,server_version,"'=HYPERLINK(""x"")",3,2`,
      `2026-12-04,server_version,"'-1",3,2`,
      '2026-12-04,server_version,__proto__,3,2',
      '',
    ]);
  });
});

/** Stats as a store folds them, with values a client chose: quotes, a backslash, __proto__. */
function sampleStats(): CollectorStats {
  const values = { '0.2.0': 7, 'a "quoted" \\ value': 5, ['__proto__']: 6, other: 3 };
  return {
    heartbeats_total: 120, sessions_total: 21, by_server_version: values, by_platform: {}, by_environment: {}, by_architecture: {}, by_node_version: {},
    last_heartbeat_at: '2026-12-04T14:59:00.000Z', heartbeats_by_day: {}, sessions_by_day: {}, versions_by_day: {},
    as_of: '2026-12-04', privacy_min_sessions: 5, active: { day: 11, week: 15, month: 21 }, active_by_day: {},
    new_by_day: { '2026-12-04': 4 }, installations: { window_days: 30, by_server_version: values, by_platform: { Linux: 21 }, by_environment: {}, by_architecture: {}, by_node_version: {} },
    adoption_by_day: { '2026-12-04': { '0.2.0': 0.6364, other: 0.3636 } },
  };
}

describe('/metrics', () => {
  it('parses with a Prometheus text parser: counters _total with HELP and TYPE, gauges for DAU/WAU/MAU, escaped labels', () => {
    const rejections = createRejections();
    rejections.count(400);
    rejections.count(400);
    rejections.count(429);
    const status = { ...liveStatus({ enabled: true, disabledBy: null, endpoint: 'http://127.0.0.1:4200/api/collector' }, undefined), state: 'waiting', heartbeats_sent: 9 };
    const families = parseMetrics(metricsText(status, { stats: sampleStats(), rejected: rejections.snapshot() }));
    expect(families.get('telemetry_collector_heartbeats_total')?.type).toBe('COUNTER');
    expect(sampleValue(families, 'telemetry_collector_heartbeats_total')).toBe(120);
    expect(families.get('telemetry_collector_active_installations')?.type).toBe('GAUGE');
    expect(sampleValue(families, 'telemetry_collector_active_installations', { window: '7d' })).toBe(15);
    expect(sampleValue(families, 'telemetry_collector_heartbeats_rejected_total', { reason: 'invalid' })).toBe(2);
    expect(sampleValue(families, 'telemetry_collector_heartbeats_rejected_total', { reason: 'rate_limited' })).toBe(1);
    expect(sampleValue(families, 'telemetry_collector_heartbeats_rejected_total', { reason: 'unavailable' })).toBe(0);
    expect(sampleValue(families, 'telemetry_collector_installations', { breakdown: 'server_version', value: 'a "quoted" \\ value' })).toBe(5);
    expect(sampleValue(families, 'telemetry_collector_installations', { breakdown: 'server_version', value: '__proto__' })).toBe(6);
    expect(sampleValue(families, 'telemetry_collector_new_installations')).toBe(4);
    expect(sampleValue(families, 'telemetry_collector_adoption_ratio', { server_version: '0.2.0' })).toBe(0.6364);
    expect(sampleValue(families, 'telemetry_state', { state: 'waiting' })).toBe(1);
    expect(sampleValue(families, 'telemetry_state', { state: 'sending' })).toBe(0);
    expect(sampleValue(families, 'telemetry_heartbeats_sent_total')).toBe(9);
    expect(sampleValue(families, 'telemetry_collector_last_heartbeat_timestamp_seconds')).toBe(Date.parse('2026-12-04T14:59:00.000Z') / 1000);
  });

  it('without a collector, shows only the server\'s own telemetry', () => {
    const families = parseMetrics(metricsText(liveStatus({ enabled: false, disabledBy: 'DO_NOT_TRACK', endpoint: '' }, undefined)));
    expect([...families.keys()]).toEqual(['telemetry_enabled', 'telemetry_state', 'telemetry_heartbeats_sent_total']);
    expect(sampleValue(families, 'telemetry_state', { state: 'disabled' })).toBe(1);
  });
});
