// Durable idempotency keys across a collector fleet: two real server processes on one real PostgreSQL. A
// heartbeat posted to each under one key, and again after both restart, is counted once; the key with another
// body is 422 naming it; behind a round-robin balancer, the real actor's retry of a heartbeat whose answer was
// lost after the commit lands on the other process and is not counted again.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActor, toPromise } from 'xstate';
import { createTelemetryMachine } from '../src/actor/createTelemetryMachine.js';
import { createCliSandbox, getJson, type CliSandbox, type ServerProcess } from './helpers/cli.js';
import { sampleHeartbeat, telemetryInput } from './helpers/fixtures.js';
import { LIMITS } from './harness/limits.js';
import { usePostgres } from './helpers/postgres.js';
import { keyOf, startTcpProxy, statusOf } from './helpers/tcpProxy.js';
import { openTempDb } from './helpers/tempDb.js';

const postgres = usePostgres();
let cli: CliSandbox;
beforeEach(() => {
  cli = createCliSandbox();
});
afterEach(async () => {
  await cli.cleanup();
});

// Start-up on a loaded 2-core machine takes seconds; this tells "started" from "hung".
const START_MS = 2 * LIMITS.startMs;

async function post(server: ServerProcess, body: unknown, key: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${server.url}/api/collector`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(LIMITS.requestMs),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const total = async (server: ServerProcess) => (await getJson<{ heartbeats_total: number }>(`${server.url}/api/collector/stats`)).body.heartbeats_total;

describe('idempotency keys shared by collector processes on one PostgreSQL', () => {
  it('counts a heartbeat posted to two processes under one key once, also after both restart; another body is 422', async () => {
    const url = await postgres().freshDatabase();
    const envs = await Promise.all([0, 1].map(async () => ({ TELEMETRY_HOME: await cli.tempHome(), TELEMETRY_DATABASE_URL: url, TELEMETRY_COLLECTOR: 'on' })));
    const start = () => Promise.all(envs.map((env) => cli.startServerProcess(env, { args: ['--no-telemetry'], timeoutMs: START_MS })));
    const heartbeat = sampleHeartbeat();
    const key = 'a1b2c3d4-retry-of-one-heartbeat';

    let servers = await start();
    // At the same moment (neither sees the other's key yet), then one after the other.
    const together = await Promise.all(servers.map((s) => post(s, heartbeat, key)));
    expect(together.map((a) => a.status)).toEqual([202, 202]);
    for (const server of servers) expect((await post(server, heartbeat, key)).status).toBe(202);
    expect(await Promise.all(servers.map(total))).toEqual([1, 1]);

    await Promise.all(servers.map((s) => s.stop()));
    servers = await start();
    for (const server of servers) expect((await post(server, heartbeat, key)).status).toBe(202);
    expect(await Promise.all(servers.map(total))).toEqual([1, 1]);

    const conflict = await post(servers[1]!, sampleHeartbeat(), key);
    expect(conflict.status).toBe(422);
    expect(conflict.json).toMatchObject({ field: 'idempotency-key' });
    expect(String(conflict.json.error)).toContain(key);
    expect(await total(servers[0]!)).toBe(1);
  }, 6 * START_MS);

  it('behind a round-robin balancer: the retry of a heartbeat whose answer was lost after the commit lands on the other process, counted once', async () => {
    const url = await postgres().freshDatabase();
    const servers = await Promise.all(
      [0, 1].map(async () =>
        cli.startServerProcess({ TELEMETRY_HOME: await cli.tempHome(), TELEMETRY_DATABASE_URL: url, TELEMETRY_COLLECTOR: 'on' }, { args: ['--no-telemetry'], timeoutMs: START_MS }),
      ),
    );
    const ports = servers.map((s) => Number(new URL(s.url).port));
    // The documented fleet: each new connection goes to the next process. The first answer is dropped after the
    // commit (the connection reset instead), so the actor's retry opens a new connection, to the other process.
    let next = 0;
    let dropped = false;
    const balancer = await startTcpProxy({ target: () => ports[next++ % 2]!, decide: () => (dropped ? 'pass' : ((dropped = true), 'dropReply')) });
    const sessions = await openTempDb();
    try {
      const input = telemetryInput(`${balancer.origin}/api/collector`, { loopSeconds: 0.2, retries: 1, maxLoops: 2 });
      const actor = createActor(createTelemetryMachine({ db: sessions.db }), { input });
      actor.start();
      actor.send({ type: 'telemetry.start' });
      expect(await toPromise(actor)).toMatchObject({ stopReason: 'completed', heartbeatsSent: 2 });
    } finally {
      await balancer.close();
      await sessions.cleanup();
    }
    const [lost, retry] = balancer.exchanges;
    expect({ status: statusOf(lost!), delivered: lost!.delivered }).toEqual({ status: 202, delivered: false });
    expect({ key: keyOf(retry!), status: statusOf(retry!), port: retry!.port }).toEqual({ key: keyOf(lost!), status: 202, port: ports.find((p) => p !== lost!.port) });
    // Before (keys in one process's memory): the other process counted the retry again, 3.
    expect(await Promise.all(servers.map(total))).toEqual([2, 2]);
  }, 4 * START_MS);
});
