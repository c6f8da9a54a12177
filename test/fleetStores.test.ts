// Fleet analytics through the real stores (LevelDB in a temp folder, a real PostgreSQL) and the collector, its
// clock stepped over 40 days: DAU/WAU/MAU, new installations per day, release adoption and installations per
// version equal a brute-force count of the same heartbeats (test/fleetCounts.test.ts checks the pure rule).
import { afterEach, describe, expect, it } from 'vitest';
import { createCollector, type Collector } from '../src/collector/collector.js';
import { dayNumber, dayText } from '../src/stores/presence.js';
import { BACKENDS, openBackend, type BackendStore } from './helpers/collectorBackends.js';
import { sampleHeartbeat } from './helpers/fixtures.js';
import { usePostgres } from './helpers/postgres.js';

const postgres = usePostgres();
const closers: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const DAY_MS = 86_400_000;
const START = Date.UTC(2026, 9, 1);
const DAYS = 40;

function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Sent {
  session: string;
  day: number;
  version: string;
}

/** 14 sessions over 40 days: some daily, some now and then, some appearing late; versions upgrade over time. */
function schedule(seed: number): Array<Sent & { at: number }> {
  const rnd = random(seed);
  const sessions = Array.from({ length: 14 }, (_, i) => ({ id: sampleHeartbeat().payload.session_id, rate: 0.2 + (i % 5) * 0.2, from: i < 10 ? 0 : 5 + i }));
  const version = new Map(sessions.map((s) => [s.id, `1.${Math.floor(rnd() * 2)}`]));
  const sent: Array<Sent & { at: number }> = [];
  for (let d = 0; d < DAYS; d += 1) {
    for (const s of sessions) {
      if (d < s.from || rnd() > s.rate) continue;
      if (rnd() < 0.08) version.set(s.id, `1.${Math.min(3, Number(version.get(s.id)!.slice(2)) + 1)}`);
      // One to three heartbeats that day, at different hours: the same day counts once.
      for (let n = 1 + Math.floor(rnd() * 3); n > 0; n -= 1) sent.push({ session: s.id, day: dayNumber(START) + d, version: version.get(s.id)!, at: START + d * DAY_MS + n * 3_600_000 });
    }
  }
  return sent.sort((a, b) => a.at - b.at);
}

const distinct = (sent: Sent[], day: number, window: number, version?: string) =>
  new Set(sent.filter((s) => s.day <= day && s.day > day - window && (version === undefined || s.version === version)).map((s) => s.session)).size;

describe.each(BACKENDS)('fleet analytics on %s, the collector clock stepped over 40 days', (name) => {
  it('DAU/WAU/MAU, new per day, adoption and installations per version equal a brute-force count', async () => {
    const backend: BackendStore = await openBackend(name, postgres);
    closers.push(() => backend.close());
    const clock = { now: START };
    const collector: Collector = await createCollector({ store: backend.store, now: () => clock.now });
    closers.push(() => collector.close());
    const sent = schedule(name === 'LevelDB' ? 7 : 8);
    for (const s of sent) {
      clock.now = s.at;
      await collector.record(sampleHeartbeat({ session_id: s.session, server_version: s.version }));
    }
    const first = new Map<string, number>();
    for (const s of sent) if (!first.has(s.session)) first.set(s.session, s.day);
    for (let day = dayNumber(START); day < dayNumber(START) + DAYS; day += 1) {
      const text = dayText(day);
      const stats = await collector.stats({ asOf: text });
      const dau = distinct(sent, day, 1);
      expect(stats.active, text).toEqual({ day: dau, week: distinct(sent, day, 7), month: distinct(sent, day, 30) });
      expect(stats.new_by_day[text] ?? 0, text).toBe([...first.values()].filter((d) => d === day).length);
      for (const version of ['1.0', '1.1', '1.2', '1.3']) {
        const on = distinct(sent, day, 1, version);
        expect(stats.adoption_by_day[text]?.[version] ?? 0, `${text} ${version}`).toBe(dau === 0 ? 0 : Math.round((on / dau) * 10_000) / 10_000);
        expect(stats.installations.by_server_version[version] ?? 0, `${text} ${version}`).toBe(distinct(sent, day, 30, version));
      }
    }
    const last = await collector.stats({ asOf: dayText(dayNumber(START) + DAYS - 1) });
    expect(last.heartbeats_total).toBe(sent.length);
    expect(last.sessions_total).toBe(first.size);
  }, 120_000);
});
