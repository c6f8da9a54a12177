// The collector store's known-session index (real LevelDB in a temp folder): a fleet that fits is held whole,
// so a new session needs no lookup; past the cache, and across reopening, every session still counts once.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Level } from 'level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLevelCollectorStore } from '../src/stores/level/collectorStore.js';
import { toCounted } from '../src/stores/counting.js';
import type { CollectorStore } from '../src/stores/types.js';
import { TEST_BOUNDS } from './helpers/collectorBackends.js';
import { sampleHeartbeat } from './helpers/fixtures.js';

const ids = Array.from({ length: 6 }, (_, i) => `0b5d6a86-5f4e-4c43-9a55-3f1d2c7e8a9${i}`);
/** The ids at these positions. */
const pick = (...at: number[]): string[] => ids.filter((_, i) => at.includes(i));
const at = new Date('2026-11-28T12:00:00.000Z');

async function recordAll(store: CollectorStore, sessionIds: string[]): Promise<void> {
  await Promise.all(sessionIds.map((id) => store.record(toCounted(sampleHeartbeat({ session_id: id }), at))));
}

describe('collector store: known sessions', () => {
  let dir: string;
  let db: Level<string, string>;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'telemetry-sessions-'));
    db = new Level<string, string>(dir, { valueEncoding: 'utf8' });
  });
  afterEach(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function reopen(knownSessions?: number): Promise<CollectorStore> {
    await db.close();
    db = new Level<string, string>(dir, { valueEncoding: 'utf8' });
    return openLevelCollectorStore(db, { ...TEST_BOUNDS, knownSessions });
  }

  it('after reopening, a returning session is not counted again and a new one is', async () => {
    await recordAll(await openLevelCollectorStore(db, TEST_BOUNDS), ids.slice(0, 3));
    const store = await reopen();
    await recordAll(store, pick(0, 1, 3));
    expect(await store.stats({ asOf: '2026-11-28' })).toMatchObject({ heartbeats_total: 6, sessions_total: 4 });
  });

  it('counts each session once when the fleet outgrows the cache (lookups take over)', async () => {
    const store = await openLevelCollectorStore(db, { ...TEST_BOUNDS, knownSessions: 2 });
    for (const id of [...ids, ...ids]) await recordAll(store, [id]);
    expect(await store.stats({ asOf: '2026-11-28' })).toMatchObject({ heartbeats_total: 12, sessions_total: 6 });
  });

  it('counts each session once after reopening on more stored sessions than the cache holds', async () => {
    await recordAll(await openLevelCollectorStore(db, TEST_BOUNDS), ids.slice(0, 4));
    const store = await reopen(2);
    await recordAll(store, pick(0, 3, 4));
    expect(await store.stats({ asOf: '2026-11-28' })).toMatchObject({ heartbeats_total: 7, sessions_total: 5 });
  });
});
