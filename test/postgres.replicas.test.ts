// Real server processes sharing one real PostgreSQL: settings, one session, one heartbeat per interval, handover.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCliSandbox, getJson, type CliSandbox, type ServerProcess } from './helpers/cli.js';
import { startEndpoint, type TestEndpoint } from './helpers/endpoint.js';
import { LIMITS, scaled } from './harness/limits.js';
import { usePostgres } from './helpers/postgres.js';
import { freePort } from './harness/net.js';

const postgres = usePostgres();
let cli: CliSandbox;
let endpoint: TestEndpoint;

beforeEach(async () => {
  cli = createCliSandbox();
  endpoint = await startEndpoint();
});
afterEach(async () => {
  await cli.cleanup();
  await endpoint.close();
});

// Start-up of three processes at once on a loaded 2-core machine takes a few seconds; this tells "started" from "hung".
const START_MS = 2 * LIMITS.startMs;
const LOOP_SECONDS = 1;
const TIMEOUT_SECONDS = 2;

interface Status {
  session_id: string | null;
  heartbeats_sent: number;
  last_sent_by: 'self' | 'peer' | null;
  state: string;
}

const statusOf = async (server: ServerProcess) => (await getJson<Status>(`${server.url}/api/telemetry`)).body;
const sessionOf = (body: string) => (JSON.parse(body) as { payload: { session_id: string } }).payload.session_id;

async function replicaEnv(url: string) {
  return {
    TELEMETRY_HOME: await cli.tempHome(),
    TELEMETRY_DATABASE_URL: url,
    TELEMETRY_ENDPOINT: `${endpoint.origin}/api/collector`,
    TELEMETRY_LOOP_SECONDS: String(LOOP_SECONDS),
    TELEMETRY_TIMEOUT_SECONDS: String(TIMEOUT_SECONDS),
    TELEMETRY_COLLECTOR: 'off',
  };
}

describe('TELEMETRY_DATABASE_URL', () => {
  it('refuses a URL that is not postgres:// with exit 2, naming the variable and hiding the password', async () => {
    const home = await cli.tempHome();
    const bad = await cli.runCli(['server'], { TELEMETRY_HOME: home, TELEMETRY_DATABASE_URL: 'mysql://admin:hunter2@127.0.0.1/db' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('TELEMETRY_DATABASE_URL=');
    expect(bad.stderr).toContain('postgres://');
    expect(bad.stderr).not.toContain('hunter2');
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    const flag = await cli.runCli(['server', '--database-url', 'postgres://u:hunter2@'], { TELEMETRY_HOME: home });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--database-url=');
    expect(flag.stderr).not.toContain('hunter2');
  });

  it('exits 1 with one line naming the server (no password) when PostgreSQL cannot be reached at start', async () => {
    const url = `postgres://postgres:hunter2@127.0.0.1:${await freePort()}/telemetry`;
    const result = await cli.runCli(['server'], { TELEMETRY_HOME: await cli.tempHome(), TELEMETRY_DATABASE_URL: url });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/Cannot use PostgreSQL at postgres:\/\/127\.0\.0\.1:\d+\/telemetry: .*ECONNREFUSED/);
    expect(result.stderr + result.stdout).not.toContain('hunter2');
  });

  it('status and reset work against PostgreSQL without a running server', async () => {
    const url = await postgres().freshDatabase();
    const env = await replicaEnv(url);
    const server = await cli.startServerProcess(env, { timeoutMs: START_MS });
    await endpoint.waitForRequests(1);
    const session = sessionOf(endpoint.requests[0]!.body);
    await server.stop();
    // Another home: no local server owns it, so the commands go to the database.
    const other = { ...env, TELEMETRY_HOME: await cli.tempHome() };
    const status = await cli.runCli(['status', '--json'], other);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ session_id: session, state: 'not running' });
    expect(status.stdout).not.toContain(postgres().password);
    const reset = await cli.runCli(['reset'], other);
    expect(reset.stdout).toContain('Session forgotten');
    const after = await cli.runCli(['status', '--json'], other);
    expect(JSON.parse(after.stdout)).toMatchObject({ session_id: null });
  }, 4 * START_MS);
});

describe('replicas on one PostgreSQL', () => {
  it('share one session, send exactly one heartbeat per interval between them, and hand over when the sender dies', async () => {
    const url = await postgres().freshDatabase();
    const replicas = await Promise.all([1, 2, 3].map(async () => cli.startServerProcess(await replicaEnv(url), { timeoutMs: START_MS })));
    const intervals = 10;
    // 10 intervals of 1 s (three replicas racing for each: a double send shows within a few); the limit tells "sending" from "stuck" on a loaded machine.
    await endpoint.waitForRequests(intervals + 1, 20 * intervals * 1000);
    const got = endpoint.requests.slice(0, intervals + 1);
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
    expect(sentByAll).toBeLessThanOrEqual(endpoint.requests.length + 1);

    // The sender dies without a word: a peer takes over within one interval plus the timeout.
    await replicas[sender]!.stop('SIGKILL');
    const before = endpoint.requests.length;
    const lastBefore = endpoint.requests[before - 1]!.receivedAt;
    await endpoint.waitForRequests(before + 3, 30_000);
    const handover = endpoint.requests[before]!.receivedAt - lastBefore;
    // Due one interval + timeout after the last one; 1.5 s of slack for a loaded machine.
    expect(handover).toBeLessThan((LOOP_SECONDS + TIMEOUT_SECONDS) * 1000 + 1_500);
    const after = endpoint.requests.slice(before);
    expect(new Set(after.map((r) => sessionOf(r.body)))).toEqual(new Set([sessionOf(got[0]!.body)]));
    const afterGaps = after.slice(1).map((r, i) => r.receivedAt - after[i]!.receivedAt);
    expect(afterGaps.filter((gap) => gap < 500)).toEqual([]);
    const survivors = await Promise.all(replicas.filter((_, i) => i !== sender).map(statusOf));
    expect(survivors.map((s) => s.last_sent_by).sort()).toEqual(['peer', 'self']);
  }, scaled(600_000));
});
