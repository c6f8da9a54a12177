// Collector data written by the previous version is carried into today's store at open, on both backends: the
// LevelDB counters-and-markers layout (and the older one-summary layout, see collector.test.ts) and PostgreSQL's
// first schema (migration #3). Every count is kept, each session's days give the 1/7/30-day counts.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Level } from 'level';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createStorage, type Storage } from '../src/stores/index.js';
import { openLevelCollectorStore } from '../src/stores/level/collectorStore.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../src/stores/postgres/schema.js';
import type { CollectorStats } from '../src/stores/stats.js';
import { TEST_BOUNDS } from './helpers/collectorBackends.js';
import { usePostgres } from './helpers/postgres.js';

const postgres = usePostgres();
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const [A, B, C] = ['0b5d6a86-5f4e-4c43-9a55-3f1d2c7e8a90', '1b5d6a86-5f4e-4c43-9a55-3f1d2c7e8a91', '2b5d6a86-5f4e-4c43-9a55-3f1d2c7e8a92'];
/** The history both old layouts hold: A on Nov 1 and 5, B on Nov 5, C on Nov 20; 7 heartbeats, 2 versions. */
const DAYS: Array<[date: string, sessions: string[], heartbeats: number, versions: Record<string, number>]> = [
  ['2026-11-01', [A], 2, { '0.1.0': 2 }],
  ['2026-11-05', [A, B], 3, { '0.1.0': 1, '0.2.0': 2 }],
  ['2026-11-20', [C], 2, { '0.2.0': 2 }],
];
const FIRST: Record<string, string> = { [A]: '2026-11-01T10:00:00.000Z', [B]: '2026-11-05T10:00:00.000Z', [C]: '2026-11-20T10:00:00.000Z' };
const LIFETIME = { server_version: { '0.1.0': 3, '0.2.0': 4 }, platform: { Linux: 7 }, environment: { production: 6, staging: 1 } };
const LAST = '2026-11-20T11:00:00.000Z';

/** What the history gives as of Nov 20 and Nov 5, whatever the backend. */
function expectMigrated(nov20: CollectorStats, nov5: CollectorStats): void {
  // Per-value session counts were never stored: under any floor, old per-value buckets show as `other` (sums kept).
  expect(nov20).toMatchObject({ heartbeats_total: 7, sessions_total: 3, last_heartbeat_at: LAST, by_platform: { other: 7 }, by_server_version: { other: 7 } });
  expect(nov20.heartbeats_by_day).toEqual({ '2026-11-01': 2, '2026-11-05': 3, '2026-11-20': 2 });
  expect(nov20.sessions_by_day).toEqual({ '2026-11-01': 1, '2026-11-05': 2, '2026-11-20': 1 });
  expect(nov20.versions_by_day['2026-11-05']).toEqual({ other: 3 });
  expect(nov20.new_by_day).toEqual({ '2026-11-01': 1, '2026-11-05': 1, '2026-11-20': 1 });
  // Nov 20: C that day; C within the week; A, B and C within 30 days. Nov 5: A and B; A and B; A and B.
  expect(nov20.active).toEqual({ day: 1, week: 1, month: 3 });
  expect(nov5.active).toEqual({ day: 2, week: 2, month: 2 });
}

describe('migrating what the previous version stored', () => {
  it('LevelDB: the counters-and-markers layout becomes today\'s, every old key deleted', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'collector-migrate-'));
    const db = new Level<string, string>(dir, { valueEncoding: 'utf8' });
    cleanups.push(async () => (await db.close(), await rm(dir, { recursive: true, force: true })));
    const old = db.sublevel<string, string>('collector', { valueEncoding: 'utf8' });
    const batch: Array<[string, string]> = [['count:total:heartbeats', '7'], ['count:total:sessions', '3'], ['last', LAST]];
    for (const [field, counts] of Object.entries(LIFETIME)) for (const [value, n] of Object.entries(counts)) batch.push([`count:${field}:${value}`, String(n)]);
    for (const [date, sessions, heartbeats, versions] of DAYS) {
      batch.push([`day:${date}:heartbeats:`, String(heartbeats)], [`day:${date}:sessions:`, String(sessions.length)]);
      for (const [v, n] of Object.entries(versions)) batch.push([`day:${date}:server_version:${v}`, String(n)]);
      for (const id of sessions) batch.push([`daysession:${date}:${id}`, FIRST[id]!]);
    }
    for (const [id, first] of Object.entries(FIRST)) batch.push([`session:${id}`, first]);
    await old.batch(batch.map(([key, value]) => ({ type: 'put', key, value })));

    const store = await openLevelCollectorStore(db, TEST_BOUNDS);
    expectMigrated(await store.stats({ asOf: '2026-11-20' }), await store.stats({ asOf: '2026-11-05' }));
    const left: string[] = [];
    for await (const key of old.keys()) if (!/^[cdgksm]:/.test(key)) left.push(key);
    expect(left).toEqual([]);
    // Opened again: nothing to migrate, the same counts.
    expectMigrated(await (await openLevelCollectorStore(db, TEST_BOUNDS)).stats({ asOf: '2026-11-20' }), await store.stats({ asOf: '2026-11-05' }));
  });

  it('PostgreSQL: migration #3 carries the first schema\'s collector tables over and drops them', async () => {
    const url = await postgres().freshDatabase();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    cleanups.push(() => client.end());
    await client.query(MIGRATIONS[0] as string);
    await client.query('CREATE TABLE telemetry_schema_version (version integer NOT NULL); INSERT INTO telemetry_schema_version VALUES (1)');
    const put = (sql: string, params: unknown[]) => client.query(sql, params);
    await put(`INSERT INTO collector_counters VALUES ('total', 'heartbeats', 3, 4), ('total', 'heartbeats', 9, 3), ('total', 'sessions', 1, 3)`, []);
    for (const [field, counts] of Object.entries(LIFETIME)) for (const [value, n] of Object.entries(counts)) await put('INSERT INTO collector_counters VALUES ($1, $2, 0, $3)', [field, value, n]);
    for (const [date, sessions, heartbeats, versions] of DAYS) {
      await put(`INSERT INTO collector_daily VALUES ($1, 'heartbeats', '', 0, $2), ($1, 'sessions', '', 0, $3)`, [date, heartbeats, sessions.length]);
      for (const [v, n] of Object.entries(versions)) await put(`INSERT INTO collector_daily VALUES ($1, 'server_version', $2, 0, $3)`, [date, v, n]);
      for (const id of sessions) await put('INSERT INTO collector_daily_sessions VALUES ($1, $2)', [date, id]);
    }
    for (const [id, first] of Object.entries(FIRST)) await put('INSERT INTO collector_sessions VALUES ($1, $2)', [id, first]);
    await put('INSERT INTO collector_last VALUES (1, $1)', [LAST]);

    const storage: Storage = await createStorage({ home: '/nonexistent', dbPath: '/nonexistent/db', databaseUrl: url });
    cleanups.push(() => storage.close());
    await storage.open();
    const store = await storage.openCollector(TEST_BOUNDS);
    expectMigrated(await store.stats({ asOf: '2026-11-20' }), await store.stats({ asOf: '2026-11-05' }));
    const versions = await client.query<{ version: number }>('SELECT version FROM telemetry_schema_version ORDER BY 1');
    expect(versions.rows.map((r) => r.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
    const old = await client.query("SELECT to_regclass('collector_counters') AS t, to_regclass('collector_daily_sessions') AS d");
    expect(old.rows[0]).toEqual({ t: null, d: null });
  });
});
