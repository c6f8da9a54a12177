// The collector over real HTTP (node:http on 127.0.0.1:0) with a real LevelDB in a temp folder.
import http, { type IncomingHttpHeaders } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { Level } from 'level';
import { Pool } from 'undici';
import { v4 as uuidv4 } from 'uuid';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createCollector,
  MAX_BODY_BYTES,
  readLimitedBody,
  validateHeartbeat,
  type Collector,
  type CollectorStats,
} from '../src/collector/collector.js';
import { MAX_VALUES } from '../src/stores/counting.js';
import { openLevelCollectorStore } from '../src/stores/level/collectorStore.js';
import { createLogger } from '../src/logger.js';
import type { Heartbeat } from '../src/heartbeat.js';
import type { IncomingMessage } from 'node:http';
import { toCounted } from '../src/stores/counting.js';
import { TEST_BOUNDS } from './helpers/collectorBackends.js';
import { sampleHeartbeat } from './helpers/fixtures.js';
import { captureLogs } from './helpers/logs.js';
import { LIMITS } from './harness/limits.js';
import { listenCollector, type ListeningCollector } from './helpers/servedCollector.js';

const heartbeat = (overrides: Partial<Heartbeat['payload']> = {}): Heartbeat => sampleHeartbeat(overrides);

/** A heartbeat with one change made by `mutate` (on a loose copy, so anything can be broken). */
function broken(mutate: (body: Record<string, any>) => void): Record<string, any> {
  const body = structuredClone(heartbeat()) as unknown as Record<string, any>;
  mutate(body);
  return body;
}

interface Harness {
  dir: string;
  db: Level<string, string>;
  collector: Collector;
  served: ListeningCollector;
  origin: string;
  pool: Pool;
}

async function stopServer(h: Pick<Harness, 'served' | 'pool'>): Promise<void> {
  await h.pool.close();
  await h.served.close();
}

