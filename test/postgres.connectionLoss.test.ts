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
 * A proxy in front of the test PostgreSQL: the `nth` exchange that contains `text` (a heartbeat's key, in the
 * parameters of whichever statement writes it; a table name) meets `fate`, every other one passes. `through`
 * rewrites a database URL to go through it.
 */
async function databaseProxy(text: string, fate: Fate, nth = 1) {
  let seen = 0;
  const proxy = await startTcpProxy({
    target: Number(new URL(postgres().adminUrl).port),
    decide: (request) => (request.includes(text) && ++seen === nth ? fate : 'pass'),
  });
  closers.push(() => proxy.close());
  const through = (url: string) => Object.assign(new URL(url), { port: String(proxy.port) }).toString();
  return { proxy, through, hit: () => seen >= nth, matches: () => seen };
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

describe('a replica whose lease claim cannot reach PostgreSQL', () => {
  it('skips that interval and consumes no key: each heartbeat it counts as sent is counted once, under a key of its own', async () => {
    // The second claim's connection is reset before PostgreSQL sees it: the real lease's claim throws.
    const database = await databaseProxy('heartbeat_lease', 'reset', 2);
    const backend = await openPostgresBackend(postgres());
    closers.push(() => backend.close());
    const served = await serveCollector(backend);
    const endpoint = await startTcpProxy({ target: served.port });
    closers.push(() => served.close(), () => endpoint.close());
    const storage = await createStorage({ home: '/nonexistent', dbPath: '/nonexistent/db', databaseUrl: database.through(backend.url!) });
    await storage.open();
    closers.push(() => storage.close());
    const machine = createTelemetryMachine({ sessions: storage.sessions, lease: storage.lease });
    const actor = createActor(machine, { input: telemetryInput(`${endpoint.origin}/api/collector`, { loopSeconds: 0.2, retries: 1, maxLoops: 3 }) });
    actor.start();
    actor.send({ type: 'telemetry.start' });
    const output = await toPromise(actor);

    // Four claims: the second was reset, and its interval skipped.
    expect(database.matches()).toBe(4);
    expect(output).toMatchObject({ stopReason: 'completed', heartbeatsSent: 3 });
    // Before (issue 19): the failed claim counted as a failed send, and its retry reused the previous heartbeat's
    // key, which the collector dropped as a duplicate while the actor counted it: keys [K1, K1, K2].
    const keys = endpoint.exchanges.map(keyOf);
    expect(endpoint.exchanges.map(statusOf)).toEqual([202, 202, 202]);
    expect(new Set(keys).size).toBe(3);
    await served.settled();
    expect(served.answers.map((a) => a.outcome)).toEqual(['counted', 'counted', 'counted']);
    expect((await backend.storedKeys()).sort()).toEqual([...keys].sort());
    expect((await served.collector.stats()).heartbeats_total).toBe(3);
  });
});
