// The collector on a real PostgreSQL under load and faults: a stalled server (SIGSTOP), a burst of stats reads,
// a full queue, a heartbeat the database rejects, and which failures count as "unavailable".
import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCollector } from '../src/collector/collector.js';
import { StoreUnavailableError } from '../src/errors.js';
import { toCounted } from '../src/stores/counting.js';
import { createStorage, type Storage } from '../src/stores/index.js';
import { isUnavailable } from '../src/stores/postgres/pool.js';
import { LIMITS, scaled } from './harness/limits.js';
import { postAlone, rssBytes, type Answer } from './harness/requests.js';
import { createCliSandbox, getJson, type CliSandbox, type ServerProcess } from './helpers/cli.js';
import { TEST_BOUNDS } from './helpers/collectorBackends.js';
import { sampleHeartbeat } from './helpers/fixtures.js';
import { usePostgres } from './helpers/postgres.js';
import { listenCollector } from './helpers/servedCollector.js';

// Embedded even when TELEMETRY_TEST_DATABASE_URL is set: these tests stall the server's processes.
const postgres = usePostgres({ restartable: true });
let cli: CliSandbox;
const closers: Array<() => Promise<unknown>> = [];

beforeAll(() => {
  cli = createCliSandbox();
});
afterAll(async () => {
  await cli?.cleanup();
});
afterEach(async () => {
  await postgres().unstall();
  for (const close of closers.splice(0).reverse()) await close();
});

/** The bound: a POST to a stalled database is answered within 10 s (scaled on slow machines). */
const ANSWER_MS = scaled(10_000);
// Start-up on a loaded 2-core machine takes seconds; this tells "started" from "hung".
const START_MS = 2 * LIMITS.startMs;

/** One POST on a connection of its own (as many senders would); one not answered in 60 s is status 0. */
const post = (origin: string, body = JSON.stringify(sampleHeartbeat())): Promise<Answer> => postAlone(`${origin}/api/collector`, body);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function startCollectorProcess(url: string): Promise<ServerProcess> {
  const env = { TELEMETRY_HOME: await cli.tempHome(), TELEMETRY_DATABASE_URL: url, TELEMETRY_COLLECTOR: 'on' };
  const server = await cli.startServerProcess(env, { args: ['--no-telemetry'], timeoutMs: START_MS });
  closers.push(() => server.stop());
  return server;
}

/** The collector over node:http in this process, on a storage the test configures. */
async function serveCollector(storage: Storage): Promise<string> {
  const served = await listenCollector(await createCollector({ store: await storage.openCollector(TEST_BOUNDS) }));
  closers.push(() => served.close());
  return served.origin;
}

async function openStorage(url: string, collectorQueue?: Parameters<typeof createStorage>[0]['collectorQueue']): Promise<Storage> {
  const storage = await createStorage({ home: '/nonexistent', dbPath: '/nonexistent/db', databaseUrl: url, collectorQueue });
  await storage.open();
  closers.push(() => storage.close());
  return storage;
}

describe('which PostgreSQL failures are "unavailable" (503) and which are 500', () => {
  it.each([
    ['connection refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), true],
    ['connection reset', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), true],
    ['pg: connection lost', new Error('Connection terminated unexpectedly'), true],
    ['pg: query_timeout', new Error('Query read timeout'), true],
    ['pg-pool: no connection in time', new Error('timeout exceeded when trying to connect'), true],
    ['SQLSTATE 08006 connection failure', Object.assign(new Error('x'), { code: '08006' }), true],
    ['SQLSTATE 57P01 admin shutdown', Object.assign(new Error('x'), { code: '57P01' }), true],
    ['SQLSTATE 57014 statement_timeout', Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }), true],
    ['SQLSTATE 53300 too many connections', Object.assign(new Error('x'), { code: '53300' }), true],
    ['SQLSTATE 22021 a NUL in a value', Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' }), false],
    ['SQLSTATE 08P01 a malformed statement', Object.assign(new Error('bind message supplies 14 parameters'), { code: '08P01' }), false],
    ['SQLSTATE 23505 a unique violation', Object.assign(new Error('x'), { code: '23505' }), false],
    ['SQLSTATE 53100 disk full', Object.assign(new Error('x'), { code: '53100' }), false],
    ['a TypeError (a bug)', new TypeError("Cannot read properties of undefined (reading 'length')"), false],
    ['a RangeError', new RangeError('Invalid time value'), false],
  ] as const)('%s: %s', (_name, error, expected) => {
    expect(isUnavailable(error)).toBe(expected);
  });
});