async function post(h: Harness, body: unknown, contentType = 'application/json') {
  const res = await h.pool.request({
    method: 'POST',
    path: '/api/collector',
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.statusCode, headers: res.headers, json: (await res.body.json()) as Record<string, unknown> };
}

async function getStats(h: Harness): Promise<CollectorStats> {
  const res = await h.pool.request({ method: 'GET', path: '/api/collector/stats' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toBe('application/json');
  return (await res.body.json()) as CollectorStats;
}

/** A POST with node:http, writing `chunks` one by one; no content-length unless given (so chunked). */
function rawPost(origin: string, headers: Record<string, string | number>, chunks: Buffer[]) {
  return new Promise<{ status: number; headers: IncomingHttpHeaders; json: Record<string, unknown> }>((resolve, reject) => {
    let answered = false;
    const req = http.request(`${origin}/api/collector`, { method: 'POST', headers, agent: false }, (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(text) }));
    });
    // The server may close while we still write: that is expected once it has answered.
    req.on('error', (err) => (answered ? undefined : reject(err)));
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe('validateHeartbeat', () => {
  it('accepts the documented heartbeat and returns it', () => {
    const hb = heartbeat();
    expect(validateHeartbeat(hb)).toEqual({ ok: true, heartbeat: hb });
  });

  it('accepts numbers, booleans, a 200-character string, an offset timestamp and missing optional fields', () => {
    const body = broken((b) => {
      b.payload.extra_number = 3.5;
      b.payload.extra_flag = false;
      b.payload.platform = 'x'.repeat(200);
      b.payload.session_start_timestamp = '2026-11-27T19:00:00+01:00';
      delete b.payload.environment;
    });
    expect(validateHeartbeat(body).ok).toBe(true);
  });

  it.each<[string, unknown, string]>([
    ['a body that is not an object', [1, 2], 'body'],
    ['null', null, 'body'],
    ['an extra top-level key', broken((b) => (b.hostname = 'box')), 'hostname'],
    ['a missing source', broken((b) => delete b.source), 'source'],
    ['an empty source', broken((b) => (b.source = '')), 'source'],
    ['a 65-character source', broken((b) => (b.source = 's'.repeat(65))), 'source'],
    ['another type', broken((b) => (b.type = 'ping')), 'type'],
    ['a payload array', broken((b) => (b.payload = [])), 'payload'],
    ['a missing session_id', broken((b) => delete b.payload.session_id), 'payload.session_id'],
    ['a session_id that is not a UUID', broken((b) => (b.payload.session_id = 'abc')), 'payload.session_id'],
    ['a date without time', broken((b) => (b.payload.session_start_timestamp = '2026-11-27')), 'payload.session_start_timestamp'],
    ['February 30th', broken((b) => (b.payload.session_start_timestamp = '2026-02-30T00:00:00Z')), 'payload.session_start_timestamp'],
    ['a 201-character value', broken((b) => (b.payload.platform = 'x'.repeat(201))), 'payload.platform'],
    ['a nested object', broken((b) => (b.payload.nested = { a: 1 })), 'payload.nested'],
    ['a null value', broken((b) => (b.payload.environment = null)), 'payload.environment'],
    ['an infinite number', broken((b) => (b.payload.count = Infinity)), 'payload.count'],
  ])('rejects %s', (_name, body, field) => {
    const result = validateHeartbeat(body);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.field).toBe(field);
      expect(result.message).toContain(field === 'body' ? 'body' : field);
    }
  });
});

describe('readLimitedBody', () => {
  it('stops reading as soon as the limit is passed', async () => {
    const stream = new PassThrough();
    const reading = readLimitedBody(stream as unknown as IncomingMessage, 10);
    stream.write(Buffer.alloc(6));
    stream.write(Buffer.alloc(6));
    await expect(reading).resolves.toEqual({ kind: 'too-large' });
    expect(stream.isPaused()).toBe(true);
    expect(stream.listenerCount('data')).toBe(0);
  });
});

describe('collector over HTTP', () => {
  let h: Harness;
  const clock = { now: Date.parse('2026-11-27T18:30:00.000Z') };

  async function open(dir: string): Promise<Harness> {
    const db = new Level<string, string>(path.join(dir, 'db'));
    // Floor 1: these tests count one or two sessions per value (privacy.test.ts covers the floor).
    const collector = await createCollector({ db, now: () => clock.now, storeOptions: { privacyMinSessions: 1 } });
    const served = await listenCollector(collector);
    return { dir, db, collector, served, origin: served.origin, pool: new Pool(served.origin, { connections: 50 }) };
  }

  beforeEach(async () => {
    h = await open(await mkdtemp(path.join(os.tmpdir(), 'collector-test-')));
  });

  afterEach(async () => {
    await stopServer(h);
    await h.db.close();
    await rm(h.dir, { recursive: true, force: true });
  });

  it('answers 202 and counts heartbeats, distinct sessions and each field', async () => {
    const session = uuidv4();
    const first = await post(h, heartbeat({ session_id: session }));
    expect(first).toMatchObject({ status: 202, json: { status: 'accepted' } });
    expect(first.headers['content-type']).toBe('application/json');
    clock.now += 1000;
    await post(h, heartbeat({ session_id: session, environment: 'staging' }));
    await post(h, heartbeat({ platform: 'Windows', server_version: '0.2.0' }));
    expect(await getStats(h)).toMatchObject({
      heartbeats_total: 3,
      sessions_total: 2,
      by_server_version: { '0.1.0': 2, '0.2.0': 1 },
      by_platform: { Linux: 2, Windows: 1 },
      by_environment: { production: 2, staging: 1 },
      by_architecture: { x86_64: 3 },
      last_heartbeat_at: '2026-11-27T18:30:01.000Z',
      heartbeats_by_day: { '2026-11-27': 3 },
      sessions_by_day: { '2026-11-27': 2 },
      versions_by_day: { '2026-11-27': { '0.1.0': 2, '0.2.0': 1 } },
      as_of: '2026-11-27',
      privacy_min_sessions: 1,
      active: { day: 2, week: 2, month: 2 },
      new_by_day: { '2026-11-27': 2 },
    });
  });

  it('starts with empty stats and last_heartbeat_at null', async () => {
    expect(await getStats(h)).toMatchObject({ heartbeats_total: 0, sessions_total: 0, last_heartbeat_at: null });
  });

  it.each<[string, Record<string, any>, string]>([
    ['missing source', broken((b) => delete b.source), 'source'],
    ['long source', broken((b) => (b.source = 's'.repeat(65))), 'source'],
    ['wrong type', broken((b) => (b.type = 'event')), 'type'],
    ['payload not an object', broken((b) => (b.payload = 'text')), 'payload'],
    ['bad session_id', broken((b) => (b.payload.session_id = '1234')), 'payload.session_id'],
    ['bad timestamp', broken((b) => (b.payload.session_start_timestamp = 'yesterday')), 'payload.session_start_timestamp'],
    ['201-character string', broken((b) => (b.payload.platform = 'p'.repeat(201))), 'payload.platform'],
    ['nested object value', broken((b) => (b.payload.meta = { user: 'x' })), 'payload.meta'],
    ['extra top-level key', broken((b) => (b.hostname = 'box')), 'hostname'],
  ])('answers 400 naming the field for %s, and counts nothing', async (_name, body, field) => {
    const res = await post(h, body);
    expect(res.status).toBe(400);
    expect(res.json.field).toBe(field);
    expect(typeof res.json.error).toBe('string');
    expect((await getStats(h)).heartbeats_total).toBe(0);
  });

  it('answers 400 with field body for malformed JSON or bad UTF-8', async () => {
    expect(await post(h, '{"source": "telemetry_actor",')).toMatchObject({ status: 400, json: { field: 'body' } });
    expect(await post(h, '')).toMatchObject({ status: 400, json: { field: 'body' } });
    const badUtf8 = await rawPost(h.origin, { 'content-type': 'application/json' }, [Buffer.from([0x22, 0xff, 0x22])]);
    expect(badUtf8).toMatchObject({ status: 400, json: { field: 'body' } });
  });

  it('answers 415 unless the body is application/json (a utf-8 charset is fine)', async () => {
    expect((await post(h, heartbeat(), 'text/plain')).status).toBe(415);
    expect((await post(h, heartbeat(), 'application/json; charset=latin1')).status).toBe(415);
    const missing = await rawPost(h.origin, {}, [Buffer.from(JSON.stringify(heartbeat()))]);
    expect(missing.status).toBe(415);
    expect(typeof missing.json.error).toBe('string');
    expect((await post(h, heartbeat(), 'Application/JSON; charset=UTF-8')).status).toBe(202);
    expect((await getStats(h)).heartbeats_total).toBe(1);
  });

  it('answers 413 for 16 KiB + 1 byte, with a content-length and chunked without one', async () => {
    const tooBig = Buffer.alloc(MAX_BODY_BYTES + 1, 0x20);
    const withLength = await rawPost(h.origin, { 'content-type': 'application/json', 'content-length': tooBig.length }, [tooBig]);
    expect(withLength.status).toBe(413);
    expect(withLength.headers.connection).toBe('close');
    const half = MAX_BODY_BYTES / 2;
    const chunked = await rawPost(h.origin, { 'content-type': 'application/json' }, [tooBig.subarray(0, half), tooBig.subarray(half)]);
    expect(chunked.status).toBe(413);
    expect(typeof chunked.json.error).toBe('string');
  });

  it('refuses a large content-length at once, before any of the body is sent', async () => {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(`${h.origin}/api/collector`, {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': 10 * 1024 * 1024 },
      });
      req.on('response', (r) => {
        resolve(r);
        req.destroy();
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(res.statusCode).toBe(413);
  });

  it('accepts a body of exactly 16 KiB (valid JSON padded with whitespace)', async () => {
    const json = JSON.stringify(heartbeat());
    const body = json + ' '.repeat(MAX_BODY_BYTES - Buffer.byteLength(json));
    expect(Buffer.byteLength(body)).toBe(MAX_BODY_BYTES);
    expect((await post(h, body)).status).toBe(202);
  });

  it('keeps the stats across closing and reopening the database', async () => {
    const session = uuidv4();
    for (const version of ['0.1.0', '0.1.0', '0.3.0']) {
      expect((await post(h, heartbeat({ session_id: session, server_version: version }))).status).toBe(202);
    }
    const before = await getStats(h);
    await stopServer(h);
    await h.db.close();
    h = await open(h.dir);
    expect(await getStats(h)).toEqual(before);
    expect(before).toMatchObject({ heartbeats_total: 3, sessions_total: 1, by_server_version: { '0.1.0': 2, '0.3.0': 1 } });
    // The same session after the restart is not counted again: the marker key is on disk.
    expect((await post(h, heartbeat({ session_id: session.toUpperCase() }))).status).toBe(202);
    expect(await getStats(h)).toMatchObject({ heartbeats_total: 4, sessions_total: 1 });
  });

  it('counts all of 1,000 concurrent POSTs over 50 connections', async () => {
    const sessions = Array.from({ length: 137 }, () => uuidv4());
    const statuses = await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => (await post(h, heartbeat({ session_id: sessions[i % sessions.length]! }))).status),
    );
    expect(statuses.filter((s) => s === 202)).toHaveLength(1000);
    const stats = await getStats(h);
    expect(stats.heartbeats_total).toBe(1000);
    expect(stats.sessions_total).toBe(sessions.length);
    expect(stats.by_platform).toEqual({ Linux: 1000 });
  }, 30_000);

  it('answers 503 JSON while the store cannot write, and accepts again once it has reopened the database', async () => {
    await h.db.close();
    const res = await post(h, heartbeat());
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(typeof res.json.error).toBe('string');
    // The stats are read from the database: while it is closed they are refused the same way.
    const closed = await h.pool.request({ method: 'GET', path: '/api/collector/stats' });
    expect([200, 503]).toContain(closed.statusCode);
    await closed.body.dump();
    // Recovery reopens the very database (h.db) in the background, then the store accepts again.
    await acceptedEventually(h, heartbeat());
    expect((await getStats(h)).heartbeats_total).toBe(1);
  });

  it('after a failed write: counts nothing of it, refuses until recovered, then stays consistent', async () => {
    const session = uuidv4();
    expect((await post(h, heartbeat())).status).toBe(202);
    // A prewrite hook that throws is a real LevelDB write failure, after the totals were computed.
    const failWrite = () => {
      throw new Error('disk full (test)');
    };
    h.db.hooks.prewrite.add(failWrite);
    expect((await post(h, heartbeat({ session_id: session }))).status).toBe(503);
    // Still failing: refused without a write attempt, and recovery (a write itself) cannot succeed.
    expect((await post(h, heartbeat({ session_id: session }))).status).toBe(503);
    expect(await getStats(h)).toMatchObject({ heartbeats_total: 1, sessions_total: 1 });
    h.db.hooks.prewrite.delete(failWrite);
    await acceptedEventually(h, heartbeat({ session_id: session }));
    expect(await getStats(h)).toMatchObject({ heartbeats_total: 2, sessions_total: 2, by_platform: { Linux: 2 } });
  });
});

/** Posts until one is answered 202 (503 meanwhile); LIMITS.waitMs tells a store that recovers from one that never does. */
async function acceptedEventually(h: Harness, body: unknown): Promise<void> {
  const deadline = Date.now() + LIMITS.waitMs;
  for (;;) {
    const { status } = await post(h, body);
    if (status === 202) return;
    expect(status).toBe(503);
    if (Date.now() > deadline) throw new Error(`the store did not recover within ${LIMITS.waitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('collector storage', () => {
  let dir: string;
  let db: Level<string, string>;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'collector-store-test-'));
    db = new Level<string, string>(path.join(dir, 'db'));
  });

  const collectors: Collector[] = [];
  /** A collector on `db` (floor 1: these tests count single sessions), its purge timer stopped after the test. */
  async function collectorOn(target: Parameters<typeof createCollector>[0]['db'] = db, logger?: ReturnType<typeof createLogger>): Promise<Collector> {
    const collector = await createCollector({ db: target!, logger, storeOptions: { privacyMinSessions: 1 } });
    collectors.push(collector);
    return collector;
  }

  afterEach(async () => {
    for (const collector of collectors.splice(0)) collector.close();
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it(`caps each by_* map at ${MAX_VALUES} keys, counting the rest under "other"`, async () => {
    const collector = await collectorOn();
    const extra = 25;
    const session = uuidv4();
    await Promise.all(
      Array.from({ length: MAX_VALUES + extra }, (_, i) => collector.record(heartbeat({ session_id: session, server_version: `v${i}` }))),
    );
    const stats = await collector.stats();
    const counts = Object.values(stats.by_server_version);
    expect(counts).toHaveLength(MAX_VALUES);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(MAX_VALUES + extra);
    expect(stats.by_server_version.other).toBe(extra + 1);
    expect(stats.sessions_total).toBe(1);
  });

  it('rejects an invalid heartbeat given to record()', async () => {
    const collector = await collectorOn();
    await expect(collector.record(broken((b) => (b.type = 'x')) as unknown as Heartbeat)).rejects.toThrow(/type/);
    // The key's rule is the header's: a NUL or a space would be stored as given otherwise.
    for (const key of ['a\u0000b', 'with space', '']) await expect(collector.record(heartbeat(), undefined, key)).rejects.toThrow(/idempotency key/);
    expect((await collector.stats()).heartbeats_total).toBe(0);
  });

  it('starts a corrupt stored counter over at zero, with one warning, and keeps the others', async () => {
    const first = await openLevelCollectorStore(db, TEST_BOUNDS);
    const at = new Date('2026-11-27T12:00:00Z');
    for (const hb of [heartbeat(), heartbeat()]) await first.record(toCounted(hb, at));
    // The purge folds the groups into the counters first: then the counters are on disk to be broken.
    await first.purge(at);
    const stored = db.sublevel<string, string>('collector', { valueEncoding: 'utf8' });
    expect(await stored.get('c:0:')).toBe('[2,2]');
    await stored.put('c:0:', '{not json');
    const logs = captureLogs();
    const second = await openLevelCollectorStore(db, { ...TEST_BOUNDS, logger: logs.logger });
    expect(await second.stats({ asOf: '2026-11-27' })).toMatchObject({ heartbeats_total: 0, sessions_total: 0, by_platform: { Linux: 2 } });
    expect(logs.at('warn')).toHaveLength(1);
  });

  it('turns the old one-summary format into counters once, keeping every count, and writes no summary again', async () => {
    const stored = db.sublevel<string, string>('collector', { valueEncoding: 'utf8' });
    const old = {
      heartbeats_total: 5, sessions_total: 2, by_server_version: { '0.1.0': 5 }, by_platform: { Linux: 5 },
      by_environment: { production: 4, staging: 1 }, last_heartbeat_at: '2026-11-27T18:00:00.000Z',
    };
    await stored.put('aggregate', JSON.stringify(old));
    const collector = await collectorOn();
    // Per-value session counts were never stored: those buckets start below any floor, so they show as `other`.
    expect(await collector.stats()).toMatchObject({
      heartbeats_total: 5, sessions_total: 2, by_server_version: { other: 5 }, by_environment: { other: 5 }, last_heartbeat_at: old.last_heartbeat_at,
    });
    expect(await stored.get('aggregate')).toBeUndefined();
    await collector.record(heartbeat());
    expect(await stored.get('aggregate')).toBeUndefined();
    await expect((await collectorOn()).stats()).resolves.toMatchObject({ heartbeats_total: 6, sessions_total: 3 });
  });

  it('writes a few small keys per heartbeat (a group record and a session record), however many values are stored', async () => {
    const store = await openLevelCollectorStore(db, TEST_BOUNDS);
    const at = new Date('2026-11-27T12:00:00Z');
    await Promise.all(Array.from({ length: 1000 }, (_, i) => store.record(toCounted(heartbeat({ server_version: `v${i}`.padEnd(200, 'x') }), at))));
    await store.purge(at);
    const stored = db.sublevel<string, string>('collector', { valueEncoding: 'utf8' });
    const before = new Map<string, string>();
    for await (const [key, value] of stored.iterator()) before.set(key, value);
    await store.record(toCounted(heartbeat({ session_id: uuidv4() }), at));
    const changed: Array<[string, string]> = [];
    for await (const [key, value] of stored.iterator()) if (before.get(key) !== value) changed.push([key, value]);
    expect(changed.map(([key]) => key.slice(0, 2)).sort()).toEqual(['g:', 's:']);
    expect(Math.max(...changed.map(([key, value]) => key.length + value.length))).toBeLessThan(2000);
  });

  it('logs each heartbeat at debug level only', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const destination = { write: (line: string) => void lines.push(JSON.parse(line)) };
    const info = await collectorOn(db, createLogger({ level: 'info', destination }));
    const served = await listenCollector(info);
    const pool = new Pool(served.origin);
    try {
      const res = await pool.request({ method: 'POST', path: '/api/collector', headers: { 'content-type': 'application/json' }, body: JSON.stringify(heartbeat()) });
      await res.body.dump();
      expect(res.statusCode).toBe(202);
      expect(lines).toHaveLength(0);
    } finally {
      await stopServer({ served, pool });
    }
    const hb = heartbeat();
    const debug = await collectorOn(db.sublevel('second'), createLogger({ level: 'debug', destination }));
    const s2 = await listenCollector(debug);
    const p2 = new Pool(s2.origin);
    try {
      const res = await p2.request({ method: 'POST', path: '/api/collector', headers: { 'content-type': 'application/json' }, body: JSON.stringify(hb) });
      await res.body.dump();
      expect(lines).toEqual([expect.objectContaining({ level: 20, msg: 'Heartbeat received', sessionId: hb.payload.session_id })]);
    } finally {
      await stopServer({ served: s2, pool: p2 });
    }
  });
});
