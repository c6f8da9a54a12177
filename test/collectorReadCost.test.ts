// LevelDB stats and export read the folded day counters from disk (kept for the next read of the range until a
// fold or a purge changes them) and everything else from memory: their cost does not grow with the group records
// waiting to be folded (issue 23, B13), and what they show is still one moment of the acknowledged state, across
// folds, purges and writes running beside them.
import type { Level } from 'level';
import { afterEach, describe, expect, it } from 'vitest';
import { toCounted } from '../src/stores/counting.js';
import type { CollectorStats } from '../src/stores/stats.js';
import { openLevelCollectorStore } from '../src/stores/level/collectorStore.js';
import { GROUP, LIFETIME } from '../src/stores/level/keys.js';
import { TEST_BOUNDS } from './helpers/collectorBackends.js';
import { sampleHeartbeat } from './helpers/fixtures.js';
import { interceptSublevels } from './helpers/levelLike.js';
import { seededRandom } from './helpers/random.js';
import { openTempDb } from './helpers/tempDb.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempLevel() {
  const temp = await openTempDb('collector-reads-');
  cleanups.push(() => temp.cleanup());
  return temp;
}

/** The real database, with every iterator's range written down (the lower bound: which kind of key it walks). */
function recordingIterators(db: Level<string, string>) {
  const ranges: string[] = [];
  const wrapped = interceptSublevels(db, (property, bound) =>
    property === 'iterator' || property === 'keys'
      ? (options: { gte?: string; gt?: string }) => (ranges.push(options.gte ?? options.gt ?? ''), bound(options))
      : undefined,
  );
  return { wrapped, ranges };
}

const DAYS = ['2026-11-21', '2026-11-22', '2026-11-23', '2026-11-24', '2026-11-25', '2026-11-26', '2026-11-27'];
const asOf = { asOf: '2026-11-27' };
const sum = (record: Record<string, number>) => Object.values(record).reduce((a, b) => a + b, 0);

describe('LevelDB stats and export with groups not yet folded', () => {
  it('never walk the group records or the lifetime counters on disk: those come from memory', async () => {
    const { db } = await tempLevel();
    const disk = recordingIterators(db);
    const store = await openLevelCollectorStore(disk.wrapped, TEST_BOUNDS);
    for (let i = 0; i < 40; i += 1) await store.record(toCounted(sampleHeartbeat({ server_version: `1.${i % 4}` }), new Date(`${DAYS[i % 7]}T12:00:00.000Z`)));
    disk.ranges.length = 0;
    const stats = await store.stats(asOf);
    const rows = await store.export({ from: DAYS[0]!, to: DAYS[6]! });
    expect(stats).toMatchObject({ heartbeats_total: 40, sessions_total: 40, by_server_version: { '1.0': 10, '1.1': 10, '1.2': 10, '1.3': 10 } });
    expect(rows.filter((r) => r.breakdown === 'total').reduce((n, r) => n + r.heartbeats, 0)).toBe(40);
    expect(disk.ranges.filter((gte) => gte.startsWith(GROUP) || gte.startsWith(LIFETIME))).toEqual([]);
  });

  it('show one moment of the acknowledged state while groups are written and folded beside them, and the same after a restart', async () => {
    const temp = await tempLevel();
    const { db } = temp;
    // A fold every two groups: reads keep landing between a group and its fold.
    const store = await openLevelCollectorStore(db, { ...TEST_BOUNDS, foldAfter: { groups: 2, bytes: 1 << 20 } });
    const random = seededRandom(23);
    const seen: CollectorStats[] = [];
    let acknowledged = 0;
    for (let round = 0; round < 60; round += 1) {
      const before = acknowledged;
      const writes = Array.from({ length: 1 + Math.floor(random() * 3) }, () => {
        const heartbeat = sampleHeartbeat({ server_version: `2.${Math.floor(random() * 5)}` });
        return store.record(toCounted(heartbeat, new Date(`${DAYS[Math.floor(random() * 7)]}T12:00:00.000Z`))).then(() => (acknowledged += 1));
      });
      // Reads at random moments of the round: before, during and after its group writes and folds.
      const reads = Array.from({ length: 3 }, async () => {
        await new Promise((resolve) => setTimeout(resolve, random() * 4));
        const stats = await store.stats(asOf);
        expect(stats.heartbeats_total).toBeGreaterThanOrEqual(before);
        seen.push(stats);
      });
      await Promise.all([...writes, ...reads]);
    }
    for (const stats of seen) {
      // Every heartbeat is a new session on one of the days shown: each counter of a read tells the same total.
      expect(sum(stats.heartbeats_by_day)).toBe(stats.heartbeats_total);
      expect(sum(stats.new_by_day)).toBe(stats.heartbeats_total);
      expect(stats.sessions_total).toBe(stats.heartbeats_total);
      expect(sum(stats.by_server_version)).toBe(stats.heartbeats_total);
    }
    const last = JSON.stringify(await store.stats(asOf));
    expect(JSON.parse(last)).toMatchObject({ heartbeats_total: acknowledged });
    const reopened = await temp.reopen();
    expect(JSON.stringify(await (await openLevelCollectorStore(reopened, TEST_BOUNDS)).stats(asOf))).toBe(last);
  });

  it('read a range again from disk once the purge has deleted its day counters', async () => {
    const { db } = await tempLevel();
    const store = await openLevelCollectorStore(db, { ...TEST_BOUNDS, retentionDays: 31 });
    for (let i = 0; i < 3; i += 1) await store.record(toCounted(sampleHeartbeat(), new Date('2026-10-01T12:00:00.000Z')));
    // Folded, so the rows are on disk; read once, so the range is remembered.
    await store.purge(new Date('2026-10-02T00:00:00.000Z'));
    const range = { from: '2026-10-01', to: '2026-10-01' };
    expect((await store.export(range)).filter((r) => r.breakdown === 'total')).toMatchObject([{ heartbeats: 3 }]);
    await store.purge(new Date('2026-11-27T00:00:00.000Z'));
    expect(await store.export(range)).toEqual([]);
  });
});
