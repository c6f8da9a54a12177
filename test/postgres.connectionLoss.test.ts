// The link between the collector (or a replica) and PostgreSQL lost at the worst moments, through a TCP proxy in
// front of a real PostgreSQL: inside the collector's transaction (the server answers 503 and keeps running), and
// under a replica's lease claim (the interval is skipped and no key is consumed: every heartbeat counted as sent
// is counted by the collector under a key of its own).
import { afterEach, describe, expect, it } from 'vitest';
import { createActor, toPromise } from 'xstate';
import { createTelemetryMachine } from '../src/actor/createTelemetryMachine.js';
import { createStorage } from '../src/stores/index.js';
import { openPostgresBackend } from './helpers/collectorBackends.js';
import { createCliSandbox, getJson, type CliSandbox } from './helpers/cli.js';
import { sampleHeartbeat, telemetryInput } from './helpers/fixtures.js';
import { usePostgres } from './helpers/postgres.js';
import { serveCollector } from './helpers/servedCollector.js';
import { keyOf, startTcpProxy, statusOf, type Fate, type TcpProxy } from './helpers/tcpProxy.js';
import { LIMITS } from './harness/limits.js';

const postgres = usePostgres();
const KEY = 'key-of-one-heartbeat';
const closers: Array<() => Promise<unknown>> = [];
let cli: CliSandbox;
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/**
 * A proxy in front of the test PostgreSQL whose first exchange that contains `text` (a heartbeat's key, in the
 * parameters of whichever statement writes it) meets `fate`, later ones pass; `through` rewrites a database URL
 * to go through it.
 */
async function databaseProxy(text: string, fate: Fate): Promise<{ proxy: TcpProxy; through: (url: string) => string; hit: () => boolean }> {
  let hit = false;
  const proxy = await startTcpProxy({
    target: Number(new URL(postgres().adminUrl).port),
    decide: (request) => (!hit && request.includes(text) ? ((hit = true), fate) : 'pass'),
  });
  closers.push(() => proxy.close());
  const through = (url: string) => Object.assign(new URL(url), { port: String(proxy.port) }).toString();
  return { proxy, through, hit: () => hit };
}

describe('the collector loses its PostgreSQL connection inside a transaction', () => {
  it('answers 503 with Retry-After and keeps running; the retry is counted once', async () => {
    cli = createCliSandbox();
    closers.push(() => cli.cleanup());
    const database = await databaseProxy(KEY, 'reset');
    const url = database.through(await postgres().freshDatabase());
    const server = await cli.startServerProcess({ TELEMETRY_HOME: await cli.tempHome(), TELEMETRY_DATABASE_URL: url, TELEMETRY_COLLECTOR: 'on' }, { args: ['--no-telemetry'], timeoutMs: 2 * LIMITS.startMs });
    const post = () =>
      fetch(`${server.url}/api/collector`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': KEY },
        body: JSON.stringify(heartbeat),
        signal: AbortSignal.timeout(LIMITS.requestMs),
      });
    // A new session: its first heartbeat is written in the transaction (the session record is locked and written).
    const heartbeat = sampleHeartbeat();
    const refused = await post();
    expect(database.hit()).toBe(true);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).not.toBeNull();
    // Before: the pooled client checked out for the transaction had no 'error' listener, so the lost connection
    // was an uncaught exception and the process exited.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server.child.exitCode).toBeNull();
    expect((await post()).status).toBe(202);
    expect((await getJson<{ heartbeats_total: number }>(`${server.url}/api/collector/stats`)).body.heartbeats_total).toBe(1);
    expect(server.stderr()).toBe('');
    expect((await server.stop()).code).toBe(0);
  }, 4 * LIMITS.startMs);
});
