// Replicas on one real PostgreSQL at the edges they exist for: the holder pauses mid-claim, a claim's answer
// stalls, replicas disagree on the interval, the session is reset under running replicas. Real server processes
// (and, for fencing, an actor in process), the suite's PostgreSQL, a recording endpoint. The database outage is
// in postgres.outage.test.ts (it needs a PostgreSQL it may stop).
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createActor, toPromise } from 'xstate';
import { createTelemetryMachine } from '../src/actor/createTelemetryMachine.js';
import { createStorage, type HeartbeatLease } from '../src/stores/index.js';
import { telemetryInput } from './helpers/fixtures.js';
import { beatsOf, doubledGaps, sessionsOf } from './helpers/heartbeats.js';
import { captureLogs } from './helpers/logs.js';
import { SKIPPED, statusOf, useReplicaFixtures, type ReplicaSettings, type ReplicaStatus } from './helpers/replicas.js';
import { scaled } from './harness/limits.js';
import { pollUntil } from './harness/net.js';

const fx = useReplicaFixtures({ postgres: 'shared' });

// Each test runs for some 10-20 s of real intervals; this tells "finished" from "hung".
const TEST_MS = scaled(240_000);
const LOOP = 1;
const TIMEOUT = 2;
const replica = (url: string, settings: Partial<ReplicaSettings> = {}) => fx.start(url, { loop: LOOP, timeout: TIMEOUT, ...settings });

describe('replicas on PostgreSQL: faults', () => {
  it('the holder SIGSTOPped while its claim awaits the reply, past loop + timeout: the peer takes over, and after SIGCONT no interval has two heartbeats', async () => {
    const url = await fx.postgres.freshDatabase();
    const a = await replica(url, { name: 'replica_a' });
    await fx.endpoint.waitForRequests(1);
    const b = await replica(url, { name: 'replica_b' });
    await fx.endpoint.waitForRequests(fx.endpoint.requests.length + 2);
    expect((await statusOf(a)).last_sent_by).toBe('self');
    expect((await statusOf(b)).last_sent_by).toBe('peer');

    // Hold the lease row so that A's next claim waits in PostgreSQL, pause A there, then let the claim
    // through: PostgreSQL renews A's lease, and the answer waits in A's socket while A is stopped.
    const locker = new pg.Client({ connectionString: url });
    const watcher = new pg.Client({ connectionString: url });
    await Promise.all([locker.connect(), watcher.connect()]);
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM heartbeat_lease WHERE id = 1 FOR UPDATE');
      const waiting = async () =>
        (await watcher.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'replica_a' AND wait_event_type = 'Lock'",
        )).rows[0]!.n > 0;
      await pollUntil(waiting, { everyMs: 5 });
      a.child.kill('SIGSTOP');
      await locker.query('ROLLBACK');
      expect((await statusOf(b)).heartbeats_sent).toBe(0);
      // B takes over once A's renewed lease goes stale (loop + timeout after it), then sends every interval.
      await pollUntil(async () => (await statusOf(b)).heartbeats_sent >= 2);
    } finally {
      a.child.kill('SIGCONT');
      await Promise.all([locker.end(), watcher.end()]);
    }
    const contAt = Date.now();
    await sleep(4 * LOOP * 1000);
    expect(beatsOf(fx.endpoint).filter((beat) => beat.at > contAt).length).toBeGreaterThanOrEqual(3);
    expect(doubledGaps(beatsOf(fx.endpoint), LOOP)).toEqual([]);
    // A skipped the claim it had been paused in, and has not sent since it woke.
    expect((await statusOf(a)).last_sent_by).not.toBe('self');
    expect(a.lines.filter((l) => l.msg === SKIPPED).length).toBeGreaterThan(0);
  }, TEST_MS);

  it('replica A (loop 3 s) holding, B (loop 1 s) started later: the endpoint sees the 3 s pace, B sends only after A is killed and says once that its loop differs', async () => {
    const url = await fx.postgres.freshDatabase();
    // A timeout of 1.5 s: B's own stale window (2.5 s) is shorter than A's interval, A's (4.5 s) longer.
    const a = await replica(url, { loop: 3, timeout: 1.5 });
    await fx.endpoint.waitForRequests(1);
    const b = await replica(url, { loop: 1, timeout: 1.5, env: { TELEMETRY_LOG_LEVEL: 'debug' } });
    const from = Date.now();
    await sleep(12_000);
    const watched = beatsOf(fx.endpoint).filter((beat) => beat.at >= from);
    expect(watched.length).toBeGreaterThanOrEqual(3);
    expect(watched.length).toBeLessThanOrEqual(5);
    expect(doubledGaps(watched, 3)).toEqual([]);
    expect((await statusOf(b)).heartbeats_sent).toBe(0);
    expect((await statusOf(b)).last_sent_by).toBe('peer');
    // A replica that did not send logs no "Heartbeat sent" line, only its own words for a peer's heartbeat.
    expect(b.lines.filter((l) => l.msg === 'Heartbeat sent')).toEqual([]);
    expect(b.lines.filter((l) => String(l.msg).startsWith('A peer replica sent the heartbeat')).length).toBeGreaterThan(0);
    const differs = b.lines.filter((l) => String(l.msg).includes("differs from the heartbeat holder's"));
    expect(differs).toHaveLength(1);
    expect(differs[0]).toMatchObject({ loopSeconds: 1, holderLoopSeconds: 3 });

    const lastOfA = fx.endpoint.requests.at(-1)!.receivedAt;
    await a.stop('SIGKILL');
    await pollUntil(async () => (await statusOf(b)).heartbeats_sent >= 2);
    const takeover = beatsOf(fx.endpoint).find((beat) => beat.at > lastOfA)!;
    console.log(`replicas: B took over ${takeover.at - lastOfA} ms after A's last heartbeat (A's loop + timeout: 4500 ms)`);
    // Within A's interval plus A's timeout of A's last heartbeat (plus 2 s for B's claim and POST on a loaded machine);
    // B's own window (2.5 s) would have taken it much sooner, while A was alive.
    expect(takeover.at - lastOfA).toBeLessThan((3 + 1.5 + 2) * 1000);
    const sent = b.lines.filter((l) => l.msg === 'Heartbeat sent');
    expect(sent.length).toBeGreaterThan(0);
    for (const line of sent) expect(Number.isInteger(line.durationMs)).toBe(true);
  }, TEST_MS);

  it('reset while two replicas run: after one interval only the new session reaches the endpoint, through a restart and a takeover; stored == live', async () => {
    const url = await fx.postgres.freshDatabase();
    const replicas = [await replica(url), await replica(url)];
    await fx.endpoint.waitForRequests(2);
    const [first] = sessionsOf(beatsOf(fx.endpoint));
    const elsewhere = { TELEMETRY_HOME: await fx.cli.tempHome(), TELEMETRY_DATABASE_URL: url };
    const reset = await fx.cli.runCli(['reset'], elsewhere);
    expect(reset.stdout).toContain('Session forgotten');
    const cut = Date.now() + LOOP * 1000;
    await pollUntil(() => beatsOf(fx.endpoint).filter((b) => b.at > cut).length >= 3);
    const after = sessionsOf(beatsOf(fx.endpoint).filter((b) => b.at > cut));
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(first);
    const stored = async () => (JSON.parse((await fx.cli.runCli(['status', '--json'], elsewhere)).stdout) as ReplicaStatus).session_id;
    expect(await stored()).toBe(after[0]);
    for (const r of replicas) expect((await statusOf(r)).session_id).toBe(after[0]);
    // One notice for the session made at the first start, one for the session made after the reset.
    const notices = replicas.flatMap((r) => r.lines.filter((l) => String(l.msg).startsWith('Anonymous telemetry is on')));
    expect(notices).toHaveLength(2);

    // Restart the peer, then kill the holder: the restarted replica takes over with the same session.
    const statuses = await Promise.all(replicas.map(statusOf));
    const holder = replicas[statuses.findIndex((s) => s.last_sent_by === 'self')]!;
    const peer = replicas.find((r) => r !== holder)!;
    await peer.stop();
    const restarted = await replica(url);
    await holder.stop('SIGKILL');
    const killedAt = Date.now();
    await pollUntil(async () => (await statusOf(restarted)).heartbeats_sent >= 2);
    expect(sessionsOf(beatsOf(fx.endpoint).filter((b) => b.at > cut))).toEqual(after);
    expect(beatsOf(fx.endpoint).filter((b) => b.at > killedAt).length).toBeGreaterThan(0);
    expect((await statusOf(restarted)).session_id).toBe(after[0]);
    expect(await stored()).toBe(after[0]);
    expect(doubledGaps(beatsOf(fx.endpoint), LOOP)).toEqual([]);
  }, TEST_MS);
});

