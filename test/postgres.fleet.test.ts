// Collector processes sharing one real PostgreSQL: exact counts across processes and restarts; PostgreSQL restarts.
import { Pool } from 'undici';
import { v4 as uuidv4 } from 'uuid';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCliSandbox, getJson, type CliSandbox, type ServerProcess } from './helpers/cli.js';
import { sampleHeartbeat } from './helpers/fixtures.js';
import { LIMITS } from './harness/limits.js';
import { usePostgres } from './helpers/postgres.js';

let cli: CliSandbox;

// Embedded even when TELEMETRY_TEST_DATABASE_URL is set: the fault test stops and starts PostgreSQL.
const postgres = usePostgres({ restartable: true });
beforeEach(() => {
  cli = createCliSandbox();
});
afterEach(async () => {
  await cli.cleanup();
});

// Start-up on a loaded 2-core machine takes seconds; this tells "started" from "hung".
const START_MS = 2 * LIMITS.startMs;

interface Stats {
  heartbeats_total: number;
  sessions_total: number;
  heartbeats_by_day: Record<string, number>;
  sessions_by_day: Record<string, number>;
}

async function collectorEnv(url: string) {
  return { TELEMETRY_HOME: await cli.tempHome(), TELEMETRY_DATABASE_URL: url, TELEMETRY_COLLECTOR: 'on' };
}

const startCollector = async (env: Record<string, string>) => cli.startServerProcess(env, { args: ['--no-telemetry'], timeoutMs: START_MS });
const stats = async (server: ServerProcess) => (await getJson<Stats>(`${server.url}/api/collector/stats`)).body;

/** POSTs each heartbeat to the collector at its index's turn; resolves with every status code. */
async function postAll(servers: ServerProcess[], bodies: string[]): Promise<number[]> {
  const pools = servers.map((s) => new Pool(s.url, { connections: 25 }));
  try {
    return await Promise.all(
      bodies.map(async (body, i) => {
        const res = await pools[i % pools.length]!.request({
          method: 'POST',
          path: '/api/collector',
          headers: { 'content-type': 'application/json' },
          body,
        });
        await res.body.dump();
        return res.statusCode;
      }),
    );
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
}

describe('a collector fleet on one PostgreSQL', () => {
  it('counts exactly the heartbeats answered 202 across two processes, also after both restart', async () => {
    const url = await postgres().freshDatabase();
    const envs = [await collectorEnv(url), await collectorEnv(url)];
    const servers = await Promise.all(envs.map(startCollector));
    const sessions = Array.from({ length: 100 }, () => uuidv4());
    const bodies = Array.from({ length: 1000 }, (_, i) => JSON.stringify(sampleHeartbeat({ session_id: sessions[i % 100] })));
    const codes = await postAll(servers, bodies);
    const accepted = codes.filter((c) => c === 202).length;
    expect(codes.filter((c) => c !== 202)).toEqual([]);
    const [a, b] = await Promise.all(servers.map(stats));
    expect(a).toEqual(b);
    expect(a!.heartbeats_total).toBe(accepted);
    expect(a!.sessions_total).toBe(100);
    expect(Object.values(a!.heartbeats_by_day).reduce((x, y) => x + y, 0)).toBe(accepted);

    await Promise.all(servers.map((s) => s.stop()));
    const restarted = await Promise.all(envs.map(startCollector));
    const again = await Promise.all(restarted.map(stats));
    expect(again[0]).toEqual(a);
    expect(again[1]).toEqual(a);
  }, 10 * START_MS);
});

describe('PostgreSQL restarting under a running server', () => {
  it('keeps /api/health answering, answers 503 (never 202) while it is down, and recovers without a restart', async () => {
    const url = await postgres().freshDatabase();
    const server = await startCollector(await collectorEnv(url));
    const post = async () => (await postAll([server], [JSON.stringify(sampleHeartbeat())]))[0];
    expect(await post()).toBe(202);

    await postgres().pause();
    try {
      expect((await getJson(`${server.url}/api/health`)).status).toBe(200);
      const whileDown = [await post(), await post(), await post()];
      expect(whileDown).toEqual([503, 503, 503]);
      expect((await getJson(`${server.url}/api/collector/stats`)).status).toBe(503);
      expect((await getJson(`${server.url}/api/health`)).status).toBe(200);
    } finally {
      await postgres().resume();
    }

    // The pool reconnects on its next use: the first post after PostgreSQL is back is accepted.
    expect(await post()).toBe(202);
    expect((await stats(server)).heartbeats_total).toBe(2);
    const logs = server.lines.map((l) => JSON.stringify(l)).join('\n');
    expect(logs).not.toContain(postgres().password);
  }, 10 * START_MS);
});
