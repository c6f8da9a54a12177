// Fault matrix, collector side: abusive clients against the real server process's POST /api/collector.
import net from 'node:net';
import { Readable } from 'node:stream';
import { Pool, request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LIMITS } from './harness/limits.js';
import { cleanupAll, startServerProcess, type ServerProcess } from './helpers/faultServer.js';
import { sampleHeartbeat } from './helpers/fixtures.js';

const LIMIT = 16 * 1024;

const heartbeat = (payload: Record<string, unknown> = {}, top: Record<string, unknown> = {}) => sampleHeartbeat(payload, top);

/** A valid heartbeat padded with JSON whitespace to exactly `bytes` bytes. */
function paddedTo(bytes: number): string {
  const text = JSON.stringify(heartbeat());
  return text + ' '.repeat(bytes - Buffer.byteLength(text));
}

let server: ServerProcess;
beforeAll(async () => {
  server = await startServerProcess({}, { args: ['--no-telemetry'] });
});
afterAll(async () => {
  // Whatever was thrown at it: it exits 0 on SIGTERM with nothing on stderr and no error logged.
  const exit = await server.stop();
  expect(exit).toMatchObject({ code: 0, signal: null });
  expect(server.stderr()).toBe('');
  expect(server.lines.filter((line) => line.level >= 50)).toEqual([]);
  await cleanupAll();
});

async function post(body: string | Buffer | Readable, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const res = await request(`${server.url}/api/collector`, { method: 'POST', headers, body, signal: AbortSignal.timeout(LIMITS.requestMs) });
  const text = await res.body.text();
  return { status: res.statusCode, body: JSON.parse(text) as { error?: string; field?: string } };
}