describe('a stalled PostgreSQL (every server process SIGSTOPped) under a running collector', () => {
  it('answers every POST 503 with Retry-After within 10 s, keeps /api/health 200 and RSS bounded, and recovers on SIGCONT', async () => {
    const url = await postgres().freshDatabase();
    const server = await startCollectorProcess(url);
    expect((await post(server.url)).status).toBe(202);
    const answers: Array<Promise<Answer>> = [];
    const health: number[] = [];
    const rss: number[] = [await rssBytes(server.pid)];
    await postgres().stall();
    try {
      // About 50 POSTs a second for 12 s (twice the statement bound: the queue fills, then answers), each on its
      // own connection, as a fleet of senders keeps posting.
      const until = performance.now() + 12_000;
      let tick = 0;
      while (performance.now() < until) {
        answers.push(post(server.url));
        tick += 1;
        if (tick % 25 === 0) rss.push(await rssBytes(server.pid));
        if (tick % 50 === 0) health.push((await getJson(`${server.url}/api/health`)).status);
        await sleep(20);
      }
      // Wait for the last ones, but no longer than the bound they must keep.
      await Promise.race([Promise.all(answers), sleep(ANSWER_MS)]);
    } finally {
      await postgres().unstall();
    }
    const done = await Promise.all(answers);
    const slowest = Math.max(...done.map((a) => a.ms));
    const growth = Math.max(...rss) - rss[0]!;
    console.log(`stalled PostgreSQL: ${done.length} POSTs, slowest answer ${slowest.toFixed(0)} ms, RSS growth ${(growth / 2 ** 20).toFixed(1)} MiB`);
    expect(done.filter((a) => a.status !== 503)).toEqual([]);
    expect(done.every((a) => a.retryAfter !== undefined)).toBe(true);
    expect(slowest).toBeLessThan(ANSWER_MS);
    expect(new Set(health)).toEqual(new Set([200]));
    // The outage is said once (the limit is a line a minute), with its reason and no password.
    const outage = server.lines.filter((line) => line.msg === 'Collector writes unavailable; answering 503');
    expect(outage).toHaveLength(1);
    expect(String(outage[0]!.reason)).toMatch(/timeout/i);
    // At most ~10 s of posts are ever waiting (about 500 requests): far below what an unbounded queue holds.
    expect(growth).toBeLessThan(64 * 2 ** 20);

    // Recovery without a restart: the pools reconnect on their next use.
    let recovered: Answer = { status: 0, ms: 0 };
    for (const deadline = performance.now() + LIMITS.waitMs; recovered.status !== 202 && performance.now() < deadline; await sleep(200)) {
      recovered = await post(server.url);
    }
    expect(recovered.status).toBe(202);
    const stats = await getJson<{ heartbeats_total: number }>(`${server.url}/api/collector/stats`);
    expect(stats.status).toBe(200);
    // The first 202 and the last; a write the stall cut off may still have landed when it resumed.
    expect(stats.body.heartbeats_total).toBeGreaterThanOrEqual(2);
  }, 2 * START_MS + 60_000);
});

