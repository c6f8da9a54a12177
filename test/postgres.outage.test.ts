// The database goes away under running replicas and comes back: with TELEMETRY_RETRIES=0 no replica stops, none
// sends while no claim can be decided, and one sends again soon after. Real server processes, the suite's
// embedded PostgreSQL (restartable: this test stops and starts it), a recording endpoint.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { beatsOf, doubledGaps } from './helpers/heartbeats.js';
import { SKIPPED, running, statusOf, useReplicaFixtures } from './helpers/replicas.js';
import { LIMITS, scaled } from './harness/limits.js';
import { pollUntil } from './harness/net.js';

const fx = useReplicaFixtures({ postgres: 'restartable' });

const LOOP = 1;
const TIMEOUT = 2;

describe('replicas on PostgreSQL: the database goes away and comes back', () => {
  it('PostgreSQL down for 3 × (loop + timeout) with TELEMETRY_RETRIES=0: both skip and keep running, then resume within loop + timeout + 5 s, one per interval', async () => {
    const url = await fx.postgres.freshDatabase();
    const replicas = [await fx.start(url, { loop: LOOP, timeout: TIMEOUT }), await fx.start(url, { loop: LOOP, timeout: TIMEOUT })];
    await fx.endpoint.waitForRequests(3);

    await fx.postgres.pause();
    const downAt = Date.now();
    let upAt = 0;
    let countAtUp = 0;
    try {
      // While no claim can be decided, every replica says so in its status instead of stopping.
      for (const r of replicas) await pollUntil(async () => (await statusOf(r)).last_sent_by === 'unknown');
      const whileDown = await Promise.all(replicas.map(statusOf));
      for (const status of whileDown) {
        expect(['waiting', 'sending']).toContain(status.state);
        expect(status.stop_reason).toBeNull();
        expect(status.last_error).toContain('heartbeat lease');
      }
      await sleep(Math.max(0, downAt + 3 * (LOOP + TIMEOUT) * 1000 - Date.now()));
    } finally {
      // Resumed whatever happened, so a failure here leaves the next test a running PostgreSQL.
      countAtUp = fx.endpoint.requests.length;
      await fx.postgres.resume();
      upAt = Date.now();
    }

    // Nothing was sent while no replica could be confirmed as the sender.
    expect(beatsOf(fx.endpoint).filter((b) => b.at > downAt + LOOP * 1000 && b.at < upAt)).toEqual([]);
    await fx.endpoint.waitForRequests(countAtUp + 1, LIMITS.waitMs);
    const resumedInMs = fx.endpoint.requests[countAtUp]!.receivedAt - upAt;
    console.log(`replicas: heartbeats resumed ${resumedInMs} ms after PostgreSQL was back (limit ${(LOOP + TIMEOUT + 5) * 1000} ms)`);
    // The requirement: one replica sends within one interval plus the timeout (plus 5 s to reconnect) of PostgreSQL's return.
    expect(resumedInMs).toBeLessThan((LOOP + TIMEOUT + 5) * 1000);
    await fx.endpoint.waitForRequests(countAtUp + 4, LIMITS.waitMs);

    expect(doubledGaps(beatsOf(fx.endpoint), LOOP)).toEqual([]);
    // No restart: the same processes, never stopped, one of them the sender again.
    expect(replicas.every(running)).toBe(true);
    const after = await Promise.all(replicas.map(statusOf));
    for (const status of after) expect(status.stop_reason).toBeNull();
    expect(after.map((s) => s.last_sent_by).sort()).toEqual(['peer', 'self']);
    for (const r of replicas) {
      const skipped = r.lines.filter((l) => l.msg === SKIPPED);
      // One warning per skipped interval, capped by the log limit (10 a minute).
      expect(skipped.length).toBeGreaterThan(0);
      expect(skipped.length).toBeLessThanOrEqual(10);
      expect(r.lines.filter((l) => String(l.msg).startsWith('Failed to send telemetry'))).toEqual([]);
      expect(r.stdout()).not.toContain(fx.postgres.password);
    }
  }, scaled(240_000));

});