const rows: Array<[name: string, body: string | Buffer, status: number, field?: string]> = [
  ['malformed JSON', '{"source":', 400, 'body'],
  ['bytes that are not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 400, 'body'],
  ['a JSON array', '[]', 400, 'body'],
  ['source of the wrong type', JSON.stringify(heartbeat({}, { source: 42 })), 400, 'source'],
  ['type not heartbeat', JSON.stringify(heartbeat({}, { type: 'ping' })), 400, 'type'],
  ['payload a string', JSON.stringify({ ...heartbeat(), payload: 'x' }), 400, 'payload'],
  ['session_id not a UUID', JSON.stringify(heartbeat({ session_id: 'nope' })), 400, 'payload.session_id'],
  ['session_start_timestamp not a date', JSON.stringify(heartbeat({ session_start_timestamp: '2026-02-30T00:00:00Z' })), 400, 'payload.session_start_timestamp'],
  ['a nested object as a field', JSON.stringify(heartbeat({ platform: { os: 'Linux' } })), 400, 'payload.platform'],
  ['an unknown top-level field', JSON.stringify(heartbeat({}, { hostname: 'box' })), 400, 'hostname'],
  ['an oversized source (65 chars)', JSON.stringify(heartbeat({}, { source: 's'.repeat(65) })), 400, 'source'],
  ['an oversized field (201 chars)', JSON.stringify(heartbeat({ environment: 'e'.repeat(201) })), 400, 'payload.environment'],
  ['exactly 16 KiB, valid', paddedTo(LIMIT), 202],
  ['16 KiB + 1 byte', paddedTo(LIMIT + 1), 413],
];
const cases = rows.map(([name, body, status, field]) => ({ name, body, status, field }));

describe.concurrent('collector abuse against the real server', () => {
  test.for(cases)('$name -> $status', async ({ body, status, field }, { expect }) => {
    const res = await post(body, { 'content-type': 'application/json' });
    expect(res.status).toBe(status);
    if (field !== undefined) expect(res.body.field).toBe(field);
    if (status === 400) expect(res.body.error).toContain(field === 'body' ? 'JSON' : field);
  });

  test('16 KiB + 1 byte sent chunked, without a length: 413', async ({ expect }) => {
    const res = await post(Readable.from([Buffer.from(paddedTo(LIMIT + 1))]), { 'content-type': 'application/json' });
    expect(res.status).toBe(413);
  });

  test.for([
    ['text/plain', { 'content-type': 'text/plain' }],
    ['no content-type', {}],
    ['gzip content-encoding', { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
  ] as const)('%s: 415', async ([, headers], { expect }) => {
    expect((await post(JSON.stringify(heartbeat()), headers)).status).toBe(415);
  });

  test('a declared 10 MB body is refused at once with 413, without reading it', async ({ expect }) => {
    const answer = await rawExchange('POST /api/collector HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 10485760\r\n\r\n{"a":');
    expect(answer.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer.closedByServer).toBe(true); // it hung up instead of waiting for the 10 MB
  });

  test('a client that hangs up mid-body leaves the server serving', async ({ expect }) => {
    const socket = net.connect(Number(new URL(server.url).port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('POST /api/collector HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"source":');
    socket.destroy();
    expect((await post(JSON.stringify(heartbeat()))).status).toBe(202);
  });

  test('a slow-loris client is cut by the 10 s header timeout while others are served', async ({ expect }) => {
    const socket = net.connect(Number(new URL(server.url).port), '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => (received += chunk)).on('error', () => {});
    const text = `POST /api/collector HTTP/1.1\r\nhost: 127.0.0.1\r\nx-drip: ${'a'.repeat(200)}`;
    const started = Date.now();
    let sent = 0;
    const drip = setInterval(() => sent < text.length && socket.write(text[sent++]!), 250);
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - started)));
    expect((await server.get('/api/health')).status).toBe(200);
    const ms = await closed;
    clearInterval(drip);
    expect(ms).toBeGreaterThanOrEqual(9_000);
    // Generous: tells "cut by the 10 s header timeout" from "kept open by the drip" (260 bytes at 4/s: 65 s).
    expect(ms).toBeLessThan(10_000 + LIMITS.waitMs);
    expect(received).toMatch(/^HTTP\/1\.1 408 Request Timeout/);
  }, LIMITS.testMs);
});

/** Writes raw bytes; what came back, and whether the server closed the connection (rather than LIMITS.requestMs passing). */
async function rawExchange(bytes: string): Promise<{ text: string; closedByServer: boolean }> {
  const socket = net.connect(Number(new URL(server.url).port), '127.0.0.1');
  let text = '';
  socket.on('data', (chunk) => (text += chunk)).on('error', () => {});
  socket.write(bytes);
  let timer: NodeJS.Timeout | undefined;
  const closedByServer = await new Promise<boolean>((resolve) => {
    socket.once('close', () => resolve(true));
    timer = setTimeout(() => resolve(false), LIMITS.requestMs);
  });
  clearTimeout(timer);
  socket.destroy();
  return { text, closedByServer };
}

describe('a burst of 1,000 requests', () => {
  test('no crash, the right codes, and every 202 counted exactly once in the stats', async () => {
    const burst = await startServerProcess({}, { args: ['--no-telemetry'] });
    const pool = new Pool(burst.url, { connections: 100 });
    const kinds = ['malformed', 'wrong type', 'wrong content-type', 'valid', 'valid'] as const;
    const expected = { malformed: 400, 'wrong type': 400, 'wrong content-type': 415, valid: 202 };
    const results = await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        const kind = kinds[i % kinds.length]!;
        const body = kind === 'malformed' ? '{"source"' : JSON.stringify(heartbeat(kind === 'wrong type' ? { session_id: 7 } : {}));
        const res = await pool.request({
          path: '/api/collector',
          method: 'POST',
          headers: { 'content-type': kind === 'wrong content-type' ? 'text/plain' : 'application/json' },
          body,
        });
        await res.body.dump();
        return { kind, status: res.statusCode };
      }),
    );
    await pool.close();
    expect(results.filter((r) => r.status !== expected[r.kind])).toEqual([]);
    const accepted = results.filter((r) => r.status === 202).length;
    expect(accepted).toBe(400);
    const stats = await burst.get<{ heartbeats_total: number; sessions_total: number }>('/api/collector/stats');
    expect(stats.body).toMatchObject({ heartbeats_total: accepted, sessions_total: accepted });
    expect((await burst.get('/api/health')).status).toBe(200);
    expect(await burst.stop()).toMatchObject({ code: 0 });
    expect(burst.stderr()).toBe('');
  });
});