describe('a burst of stats reads', () => {
  it('never starves the writer: every POST during 300 concurrent GET /api/collector/stats is 202', async () => {
    const url = await postgres().freshDatabase();
    const storage = await openStorage(url);
    const store = await storage.openCollector(TEST_BOUNDS);
    // Stats worth reading: 90 days with 300 versions each (27,000 per-day rows) through the store's own writes.
    const day0 = Date.now() - 89 * 86_400_000;
    for (let day = 0; day < 90; day += 1) {
      const at = new Date(day0 + day * 86_400_000);
      await Promise.all(Array.from({ length: 300 }, (_, v) => store.record(toCounted(sampleHeartbeat({ server_version: `1.${v}.0` }), at))));
    }
    const server = await startCollectorProcess(url);
    const readers = new Pool(server.url, { connections: 300 });
    closers.push(() => readers.close());
    const reads = Array.from({ length: 300 }, async () => {
      const res = await readers.request({ method: 'GET', path: '/api/collector/stats' });
      await res.body.dump();
      return res.statusCode;
    });
    const writes: Array<Promise<Answer>> = [];
    for (let i = 0; i < 50; i += 1) {
      writes.push(post(server.url));
      await sleep(20);
    }
    const [readStatuses, written] = await Promise.all([Promise.all(reads), Promise.all(writes)]);
    expect(written.filter((a) => a.status !== 202)).toEqual([]);
    expect(readStatuses.filter((s) => s !== 200)).toEqual([]);
    const stats = await getJson<{ heartbeats_total: number }>(`${server.url}/api/collector/stats`);
    expect(stats.body.heartbeats_total).toBe(90 * 300 + 50);
  }, 2 * START_MS + 60_000);
});

describe('the write queue on PostgreSQL', () => {
  it('answers 503 with Retry-After at once when full, while the write ahead of it hangs, then writes what it queued', async () => {
    const url = await postgres().freshDatabase();
    const storage = await openStorage(url, { maxQueued: 3, maxWaitMs: 60_000 });
    const origin = await serveCollector(storage);
    expect((await post(origin)).status).toBe(202);
    await postgres().stall();
    const inFlight = post(origin);
    await sleep(300);
    const settled: Answer[] = [];
    const later = Array.from({ length: 10 }, () => post(origin).then((a) => (settled.push(a), a)));
    // Three fit in the queue (four if the first had not yet been taken for writing): the rest are refused at once.
    for (const deadline = performance.now() + LIMITS.promptMs; settled.length < 6 && performance.now() < deadline; ) await sleep(20);
    await postgres().unstall();
    const answers = await Promise.all(later);
    const refused = answers.filter((a) => a.status === 503);
    expect(refused.length).toBeGreaterThanOrEqual(6);
    expect(refused.every((a) => a.retryAfter === '1' && a.ms < LIMITS.promptMs)).toBe(true);
    // What was queued is written once PostgreSQL carries on.
    expect((await inFlight).status).toBe(202);
    expect(answers.filter((a) => a.status !== 503).map((a) => a.status)).toEqual(Array(10 - refused.length).fill(202));
  }, 60_000);
});

describe('a heartbeat the database cannot store', () => {
  // Below the edge's validation (which refuses both long values and control characters), at the store itself.
  it.each([
    // PostgreSQL refuses the statement: an index entry over btree's 2,704-byte limit (SQLSTATE 54000).
    ['a 12,000-character value PostgreSQL refuses (SQLSTATE 54000)', { server_version: randomBytes(6_000).toString('hex') }, '54000'],
    // Refused by the store before PostgreSQL, which cannot hold U+0000 in text.
    ['a U+0000 in a value', { environment: '\u0000' }, undefined],
  ] as const)('%s fails alone: the 40 written in the same group commit, and it is rejected with its own error, not "unavailable"', async (_name, bad, code) => {
    const url = await postgres().freshDatabase();
    const storage = await openStorage(url);
    const store = await storage.openCollector(TEST_BOUNDS);
    const now = new Date();
    // The first is written alone; the 41 after it queue meanwhile and go together as one group.
    const first = store.record(toCounted(sampleHeartbeat(), now));
    const group = Array.from({ length: 41 }, (_, i) => store.record(toCounted(sampleHeartbeat(i === 20 ? bad : {}), now)));
    const results = await Promise.allSettled([first, ...group]);
    const rejected = results.flatMap((r, i) => (r.status === 'rejected' ? [{ i, reason: r.reason as unknown }] : []));
    expect(rejected.map((r) => r.i)).toEqual([21]);
    expect(rejected[0]!.reason).not.toBeInstanceOf(StoreUnavailableError);
    expect((rejected[0]!.reason as { code?: string }).code).toBe(code);
    expect((await store.stats()).heartbeats_total).toBe(41);
  });
});
