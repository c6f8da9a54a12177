// Retention on both real backends: what is older than TELEMETRY_RETENTION_DAYS (day counters, session records)
// and idempotency keys older than TELEMETRY_IDEMPOTENCY_HOURS are purged, lifetime totals stay; and the
// collector runs the purge on its own timer.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PURGE_EVERY_MS, PURGE_FIRST_MS, startPurgeJob } from '../src/collector/purgeJob.js';
import { toCounted } from '../src/stores/counting.js';
import { dayNumber, dayText } from '../src/stores/presence.js';
import { BACKENDS, openBackend, type BackendStore } from './helpers/collectorBackends.js';
import { sampleHeartbeat } from './helpers/fixtures.js';
import { usePostgres } from './helpers/postgres.js';

const postgres = usePostgres();
const opened: BackendStore[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((b) => b.close()));
});

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const T0 = Date.UTC(2026, 0, 10, 12);
const day = (n: number) => dayText(dayNumber(T0) + n);
const at = (days: number, hours = 0) => new Date(T0 + days * DAY_MS + hours * HOUR_MS);

describe.each(BACKENDS)('retention on %s', (name) => {
  it('purges day counters and session records older than the window, and keeps the lifetime totals', async () => {
    const backend = await openBackend(name, postgres, { retentionDays: 31 });
    opened.push(backend);
    const [old, recent] = [sampleHeartbeat(), sampleHeartbeat({ platform: 'Darwin' })];
    for (const [heartbeat, when] of [[old, at(0)], [old, at(5)], [recent, at(5)], [recent, at(60)]] as const) await backend.store.record(toCounted(heartbeat, when));
    const before = await backend.store.stats({ asOf: day(60) });
    expect(before).toMatchObject({ heartbeats_total: 4, sessions_total: 2 });
    expect(await backend.store.export({ from: day(0), to: day(0) })).not.toEqual([]);

    // Day 70: everything up to day 39 is older than 31 days; `old` was last seen on day 5, `recent` on day 60.
    const { deleted } = await backend.store.purge(at(70));
    expect(deleted).toBeGreaterThan(0);
    expect(await backend.store.export({ from: day(0), to: day(39) })).toEqual([]);
    expect(await backend.store.export({ from: day(60), to: day(60) })).not.toEqual([]);
    const after = await backend.store.stats({ asOf: day(60) });
    for (const field of ['heartbeats_total', 'sessions_total', 'by_platform', 'by_server_version', 'last_heartbeat_at'] as const) expect(after[field]).toEqual(before[field]);
    if (backend.sql !== undefined) {
      expect(await backend.sql("SELECT day FROM collector_days WHERE day <= date '1970-01-01' + $1::int", [dayNumber(T0) + 39])).toEqual([]);
      expect(await backend.sql('SELECT session_id FROM collector_session_states')).toEqual([{ session_id: recent.payload.session_id }]);
    }
    if (backend.levelKeys !== undefined) {
      expect((await backend.levelKeys('d:')).filter((key) => Number(key.slice(2, 8)) <= dayNumber(T0) + 39)).toEqual([]);
      expect(await backend.levelKeys('s:')).toEqual([`s:${recent.payload.session_id}`]);
    }
    // A purged session seen again is a new installation; a kept one is not.
    await backend.store.record(toCounted(old, at(71)));
    await backend.store.record(toCounted(recent, at(71)));
    const again = await backend.store.stats({ asOf: day(71) });
    expect(again.new_by_day[day(71)]).toBe(1);
    expect(again.heartbeats_total).toBe(6);
  });

  it('keeps an idempotency key for its window and purges it once it is older (within a day on LevelDB, whose keys go by day)', async () => {
    const backend = await openBackend(name, postgres, { idempotencyHours: 24 });
    opened.push(backend);
    const heartbeat = sampleHeartbeat();
    expect(await backend.store.record(toCounted(heartbeat, at(0), 'k'))).toBe('counted');
    await backend.store.purge(at(0, 23));
    expect(await backend.store.record(toCounted(heartbeat, at(0, 23), 'k'))).toBe('duplicate');
    await backend.store.purge(at(2));
    if (backend.sql !== undefined) expect(await backend.sql('SELECT key FROM collector_keys')).toEqual([]);
    if (backend.levelKeys !== undefined) expect(await backend.levelKeys('k:')).toEqual([]);
    // After its window a key is forgotten, here and after a restart: the same key counts again.
    const reopened = await backend.reopen();
    expect(await reopened.record(toCounted(heartbeat, at(2), 'k'))).toBe('counted');
    expect((await reopened.stats({ asOf: day(2) })).heartbeats_total).toBe(2);
  });
});

describe('the collector purge job', () => {
  it('purges a minute after start, then every hour, at the collector clock, until stopped', async () => {
    vi.useFakeTimers();
    try {
      const calls: number[] = [];
      const clock = { now: T0 };
      const job = startPurgeJob({ store: { purge: async (now) => (calls.push(now.getTime()), { deleted: 0 }) }, now: () => clock.now });
      await vi.advanceTimersByTimeAsync(PURGE_FIRST_MS - 1);
      expect(calls).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      clock.now += DAY_MS;
      await vi.advanceTimersByTimeAsync(PURGE_EVERY_MS);
      expect(calls).toEqual([T0, T0 + DAY_MS]);
      job.stop();
      await vi.advanceTimersByTimeAsync(3 * PURGE_EVERY_MS);
      expect(calls).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });
});
