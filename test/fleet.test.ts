// The fleet as its owner reads it (issue 23), over real HTTP on both backends (LevelDB in a temp folder, a real
// PostgreSQL), with the collector's clock stepped over 40 days: DAU/WAU/MAU, new installations and adoption equal a
// brute-force count of the same heartbeats, the export is exact, and the privacy floor hides a bucket of 4 sessions
// everywhere (stats as of any day, export as JSON and CSV, /metrics) while a bucket of 5 is shown.
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CollectorStats, ExportRow } from '../src/stores/stats.js';
import { dayNumber, dayText } from '../src/stores/presence.js';
import { sampleHeartbeat } from './helpers/fixtures.js';
import { openCollectorApi, type BackendKind, type CollectorApi } from './helpers/collectorApi.js';
import { usePostgres } from './helpers/postgres.js';
import * as fleet from './helpers/fleet.js';
import { parseMetrics, sampleValue } from './helpers/prometheus.js';
import { LIMITS } from './harness/limits.js';

const DAY_MS = 86_400_000;
const FIRST_DAY = dayNumber(Date.UTC(2026, 9, 26));
const FLOOR = 5;
const day = (i: number) => dayText(FIRST_DAY + i);
const sent = fleet.makeFleet();
const lastDay = fleet.FLEET_DAYS - 1;

const postgres = usePostgres();
const databaseUrl = () => postgres().freshDatabase();

