// LevelDB recovery after a failed write restores exactly the acknowledged state. LevelDB may or may not replay a
// record whose sync failed ("may or may not show up when the DB is re-opened", db_impl.cc): here the worse case,
// a batch that reached the disk although its write was reported failed, so the heartbeats in it were answered 503.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Level } from 'level';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../src/errors.js';
import { toCounted } from '../src/stores/counting.js';
import type { CollectorStore } from '../src/stores/collectorStore.js';
import { openLevelCollectorStore } from '../src/stores/level/collectorStore.js';
import { TEST_BOUNDS } from './helpers/collectorBackends.js';
import { createFlakyDisk } from './helpers/flakyDisk.js';
import { sampleHeartbeat } from './helpers/fixtures.js';
import { LIMITS } from './harness/limits.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function acceptedEventually(store: CollectorStore, record: () => ReturnType<typeof toCounted>): Promise<void> {
  const deadline = Date.now() + LIMITS.waitMs;
  for (;;) {
    try {
      return void (await store.record(record()));
    } catch (error) {
      expect(error).toBeInstanceOf(StoreUnavailableError);
      if (Date.now() > deadline) throw new Error(`the store did not recover within ${LIMITS.waitMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describe('LevelDB recovery after a failed write', () => {
  it("a 503'd batch's version, session and key are invisible after recovery and after a restart", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'collector-recovery-'));
    let db = new Level<string, string>(dir, { valueEncoding: 'utf8' });
    cleanups.push(async () => (await db.close(), await rm(dir, { recursive: true, force: true })));
    const disk = createFlakyDisk();
    const store = await openLevelCollectorStore(disk.wrap(db), TEST_BOUNDS);
    const at = new Date('2026-11-27T12:00:00.000Z');
    const asOf = { asOf: '2026-11-27' };
    expect(await store.record(toCounted(sampleHeartbeat({ server_version: '1.0' }), at, 'key-a'))).toBe('counted');
    const acknowledged = JSON.stringify(await store.stats(asOf));

    disk.arm('after');
    const refused = sampleHeartbeat({ server_version: '9.9.9', platform: 'Refused' });
    await expect(store.record(toCounted(refused, at, 'key-b'))).rejects.toBeInstanceOf(StoreUnavailableError);
    // While it recovers, what is shown is what was acknowledged.
    expect(JSON.stringify(await store.stats(asOf))).toBe(acknowledged);
    await acceptedEventually(store, () => toCounted(sampleHeartbeat({ server_version: '1.0' }), at, 'key-c'));
    const recovered = await store.stats(asOf);
    expect(recovered).toMatchObject({ heartbeats_total: 2, sessions_total: 2, by_server_version: { '1.0': 2 } });
    expect(JSON.stringify(recovered)).not.toContain('Refused');

    await db.close();
    db = new Level<string, string>(dir, { valueEncoding: 'utf8' });
    const restarted = await openLevelCollectorStore(db, TEST_BOUNDS);
    expect(JSON.stringify(await restarted.stats(asOf))).toBe(JSON.stringify(recovered));
    // Its key and its session were taken back too: sent again, it counts, as a new session.
    expect(await restarted.record(toCounted(refused, at, 'key-b'))).toBe('counted');
    expect(await restarted.stats(asOf)).toMatchObject({ heartbeats_total: 3, sessions_total: 3, by_server_version: { '1.0': 2, '9.9.9': 1 }, new_by_day: { '2026-11-27': 3 } });
  });
});
