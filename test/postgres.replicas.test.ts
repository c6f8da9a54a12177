// Real server processes sharing one real PostgreSQL: settings, one session, one heartbeat per interval, handover.
import { describe, expect, it } from 'vitest';
import { scaled } from './harness/limits.js';
import { freePort } from './harness/net.js';
import { REPLICA_START_MS, replicaEnv, statusOf, useReplicaFixtures, type ReplicaSettings } from './helpers/replicas.js';

const fx = useReplicaFixtures({ postgres: 'shared' });
const LOOP_SECONDS = 1;
const TIMEOUT_SECONDS = 2;
const SETTINGS: ReplicaSettings = { loop: LOOP_SECONDS, timeout: TIMEOUT_SECONDS };

const sessionOf = (body: string) => (JSON.parse(body) as { payload: { session_id: string } }).payload.session_id;

describe('TELEMETRY_DATABASE_URL', () => {
  it('refuses a URL that is not postgres:// with exit 2, naming the variable and hiding the password', async () => {
    const home = await fx.cli.tempHome();
    const bad = await fx.cli.runCli(['server'], { TELEMETRY_HOME: home, TELEMETRY_DATABASE_URL: 'mysql://admin:hunter2@127.0.0.1/db' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('TELEMETRY_DATABASE_URL=');
    expect(bad.stderr).toContain('postgres://');
    expect(bad.stderr).not.toContain('hunter2');
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    const flag = await fx.cli.runCli(['server', '--database-url', 'postgres://u:hunter2@'], { TELEMETRY_HOME: home });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--database-url=');
    expect(flag.stderr).not.toContain('hunter2');
  });

  it('exits 1 with one line naming the server (no password) when PostgreSQL cannot be reached at start', async () => {
    const url = `postgres://postgres:hunter2@127.0.0.1:${await freePort()}/telemetry`;
    const result = await fx.cli.runCli(['server'], { TELEMETRY_HOME: await fx.cli.tempHome(), TELEMETRY_DATABASE_URL: url });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/Cannot use PostgreSQL at postgres:\/\/127\.0\.0\.1:\d+\/telemetry: .*ECONNREFUSED/);
    expect(result.stderr + result.stdout).not.toContain('hunter2');
  });

  it('status and reset work against PostgreSQL without a running server', async () => {
    const url = await fx.postgres.freshDatabase();
    const env = await replicaEnv(fx.cli, fx.endpoint, url, SETTINGS);
    const server = await fx.cli.startServerProcess(env, { timeoutMs: REPLICA_START_MS });
    await fx.endpoint.waitForRequests(1);
    const session = sessionOf(fx.endpoint.requests[0]!.body);
    await server.stop();
    // Another home: no local server owns it, so the commands go to the database.
    const other = { ...env, TELEMETRY_HOME: await fx.cli.tempHome() };
    const status = await fx.cli.runCli(['status', '--json'], other);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ session_id: session, state: 'not running' });
    expect(status.stdout).not.toContain(fx.postgres.password);
    const reset = await fx.cli.runCli(['reset'], other);
    expect(reset.stdout).toContain('Session forgotten');
    const after = await fx.cli.runCli(['status', '--json'], other);
    expect(JSON.parse(after.stdout)).toMatchObject({ session_id: null });
  }, 4 * REPLICA_START_MS);
});

describe('replicas on one PostgreSQL', () => {
  it('share one session, send exactly one heartbeat per interval between them, and hand over when the sender dies', async () => {
    const url = await fx.postgres.freshDatabase();
    const replicas = await Promise.all([1, 2, 3].map(() => fx.start(url, SETTINGS)));
    const intervals = 10;
    // 10 intervals of 1 s (three replicas racing for each: a double send shows within a few); the limit tells "sending" from "stuck" on a loaded machine.
    await fx.endpoint.waitForRequests(intervals + 1, 20 * intervals * 1000);
    const got = fx.endpoint.requests.slice(0, intervals + 1);
    expect(new Set(got.map((r) => sessionOf(r.body))).size).toBe(1);
    // Counted by interval slots: each gap between two heartbeats holds one interval. A second replica
    // sending in the same interval would leave a gap near 0; a missed interval, one near 2 s.
    const gaps = got.slice(1).map((r, i) => r.receivedAt - got[i]!.receivedAt);
    expect(gaps.filter((gap) => gap < 500 || gap > 1_500)).toEqual([]);

    const statuses = await Promise.all(replicas.map(statusOf));
    expect(new Set(statuses.map((s) => s.session_id))).toEqual(new Set([sessionOf(got[0]!.body)]));
    const sender = statuses.findIndex((s) => s.last_sent_by === 'self');
    expect(sender).toBeGreaterThanOrEqual(0);
    expect(statuses.filter((s) => s.last_sent_by === 'peer')).toHaveLength(2);
    const sentByAll = statuses.reduce((n, s) => n + s.heartbeats_sent, 0);
    expect(sentByAll).toBeGreaterThanOrEqual(intervals + 1);
    expect(sentByAll).toBeLessThanOrEqual(fx.endpoint.requests.length + 1);

    // The sender dies without a word: a peer takes over within one interval plus the timeout.
    await replicas[sender]!.stop('SIGKILL');
    const before = fx.endpoint.requests.length;
    const lastBefore = fx.endpoint.requests[before - 1]!.receivedAt;
    await fx.endpoint.waitForRequests(before + 3, 30_000);
    const handover = fx.endpoint.requests[before]!.receivedAt - lastBefore;
    // Due one interval + timeout after the last one; 1.5 s of slack for a loaded machine.
    expect(handover).toBeLessThan((LOOP_SECONDS + TIMEOUT_SECONDS) * 1000 + 1_500);
    const after = fx.endpoint.requests.slice(before);
    expect(new Set(after.map((r) => sessionOf(r.body)))).toEqual(new Set([sessionOf(got[0]!.body)]));
    const afterGaps = after.slice(1).map((r, i) => r.receivedAt - after[i]!.receivedAt);
    expect(afterGaps.filter((gap) => gap < 500)).toEqual([]);
    const survivors = await Promise.all(replicas.filter((_, i) => i !== sender).map(statusOf));
    expect(survivors.map((s) => s.last_sent_by).sort()).toEqual(['peer', 'self']);
  }, scaled(600_000));
});
