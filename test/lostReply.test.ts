// A heartbeat whose commit landed while its sender never heard so, on both backends: the real telemetry actor
// (TELEMETRY_RETRIES=1), a TCP proxy in front of the real collector served on 127.0.0.1, a real LevelDB in a temp
// folder or a real PostgreSQL. The retry carries the heartbeat's key and the heartbeat is counted once.
import { afterEach, describe, expect, it } from 'vitest';
import { createActor, toPromise } from 'xstate';
import { createTelemetryMachine } from '../src/actor/createTelemetryMachine.js';
import { BACKENDS, openLevelBackend, openPostgresBackend, type BackendName, type BackendStore } from './helpers/collectorBackends.js';
import { createFlakyDisk } from './helpers/flakyDisk.js';
import { telemetryInput } from './helpers/fixtures.js';
import { usePostgres } from './helpers/postgres.js';
import { serveCollector, type ServedCollector } from './helpers/servedCollector.js';
import { keyOf, startTcpProxy, statusOf, type Fate, type TcpProxy } from './helpers/tcpProxy.js';
import { openTempDb } from './helpers/tempDb.js';

const postgres = usePostgres();
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** The collector on `backend`, and a proxy in front of it deciding each exchange as `decide` says. */
async function collectorBehindProxy(backend: BackendStore, decide: (request: Buffer) => Fate = () => 'pass') {
  const served = await serveCollector(backend);
  const proxy = await startTcpProxy({ target: served.port, decide });
  closers.push(() => served.close(), () => proxy.close());
  return { served, proxy };
}

/** Runs the real telemetry actor against the proxy until it has sent `maxLoops` heartbeats (or stopped). */
async function runActor(proxy: TcpProxy, loopSeconds: number, maxLoops: number) {
  const sessions = await openTempDb();
  closers.push(() => sessions.cleanup());
  const input = telemetryInput(`${proxy.origin}/api/collector`, { loopSeconds, retries: 1, maxLoops });
  const actor = createActor(createTelemetryMachine({ db: sessions.db }), { input });
  actor.start();
  actor.send({ type: 'telemetry.start' });
  return toPromise(actor);
}

/** What the store said, per key in order, and what it holds after a restart. */
async function storeView(served: ServedCollector, backend: BackendStore) {
  await served.settled();
  await served.restart();
  return {
    answers: served.answers.map((a) => `${a.key}:${a.outcome}`),
    total: (await served.collector.stats()).heartbeats_total,
    stored: (await backend.storedKeys()).sort(),
  };
}

describe.each(BACKENDS)('a commit its sender never heard of, on %s', (name: BackendName) => {
  const open = () => (name === 'LevelDB' ? openLevelBackend() : openPostgresBackend(postgres()));

  it('the answer dropped after the commit (a TCP proxy resets the connection), then the retry: counted once', async () => {
    const backend = await open();
    closers.push(() => backend.close());
    let dropped = false;
    const { served, proxy } = await collectorBehindProxy(backend, () => (dropped ? 'pass' : ((dropped = true), 'dropReply')));
    expect(await runActor(proxy, 0.2, 2)).toMatchObject({ stopReason: 'completed', heartbeatsSent: 2 });

    const [first, retry, second] = proxy.exchanges;
    expect(proxy.exchanges).toHaveLength(3);
    // The collector answered 202 (it had committed); the proxy reset the connection instead of passing it on.
    expect({ fate: first!.fate, status: statusOf(first!), delivered: first!.delivered }).toEqual({ fate: 'dropReply', status: 202, delivered: false });
    expect({ key: keyOf(retry!), status: statusOf(retry!), delivered: retry!.delivered }).toEqual({ key: keyOf(first!), status: 202, delivered: true });
    expect(keyOf(second!)).not.toBe(keyOf(first!));
    const [k1, k2] = [keyOf(first!), keyOf(second!)];
    expect(await storeView(served, backend)).toEqual({ answers: [`${k1}:counted`, `${k1}:duplicate`, `${k2}:counted`], total: 2, stored: [k1, k2].sort() });
  });

  it('the commit landed but the answer was 503 (LevelDB: the write reported failed after the append; PostgreSQL: the reply to the write lost), then the retry: counted once', async () => {
    const keys: string[] = [];
    const learn = (request: Buffer) => {
      const key = keyOf(request);
      if (key !== undefined && !keys.includes(key)) keys.push(key);
      return 'pass' as const;
    };
    // The second heartbeat's write: on PostgreSQL its session is known by then, so it is one statement that
    // commits as it runs (a first one is written in a transaction, which a lost reply would roll back).
    const second = (text: string) => keys[1] !== undefined && text.includes(keys[1]);
    let backend: BackendStore;
    if (name === 'LevelDB') {
      let failed = false;
      const disk = createFlakyDisk(() => (!failed && keys.length === 2 ? ((failed = true), 'after') : undefined));
      backend = await openLevelBackend({ disk: disk.wrap });
    } else {
      let dropped = false;
      const database = await startTcpProxy({
        target: Number(new URL(postgres().adminUrl).port),
        decide: (request) => (!dropped && second(request.toString('latin1')) ? ((dropped = true), 'dropReply') : 'pass'),
      });
      closers.push(() => database.close());
      backend = await openPostgresBackend(postgres(), { through: (url) => Object.assign(new URL(url), { port: String(database.port) }).toString() });
    }
    closers.push(() => backend.close());
    const { served, proxy } = await collectorBehindProxy(backend, learn);
    // 0.5 s: the retry waits Retry-After (1 s) capped at the loop, longer than a LevelDB recovery takes (250 ms).
    expect(await runActor(proxy, 0.5, 2)).toMatchObject({ stopReason: 'completed', heartbeatsSent: 2 });

    expect(proxy.exchanges.map((e) => [keyOf(e), statusOf(e)])).toEqual([[keys[0], 202], [keys[1], 503], [keys[1], 202]]);
    // LevelDB takes the failed batch back when it recovers, so the retry is counted then; on PostgreSQL the
    // write had committed, so the retry is a duplicate. Either way: once.
    const retried = name === 'LevelDB' ? 'counted' : 'duplicate';
    expect(await storeView(served, backend)).toEqual({
      answers: [`${keys[0]}:counted`, `${keys[1]}:failed`, `${keys[1]}:${retried}`],
      total: 2,
      stored: [...keys].sort(),
    });
  });
});