describe('fencing (in process, real PostgreSQL)', () => {
  it('a claim whose answer arrives later than one interval after it was asked sends nothing, and the next interval sends', async () => {
    const url = await fx.postgres.freshDatabase();
    const storage = await createStorage({ home: '/nonexistent', dbPath: '/nonexistent/db', databaseUrl: url });
    await storage.open();
    try {
      const real = storage.lease!;
      let claims = 0;
      // The real claim, whose answer is held back 1.5 s the second time (a stalled reply): PostgreSQL has renewed
      // the lease, but by the time the answer is read the interval it covered has gone.
      const stalled: HeartbeatLease = {
        claim: async (options) => {
          const claim = await real.claim(options);
          claims += 1;
          if (claims === 2) await sleep(1_500);
          return claim;
        },
      };
      const logs = captureLogs();
      // Timeout 3 s: the claim's own deadline is longer than the stall, so the freshness check is what stops it.
      const machine = createTelemetryMachine({ sessions: storage.sessions, lease: stalled, logger: logs.logger });
      const actor = createActor(machine, { input: telemetryInput(`${fx.endpoint.origin}/c`, { loopSeconds: 1, timeoutSeconds: 3, maxLoops: 2 }) });
      actor.start();
      actor.send({ type: 'telemetry.start' });
      expect(await toPromise(actor)).toMatchObject({ stopReason: 'completed', heartbeatsSent: 2 });
      expect(claims).toBe(3);
      expect(fx.endpoint.requests).toHaveLength(2);
      const skipped = logs.withMessage('Telemetry heartbeat skipped this interval');
      expect(skipped).toHaveLength(1);
      expect(String(skipped[0]!.reason)).toMatch(/went stale before the request left \(\d+ ms after the claim; the limit is 1000 ms\)/);
    } finally {
      await storage.close();
    }
  }, TEST_MS);
});