describe.each<BackendKind>(['level', 'postgres'])('40 days of a fleet on %s', (kind) => {
  const clock = { now: FIRST_DAY * DAY_MS };
  let api: CollectorApi;
  let pool: Pool;

  async function get(path: string): Promise<{ status: number; text: string }> {
    const res = await pool.request({ method: 'GET', path });
    return { status: res.statusCode, text: await res.body.text() };
  }
  const stats = async (asOf?: number) => JSON.parse((await get(`/api/collector/stats${asOf === undefined ? '' : `?as_of=${day(asOf)}`}`)).text) as CollectorStats;

  beforeAll(async () => {
    api = await openCollectorApi(kind, { databaseUrl, now: () => clock.now, privacyMinSessions: FLOOR });
    pool = new Pool(api.origin, { connections: 8 });
    for (let i = 0; i < fleet.FLEET_DAYS; i += 1) {
      clock.now = (FIRST_DAY + i) * DAY_MS + 12 * 3_600_000;
      const posts = sent.filter((s) => s.day === i).flatMap((s) => Array.from({ length: s.copies }, () => s));
      const statuses = await Promise.all(
        posts.map(async (s) => {
          const res = await pool.request({ method: 'POST', path: '/api/collector', headers: { 'content-type': 'application/json' }, body: JSON.stringify(sampleHeartbeat({ session_id: s.session, ...s.values })) });
          await res.body.dump();
          return res.statusCode;
        }),
      );
      expect(statuses.filter((status) => status !== 202), `day ${i}`).toEqual([]);
    }
  }, LIMITS.testMs * 3);
  afterAll(async () => {
    await pool?.close();
    await api?.close();
  });

  it('DAU, WAU and MAU equal a brute-force count for every day, as of the last day and as of earlier ones', async () => {
    const last = await stats();
    expect(last.as_of).toBe(day(lastDay));
    expect(last.active).toEqual(fleet.activeOn(sent, lastDay));
    // Every day with an active installation in its 30 days, and no other day.
    const days = Array.from({ length: fleet.FLEET_DAYS }, (_, i) => i);
    const active = days.map((i) => [day(i), fleet.activeOn(sent, i)] as const);
    expect(last.active_by_day).toEqual(Object.fromEntries(active.filter(([, a]) => a.month > 0)));
    expect(last.sessions_by_day).toEqual(Object.fromEntries(active.filter(([, a]) => a.day > 0).map(([d, a]) => [d, a.day])));
    expect(new Set(active.map(([, a]) => a.day)).size, 'the fleet varies from day to day').toBeGreaterThan(5);
    for (const i of [6, 19, 29, 33]) expect((await stats(i)).active, `as of ${day(i)}`).toEqual(fleet.activeOn(sent, i));
    expect(last.heartbeats_total).toBe(sent.reduce((n, s) => n + s.copies, 0));
    expect(last.sessions_total).toBe(new Set(sent.map((s) => s.session)).size);
  });

  it('new installations per day and the adoption shares are exact', async () => {
    const last = await stats();
    expect(last.new_by_day).toEqual(Object.fromEntries([...fleet.newByDay(sent)].sort((a, b) => a[0] - b[0]).map(([d, n]) => [day(d), n])));
    const activeDays = Array.from({ length: fleet.FLEET_DAYS }, (_, i) => i).filter((i) => fleet.activeOn(sent, i).day > 0);
    expect(last.adoption_by_day).toEqual(Object.fromEntries(activeDays.map((i) => [day(i), fleet.adoptionOn(sent, i, FLOOR)])));
    // The 1.2.0 release (day 25) is adopted over the following days.
    const share = (i: number) => last.adoption_by_day[day(i)]?.['1.2.0'] ?? 0;
    expect(share(lastDay)).toBeGreaterThan(share(25) + 0.2);
  });

  it('the export is one row per day, breakdown and value, exact after the floor, in JSON and CSV', async () => {
    for (const [from, to] of [[0, 30], [31, lastDay]] as const) {
      const json = JSON.parse((await get(`/api/collector/export?from=${day(from)}&to=${day(to)}`)).text) as { rows: ExportRow[]; privacy_min_sessions: number };
      expect(json.privacy_min_sessions).toBe(FLOOR);
      expect(fleet.rowLines(json.rows)).toEqual(fleet.exportLines(sent, from, to, day, FLOOR));
      const csv = await get(`/api/collector/export?format=csv&from=${day(from)}&to=${day(to)}`);
      expect(csv.status).toBe(200);
      const lines = csv.text.trimEnd().split('\r\n');
      expect(lines[0]).toBe('day,breakdown,value,heartbeats,sessions');
      expect(lines.slice(1).map((line) => line.split(',').join('|')).sort()).toEqual(fleet.rowLines(json.rows));
    }
    expect((await get(`/api/collector/export?from=${day(0)}&to=${day(lastDay)}`)).status).toBe(400);
  });

  it('the privacy floor: a bucket of 4 sessions is never visible, a bucket of 5 is (stats as of every day, export, /metrics)', async () => {
    const hidden = [fleet.HIDDEN_PLATFORM, fleet.HIDDEN_VERSION];
    for (let i = 0; i < fleet.FLEET_DAYS; i += 1) {
      const text = (await get(`/api/collector/stats?as_of=${day(i)}`)).text;
      for (const value of hidden) expect(text, `stats as of ${day(i)}`).not.toContain(value);
    }
    const exports = [
      (await get(`/api/collector/export?format=csv&from=${day(0)}&to=${day(30)}`)).text,
      (await get(`/api/collector/export?format=json&from=${day(9)}&to=${day(lastDay)}`)).text,
    ];
    const metrics = (await get('/metrics')).text;
    for (const text of [...exports, metrics]) for (const value of hidden) expect(text).not.toContain(value);

    const last = await stats();
    expect(last.installations.by_platform[fleet.SHOWN_PLATFORM]).toBe(5);
    expect(last.by_platform[fleet.SHOWN_PLATFORM]).toBeGreaterThan(0);
    expect(exports[1]).toContain(`"value":"${fleet.SHOWN_PLATFORM}","heartbeats":`);
    const families = parseMetrics(metrics);
    expect(sampleValue(families, 'telemetry_collector_installations', { breakdown: 'platform', value: fleet.SHOWN_PLATFORM })).toBe(5);
    expect(sampleValue(families, 'telemetry_collector_active_installations', { window: '30d' })).toBe(fleet.activeOn(sent, lastDay).month);
    // Folded, not dropped: every breakdown still sums to the totals.
    for (const map of [last.by_platform, last.by_server_version]) expect(Object.values(map).reduce((a, b) => a + b, 0)).toBe(last.heartbeats_total);
  });

  it('refuses as_of outside the retention window and in the future, naming it', async () => {
    for (const asOf of [day(lastDay + 1), dayText(FIRST_DAY + lastDay - 400), 'soon']) {
      const res = await get(`/api/collector/stats?as_of=${asOf}`);
      expect(res.status, asOf).toBe(400);
      expect(JSON.parse(res.text)).toMatchObject({ field: 'as_of' });
    }
  });
});
