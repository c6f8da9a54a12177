// What a client can send the collector, tried as an attacker would (issue 19), over real HTTP on 127.0.0.1 and on
// both backends (LevelDB in a temp folder, a real PostgreSQL): a control character is 400 naming the field and
// never reaches a store or fails the heartbeats grouped with it; `__proto__` and `constructor` are ordinary
// values; an endless body is cut soon after 16 KiB; every refusal is counted by reason on /metrics.
import net from 'node:net';
import { Pool } from 'undici';
import { v4 as uuidv4 } from 'uuid';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CollectorStats } from '../src/collector/collector.js';
import { MAX_BODY_BYTES } from '../src/httpJson.js';
import { sampleHeartbeat } from './helpers/fixtures.js';
import { openCollectorApi, type BackendKind, type CollectorApi } from './helpers/collectorApi.js';
import { usePostgres } from './helpers/postgres.js';
import { parseMetrics, sampleValue } from './helpers/prometheus.js';
import { LIMITS } from './harness/limits.js';

const postgres = usePostgres();
const databaseUrl = () => postgres().freshDatabase();

interface Answer {
  status: number;
  json: Record<string, unknown>;
}

describe.each<BackendKind>(['level', 'postgres'])('the collector on %s', (kind) => {
  let api: CollectorApi;
  let pool: Pool;

  beforeEach(async () => {
    // Floor 1: every value is shown by itself, so what a test sends is what it reads back (the floor has its own tests).
    api = await openCollectorApi(kind, { databaseUrl, privacyMinSessions: 1 });
    pool = new Pool(api.origin, { connections: 20 });
  });
  afterEach(async () => {
    await pool.close();
    await api.close();
  });

  /** POSTs a body: an object is sent as JSON, a string as it is (so a test can write keys an object literal cannot). */
  async function post(body: unknown): Promise<Answer> {
    const res = await pool.request({
      method: 'POST',
      path: '/api/collector',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
  }

  async function stats(): Promise<CollectorStats> {
    const res = await pool.request({ method: 'GET', path: '/api/collector/stats' });
    expect(res.statusCode).toBe(200);
    // Parsed as any client parses it: JSON.parse keeps `__proto__` as an own key.
    return JSON.parse(await res.body.text()) as CollectorStats;
  }

  it('a NUL in environment is 400 naming the field, and the 40 heartbeats grouped with it are all counted', async () => {
    const ordinary = Array.from({ length: 40 }, () => post(sampleHeartbeat()));
    const [bad, ...rest] = await Promise.all([post(sampleHeartbeat({ environment: '\u0000' })), ...ordinary]);
    expect(bad).toMatchObject({ status: 400, json: { field: 'payload.environment' } });
    expect(rest.map((answer) => answer.status)).toEqual(Array(40).fill(202));
    expect(await stats()).toMatchObject({ heartbeats_total: 40, sessions_total: 40, by_environment: { production: 40 } });
  });

  it('a NUL elsewhere is refused, never counted as the text before it', async () => {
    expect(await post(sampleHeartbeat({ server_version: '1\u00002' }))).toMatchObject({ status: 400, json: { field: 'payload.server_version' } });
    expect(await post(sampleHeartbeat({ platform: '\u0000\u0000x' }))).toMatchObject({ status: 400, json: { field: 'payload.platform' } });
    expect(await post(sampleHeartbeat({ architecture: 'x86_64\u007f' }))).toMatchObject({ status: 400, json: { field: 'payload.architecture' } });
    expect(await post(sampleHeartbeat({}, { source: 'telemetry\u0000actor' }))).toMatchObject({ status: 400, json: { field: 'source' } });
    expect(await stats()).toMatchObject({ heartbeats_total: 0, by_server_version: {}, by_platform: {} });
  });

  it('`__proto__` and `constructor` are ordinary values and field names, in the answers and the stats', async () => {
    for (let i = 0; i < 2; i += 1) {
      expect((await post(sampleHeartbeat({ server_version: '__proto__', platform: 'constructor', environment: '__proto__' }))).status).toBe(202);
      expect((await post(sampleHeartbeat({ server_version: 'constructor', platform: '__proto__', environment: 'toString' }))).status).toBe(202);
    }
    // Field names from another version: accepted like any extra scalar field (and not counted).
    const named = JSON.stringify(sampleHeartbeat()).replace('"platform"', '"__proto__":"x","constructor":1,"platform"');
    expect((await post(named)).status).toBe(202);
    const polluting = JSON.stringify(sampleHeartbeat()).replace('"platform"', '"__proto__":{"polluted":true},"platform"');
    expect(await post(polluting)).toMatchObject({ status: 400, json: { field: 'payload.__proto__' } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();

    const seen = await stats();
    const sorted = (map: Record<string, number>) => Object.entries(map).sort(([a], [b]) => (a < b ? -1 : 1));
    expect(seen.heartbeats_total).toBe(5);
    expect(sorted(seen.by_server_version)).toEqual([['0.1.0', 1], ['__proto__', 2], ['constructor', 2]]);
    expect(sorted(seen.by_platform)).toEqual([['Linux', 1], ['__proto__', 2], ['constructor', 2]]);
    expect(sorted(seen.by_environment)).toEqual([['__proto__', 2], ['production', 1], ['toString', 2]]);
  });
});

describe('a body past the limit', () => {
  let api: CollectorApi;
  beforeAll(async () => void (api = await openCollectorApi('level')));
  afterAll(() => api?.close());

  /** Two reads of libuv's 64 KiB buffer: what may already be read when the limit is found. */
  const READ_SLACK = 128 * 1024;
  /** Bounds the client's loop: far more than the kernel buffers between the two ends can hold. */
  const MOST_SENT = 64 * 1024 * 1024;

  interface Streamed {
    received: string;
    /** What the client wrote before the connection ended. */
    sent: number;
    /** How it ended: `end` (the server's FIN) or the socket error (ECONNRESET, EPIPE). */
    ending: string;
    /** Bytes the server read from this connection, headers included. */
    serverRead: number;
  }

  /** Streams a body without pause (reading what comes back as it writes) until the server closes the connection. */
  function streamEndlessly(head: string, chunk: Buffer): Promise<Streamed> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(api.port, '127.0.0.1');
      let received = '';
      let sent = 0;
      let ending: string | undefined;
      const timer = setTimeout(() => reject(new Error(`the server kept the connection open for ${LIMITS.waitMs} ms`)), LIMITS.waitMs);
      socket.setEncoding('latin1').on('data', (text: string) => (received += text));
      socket.on('end', () => (ending ??= 'end'));
      socket.on('error', (error: NodeJS.ErrnoException) => (ending ??= error.code ?? error.message));
      socket.on('close', () => {
        clearTimeout(timer);
        const serverSide = api.serverSockets.at(-1);
        resolve({ received, sent, ending: ending ?? 'close', serverRead: serverSide?.bytesRead ?? -1 });
      });
      const pump = (): void => {
        while (!socket.destroyed && sent < MOST_SENT) {
          sent += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
      };
      socket.once('connect', () => {
        socket.write(head);
        pump();
      });
    });
  }

  const heads = {
    chunked: 'POST /api/collector HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
    declared: `POST /api/collector HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${MOST_SENT * 2}\r\n\r\n`,
  };
  const data = Buffer.alloc(4096, 0x20);

  it.for([
    ['chunked, without a length', heads.chunked, Buffer.concat([Buffer.from('1000\r\n'), data, Buffer.from('\r\n')])],
    ['with a declared length of 128 MB', heads.declared, data],
  ] as const)('%s, streamed without pause: read no further than soon after 16 KiB, answered 413, closed', async ([, head, chunk]) => {
    const result = await streamEndlessly(head, chunk);
    expect(result.serverRead).toBeGreaterThan(0);
    expect(result.serverRead).toBeLessThan(MAX_BODY_BYTES + READ_SLACK);
    expect(result.sent).toBeLessThan(MOST_SENT);
    // A client that reads while it writes sees the answer; on Linux the connection then ends in a reset
    // (EPIPE or ECONNRESET), since the bytes it was still sending were never read.
    expect(result.received).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n/);
    expect(result.received).toContain('{"error":"Body larger than 16384 bytes"}');
    expect(['end', 'EPIPE', 'ECONNRESET']).toContain(result.ending);
  });

  it.for([
    ['a Host not allowed', 'POST /api/collector HTTP/1.1\r\nHost: rebind.evil.example\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n', 403],
    ['an unknown path', 'POST /api/nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n', 404],
    ['a wrong method', 'PUT /api/collector HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n', 405],
  ] as const)('%s, with a body streamed without pause: refused, and the body is not read on (the connection closes)', async ([, head, status]) => {
    const chunk = Buffer.concat([Buffer.from('1000\r\n'), data, Buffer.from('\r\n')]);
    const result = await streamEndlessly(head, chunk);
    // Before: the refusal was answered, then Node read (and dropped) the endless body on a kept-alive connection.
    expect(result.serverRead).toBeLessThan(MAX_BODY_BYTES + READ_SLACK);
    expect(result.received).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
  });
});

describe('refusals on /metrics', () => {
  let api: CollectorApi;
  beforeAll(async () => void (api = await openCollectorApi('level')));
  afterAll(() => api?.close());

  it('each refused heartbeat is counted by reason: 400, 413, 415, 422 (and 429, counted by the rate limit)', async () => {
    const post = async (body: string, headers: Record<string, string> = {}) =>
      (await fetch(`${api.origin}/api/collector`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })).status;
    const hb = sampleHeartbeat();
    expect(await post('{"source":')).toBe(400);
    expect(await post(JSON.stringify(sampleHeartbeat({ platform: '\u0000' })))).toBe(400);
    expect(await post(JSON.stringify(hb), { 'content-type': 'text/plain' })).toBe(415);
    expect(await post(' '.repeat(MAX_BODY_BYTES + 1))).toBe(413);
    expect(await post(JSON.stringify(hb), { 'idempotency-key': 'k-1' })).toBe(202);
    expect(await post(JSON.stringify({ ...hb, source: 'another' }), { 'idempotency-key': 'k-1' })).toBe(422);
    api.collector.countRejection(429);
    const res = await fetch(`${api.origin}/metrics`);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const families = parseMetrics(await res.text());
    const rejected = (reason: string) => sampleValue(families, 'telemetry_collector_heartbeats_rejected_total', { reason });
    expect(['invalid', 'too_large', 'unsupported_media_type', 'idempotency_conflict', 'rate_limited', 'error', 'unavailable'].map(rejected)).toEqual([2, 1, 1, 1, 1, 0, 0]);
    expect(sampleValue(families, 'telemetry_collector_heartbeats_total')).toBe(1);
  });
});
