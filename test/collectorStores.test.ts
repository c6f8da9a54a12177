// The collector store's invariants on both real backends (LevelDB in a temp folder, a real PostgreSQL), through
// the store API: any string is one ordinary value, the cap holds when writing and every breakdown sums to the
// total, stats are byte-identical after a restart, and an idempotency key counts once across stores and restarts.
import { afterEach, describe, expect, it } from 'vitest';
import { IdempotencyConflictError, StoreUnavailableError } from '../src/errors.js';
import { DIMENSIONS, MAX_VALUES, OTHER_KEY, toCounted } from '../src/stores/counting.js';
import type { CollectorStats } from '../src/stores/stats.js';
import { BACKENDS, openBackend, type BackendStore } from './helpers/collectorBackends.js';
import { sampleHeartbeat } from './helpers/fixtures.js';
import { usePostgres } from './helpers/postgres.js';

const postgres = usePostgres();
const opened: BackendStore[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((b) => b.close()));
});

const AT = new Date('2026-11-27T12:00:00.000Z');
const AS_OF = { asOf: '2026-11-27' };

async function backendFor(name: (typeof BACKENDS)[number]): Promise<BackendStore> {
  const backend = await openBackend(name, postgres);
  opened.push(backend);
  return backend;
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** Every lifetime breakdown, each day's versions, and the per-day total all sum to heartbeats_total. */
function expectSums(stats: CollectorStats): void {
  for (const dimension of DIMENSIONS) expect(sum(stats[`by_${dimension}`]), `by_${dimension}`).toBe(stats.heartbeats_total);
  expect(sum(stats.heartbeats_by_day)).toBe(stats.heartbeats_total);
  for (const [day, versions] of Object.entries(stats.versions_by_day)) expect(sum(versions), day).toBe(stats.heartbeats_by_day[day]);
}

describe.each(BACKENDS)('%s collector store', (name) => {
  it('keeps any string one ordinary value: separators, U+0000, __proto__ and constructor', async () => {
    const { store } = await backendFor(name);
    const ordinary = ['a:b', 'a', 'b', 'a:b:', ':', '', 'a/b', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'other-ish'];
    const withNul = ['\u0000', 'x\u0000y', 'x'];
    const all = [...ordinary, ...withNul];
    const results = await Promise.allSettled(all.map((platform) => store.record(toCounted(sampleHeartbeat({ platform }), AT))));
    // PostgreSQL text cannot hold U+0000 (the edge refuses it first): such a heartbeat fails alone, never its group.
    const refused = all.filter((_, i) => results[i]!.status === 'rejected');
    expect(refused).toEqual(name === 'PostgreSQL' ? ['\u0000', 'x\u0000y'] : []);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).not.toBeInstanceOf(StoreUnavailableError);
    const counted = all.filter((v) => !refused.includes(v));
    const stats = await store.stats(AS_OF);
    const byPlatform = JSON.parse(JSON.stringify(stats.by_platform)) as Record<string, number>;
    expect(Object.keys(byPlatform).sort()).toEqual([...counted].sort());
    expect(Object.values(byPlatform).every((n) => n === 1)).toBe(true);
    expect(Object.getPrototypeOf(stats.by_platform)).toBe(Object.prototype);
    expectSums(stats);
    const exported = await store.export({ from: AS_OF.asOf, to: AS_OF.asOf });
    expect(exported.filter((r) => r.breakdown === 'platform').map((r) => r.value).sort()).toEqual([...counted].sort());
  });

  it(`caps each breakdown at ${MAX_VALUES - 1} values + other when writing (5,000 platforms), sums equal, byte-identical after a restart`, async () => {
    const backend = await backendFor(name);
    const sessions = Array.from({ length: 50 }, () => sampleHeartbeat().payload.session_id);
    const heartbeats = Array.from({ length: 5000 }, (_, i) => sampleHeartbeat({ session_id: sessions[i % 50], platform: `p${i}`, server_version: `v${i % 1200}` }));
    for (let i = 0; i < heartbeats.length; i += 500) await Promise.all(heartbeats.slice(i, i + 500).map((h) => backend.store.record(toCounted(h, AT))));
    const stats = await backend.store.stats(AS_OF);
    expect(stats.heartbeats_total).toBe(5000);
    expect(Object.keys(stats.by_platform)).toHaveLength(MAX_VALUES);
    expect(stats.by_platform[OTHER_KEY]).toBe(5000 - (MAX_VALUES - 1));
    expect(Object.keys(stats.by_server_version)).toHaveLength(MAX_VALUES);
    expectSums(stats);
    const text = JSON.stringify(stats);
    const again = await backend.reopen();
    expect(JSON.stringify(await again.stats(AS_OF))).toBe(text);
    // What is stored, not only what is shown: the capped values never reach the store.
    if (name === 'PostgreSQL') {
      const rows = await backend.sql!<{ n: string }>("SELECT count(DISTINCT value) AS n FROM collector_lifetime WHERE scope = 'platform'");
      expect(Number(rows[0]!.n)).toBe(MAX_VALUES);
    }
  }, 120_000);

  it('never shows a bucket of 4 sessions, anywhere it reads, and shows one of 5 (TELEMETRY_PRIVACY_MIN_SESSIONS=5)', async () => {
    const backend = await openBackend(name, postgres, { privacyMinSessions: 5 });
    opened.push(backend);
    const platforms = [...Array(4).fill('Rare'), ...Array(5).fill('Haiku'), ...Array(6).fill('Linux')];
    await Promise.all(platforms.map((platform) => backend.store.record(toCounted(sampleHeartbeat({ platform, server_version: platform === 'Rare' ? '0.0.1-rare' : '1.0' }), AT))));
    const stats = await backend.store.stats(AS_OF);
    const exported = await backend.store.export({ from: AS_OF.asOf, to: AS_OF.asOf });
    for (const text of [JSON.stringify(stats), JSON.stringify(exported)]) {
      expect(text).not.toContain('Rare');
      expect(text).not.toContain('0.0.1-rare');
      expect(text).toContain('Haiku');
    }
    expect(stats.by_platform).toEqual({ Linux: 6, Haiku: 5, [OTHER_KEY]: 4 });
    expect(stats.installations.by_platform).toEqual({ Linux: 6, Haiku: 5, [OTHER_KEY]: 4 });
    expectSums(stats);
  });

  it('counts an idempotency key once, across stores and restarts; the same key with another body is a conflict', async () => {
    const backend = await backendFor(name);
    const heartbeat = sampleHeartbeat();
    expect(await backend.store.record(toCounted(heartbeat, AT, 'key-1'))).toBe('counted');
    expect(await backend.store.record(toCounted(heartbeat, AT, 'key-1'))).toBe('duplicate');
    const other = await backend.another?.();
    if (other !== undefined) expect(await other.record(toCounted(heartbeat, AT, 'key-1'))).toBe('duplicate');
    const reopened = await backend.reopen();
    expect(await reopened.record(toCounted(heartbeat, new Date(AT.getTime() + 3_600_000), 'key-1'))).toBe('duplicate');
    await expect(reopened.record(toCounted(sampleHeartbeat(), AT, 'key-1'))).rejects.toBeInstanceOf(IdempotencyConflictError);
    // Within one group too: the first of two with one key counts, the second is a duplicate.
    const pair = await Promise.all([reopened.record(toCounted(heartbeat, AT, 'key-2')), reopened.record(toCounted(heartbeat, AT, 'key-2'))]);
    expect(pair.sort()).toEqual(['counted', 'duplicate']);
    expect((await reopened.stats(AS_OF)).heartbeats_total).toBe(2);
  });
});
