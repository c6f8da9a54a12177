// A collector reachable from the internet (docs/security.md): reads need the read token, heartbeats are rate
// limited per client, start-up refuses to expose the stats by accident, and no client address is kept.
// "Beyond loopback" is reached here through TELEMETRY_TRUST_PROXY (the server still listens on 127.0.0.1 only).
import { readdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Level } from 'level';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessOf, ROUTES } from '../src/server/routes.js';
import { checkExposure, isExposed, isLoopbackHost } from '../src/server/security/exposure.js';
import { createGuard } from '../src/server/security/guard.js';
import { clientKey, createRateLimiter } from '../src/server/security/rateLimit.js';
import { createReadAccess, STREAM_TICKET_MS } from '../src/server/security/readToken.js';
import { createCliSandbox, type ServerProcess } from './helpers/cli.js';
import { sampleHeartbeat } from './helpers/fixtures.js';
import { captureLogs } from './helpers/logs.js';
import { request, type RawAnswer } from './helpers/request.js';
import { LIMITS } from './harness/limits.js';
import { listenLocal } from './harness/net.js';

const TOKEN = 'read-token-for-the-tests-0123456789';
const BEARER = { authorization: `Bearer ${TOKEN}` };
const JSON_TYPE = { 'content-type': 'application/json' };
// Client addresses that appear nowhere else (loopback, as every address in the tests): the no-IP check greps for them.
const CLIENT_A = '127.84.19.201';
const CLIENT_B = '127.84.19.202';
const SOCKET_CLIENT = '127.84.19.203';
const ADDRESSES = [CLIENT_A, CLIENT_B, SOCKET_CLIENT];

const cli = createCliSandbox();
let server: ServerProcess;
let env: Record<string, string>;
const postHeartbeat = (headers: Record<string, string> = {}, localAddress?: string) =>
  request(`${server.url}/api/collector`, { method: 'POST', headers: { ...JSON_TYPE, ...headers }, body: JSON.stringify(sampleHeartbeat()), localAddress });

beforeAll(async () => {
  env = {
    TELEMETRY_HOME: await cli.tempHome(),
    TELEMETRY_TRUST_PROXY: 'true',
    TELEMETRY_READ_TOKEN: TOKEN,
    // One a 10 minutes: no heartbeat comes back during the test, however slow the machine.
    TELEMETRY_RATE_LIMIT: '0.1',
    TELEMETRY_RATE_BURST: '3',
    TELEMETRY_LOG_LEVEL: 'debug',
  };
  server = await cli.startServerProcess(env);
}, LIMITS.testMs);
afterAll(async () => {
  await server?.stop();
  await cli.cleanup();
});

describe('reads need TELEMETRY_READ_TOKEN', { timeout: LIMITS.testMs }, () => {
  const reads = [ROUTES.telemetry, ROUTES.services, ROUTES.collectorStats, ROUTES.session, ROUTES.events];

  it.each(reads)('GET %s: 401 without the token or with a wrong one, 200 with it', async (route) => {
    const method = route === ROUTES.events ? 'HEAD' : 'GET';
    const wrong: Array<Record<string, string>> = [{}, { authorization: 'Bearer not-the-token' }, { authorization: `Basic ${TOKEN}` }, { authorization: TOKEN }];
    for (const headers of wrong) {
      const res = await request(`${server.url}${route}`, { method, headers });
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
    }
    expect((await request(`${server.url}${route}`, { method, headers: BEARER })).status).toBe(200);
  });

  it('health checks, the console\'s files and the heartbeats themselves need none', async () => {
    for (const route of [ROUTES.health, ROUTES.console, ROUTES.consoleScript, ROUTES.consoleStyle, ROUTES.consoleDiagram]) {
      expect((await request(`${server.url}${route}`)).status, route).toBe(200);
    }
    expect((await postHeartbeat({ 'x-forwarded-for': '127.84.19.250' })).status).toBe(202);
  });

  it('the event stream also opens with a one-time ticket, which the token buys (EventSource sends no header)', async () => {
    expect((await request(`${server.url}${ROUTES.eventsTicket}`, { method: 'POST' })).status).toBe(401);
    const { ticket } = (await request(`${server.url}${ROUTES.eventsTicket}`, { method: 'POST', headers: BEARER })).json as { ticket: string };
    expect(ticket).toMatch(/^[\w-]{24}$/);
    const first = await request(`${server.url}${ROUTES.events}?ticket=${ticket}`, { method: 'HEAD' });
    expect(first.status).toBe(200);
    expect((await request(`${server.url}${ROUTES.events}?ticket=${ticket}`, { method: 'HEAD' })).status).toBe(401);
    expect((await request(`${server.url}${ROUTES.events}?ticket=made-up`, { method: 'HEAD' })).status).toBe(401);
  });

  it('a ticket is good for STREAM_TICKET_MS only; the no-token server takes any stream', () => {
    let now = 0;
    const access = createReadAccess({ token: TOKEN, now: () => now });
    const req = { headers: {} } as http.IncomingMessage;
    const late = access.ticket();
    now += STREAM_TICKET_MS;
    expect(access.allowsStream(req, `ticket=${late}`)).toBe(false);
    expect(access.allowsStream(req, `ticket=${access.ticket()}`)).toBe(true);
    const open = createReadAccess({ token: undefined });
    expect([open.required, open.allows(req), open.allowsStream(req, '')]).toEqual([false, true, true]);
  });

  it('the CLI sends the token it is given; without it, one line says what to set', async () => {
    const status = await cli.runCli(['status', '--json'], env);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ server: server.url, state: expect.any(String) });
    const reset = await cli.runCli(['reset'], env);
    expect(reset).toMatchObject({ code: 0 });
    const without = await cli.runCli(['status'], { ...env, TELEMETRY_READ_TOKEN: undefined });
    expect(without.code).toBe(1);
    expect(without.stderr).toBe(`telemetry-actor: The server at ${server.url} (pid ${server.pid}) needs its read token: set TELEMETRY_READ_TOKEN for this command too\n`);
  }, LIMITS.testMs);

  it('every route not listed as public is a read: a route added later is private by default', () => {
    for (const future of ['/api/collector/export', '/metrics', '/api/anything']) expect(accessOf(future, 'GET')).toBe('read');
    expect(accessOf(ROUTES.collector, 'POST')).toBe('send');
    expect(accessOf(ROUTES.collector, 'GET')).toBe('read');
    expect(accessOf(ROUTES.session, 'GET')).toBe('read');
    expect(accessOf(ROUTES.session, 'DELETE')).toBe('local');
  });
});

describe('a per-client rate limit on POST /api/collector', { timeout: LIMITS.testMs }, () => {
  it('a client past its burst gets 429 JSON with Retry-After; another client, and the next hop, are not held back', async () => {
    const a = { 'x-forwarded-for': CLIENT_A };
    const codes: number[] = [];
    for (let i = 0; i < 3; i += 1) codes.push((await postHeartbeat(a)).status);
    const refused: RawAnswer = await postHeartbeat(a);
    expect(codes).toEqual([202, 202, 202]);
    expect(refused.status).toBe(429);
    // 0.1 a minute: one heartbeat is back in 600 s at most.
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(600);
    expect(refused.json).toEqual({ error: expect.stringMatching(/^Too many heartbeats from this client; retry in \d+ s$/) });
    expect((await postHeartbeat({ 'x-forwarded-for': CLIENT_B })).status).toBe(202);
    // Only the first hop counts (what the proxy saw); the rest is the client's own say.
    expect((await postHeartbeat({ 'x-forwarded-for': `${CLIENT_B}, ${CLIENT_A}` })).status).toBe(202);
    // Without the header, the socket's address is the client.
    expect((await postHeartbeat({}, SOCKET_CLIENT)).status).toBe(202);
    const line = await server.waitForLine((l) => l.msg === 'Rate limit reached; heartbeats answered 429');
    expect(line).toMatchObject({ level: 40, perMinute: 0.1, burst: 3 });
  });

  it('counts the socket\'s address when no proxy is trusted: a forged X-Forwarded-For buys no fresh bucket', async () => {
    const logs = captureLogs();
    // Listens on 127.0.0.1 only; the guard is told 0.0.0.0, as on a server reachable from the internet.
    const guard = createGuard({ host: '0.0.0.0', allowedHosts: [], trustProxy: false, readToken: TOKEN, rateLimit: 0.1, rateBurst: 2 }, logs.logger);
    const probe = http.createServer((req, res) => {
      const target = guard.admit(req, res);
      if (target !== undefined && guard.authorize(req, res, 'send', target)) res.writeHead(202).end();
    });
    await listenLocal(probe);
    const url = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/api/collector`;
    try {
      const post = (localAddress: string, forwarded: string) =>
        request(url, { method: 'POST', headers: { 'x-forwarded-for': forwarded }, body: '{}', localAddress }).then((r) => r.status);
      const first = [await post('127.0.0.2', '127.1.0.1'), await post('127.0.0.2', '127.1.0.2'), await post('127.0.0.2', '127.1.0.3')];
      expect(first).toEqual([202, 202, 429]);
      expect(await post('127.0.0.3', '127.1.0.1')).toBe(202);
      expect(JSON.stringify(logs.lines)).not.toMatch(/127\.(0\.0\.[23]|1\.0\.\d)/);
    } finally {
      await new Promise((resolve) => probe.close(resolve));
    }
  });

  it('the bucket refills at the rate, and the buckets held never pass their bound', () => {
    let now = 0;
    const limiter = createRateLimiter({ perMinute: 6, burst: 2, maxClients: 100, now: () => now });
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 10]);
    now += 5_000;
    expect(limiter.take('a')).toBe(5);
    now += 5_000;
    expect(limiter.take('a')).toBe(0);
    for (let i = 0; i < 10_000; i += 1) limiter.take(`client-${i}`);
    expect(limiter.size()).toBe(100);
  });

  it('keys an IPv6 client by its /64 and an IPv4-mapped one as IPv4; a forwarded port is dropped', () => {
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe(clientKey('2001:db8:1:2::ffff'));
    expect(clientKey('2001:db8:1:2::1')).not.toBe(clientKey('2001:db8:1:3::1'));
    expect(clientKey('::ffff:127.84.19.9')).toBe('127.84.19.9');
    expect(clientKey('127.84.19.9:4711')).toBe('127.84.19.9');
    expect(clientKey('[2001:db8::1]:4711')).toBe('2001:db8:0:0::/64');
    expect(clientKey('x'.repeat(500))).toHaveLength(64);
  });
});

describe('start-up beyond loopback', { timeout: LIMITS.testMs }, () => {
  it('with the collector on and no token: refused in one line, exit 2, unless TELEMETRY_PUBLIC_STATS=true', async () => {
    const home = await cli.tempHome();
    const refused = await cli.runCli(['server'], { TELEMETRY_HOME: home, TELEMETRY_TRUST_PROXY: 'true' });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      'telemetry-actor: Refusing to serve the collector behind a proxy (TELEMETRY_TRUST_PROXY) with no TELEMETRY_READ_TOKEN: ' +
        'anyone could read its stats; set TELEMETRY_READ_TOKEN, or TELEMETRY_PUBLIC_STATS=true if they are meant to be public\n',
    );
    expect(refused.stdout).toBe('');
    const open = await cli.startServerProcess({ TELEMETRY_HOME: home, TELEMETRY_TRUST_PROXY: 'true', TELEMETRY_PUBLIC_STATS: 'true' }, { args: ['--no-telemetry'] });
    expect((await request(`${open.url}${ROUTES.collectorStats}`)).status).toBe(200);
  });

  it('the rule over listen addresses: loopback needs nothing, anything else (a wildcard too) needs a token or the word', () => {
    expect(['127.0.0.1', '127.8.9.10', 'localhost', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1'].filter((h) => !isLoopbackHost(h))).toEqual([]);
    expect(['0.0.0.0', '::', '10.0.0.5', 'fd00::7', 'collector.example', '::2'].filter((h) => isLoopbackHost(h))).toEqual([]);
    const base = { host: '0.0.0.0', trustProxy: false, collector: true, readToken: undefined, publicStats: false };
    expect(() => checkExposure(base)).toThrow(/^Refusing to serve the collector on 0\.0\.0\.0 with no TELEMETRY_READ_TOKEN/);
    expect(() => checkExposure({ ...base, host: '::' })).toThrow(expect.objectContaining({ exitCode: 2 }));
    for (const fine of [{ readToken: TOKEN }, { publicStats: true }, { collector: false }, { host: '127.0.0.1' }]) {
      expect(() => checkExposure({ ...base, ...fine }), JSON.stringify(fine)).not.toThrow();
    }
    expect(isExposed({ host: '127.0.0.1', trustProxy: true })).toBe(true);
  });
});

/** Every key and value of a LevelDB folder, as text, and the raw bytes of each of its files. */
async function databaseText(dbPath: string): Promise<string> {
  const files = await readdir(dbPath);
  const raw = await Promise.all(files.map((file) => readFile(path.join(dbPath, file), 'latin1')));
  const db = new Level<string, string>(dbPath, { valueEncoding: 'utf8', createIfMissing: false });
  await db.open();
  try {
    const entries: string[] = [];
    for await (const [key, value] of db.iterator()) entries.push(key, value);
    return [...raw, ...entries].join('\n');
  } finally {
    await db.close();
  }
}

describe('the collector keeps no client address', { timeout: LIMITS.testMs }, () => {
  it('neither in its database, its logs (debug level) nor its stats', async () => {
    // The heartbeats above came from every client address; a few more, then the server stops and flushes.
    for (const [headers, from] of [[{ 'x-forwarded-for': CLIENT_B }], [{}, SOCKET_CLIENT]] as const) await postHeartbeat(headers, from);
    const stats = await request(`${server.url}${ROUTES.collectorStats}`, { headers: BEARER });
    expect(stats.json?.heartbeats_total).toBeGreaterThanOrEqual(6);
    expect(server.lines.some((line) => line.msg === 'Heartbeat received')).toBe(true);
    expect(await server.stop()).toMatchObject({ code: 0 });
    const haystacks = { stats: stats.text, logs: `${server.stdout()}\n${server.stderr()}`, database: await databaseText(path.join(env.TELEMETRY_HOME!, 'db')) };
    for (const [where, text] of Object.entries(haystacks)) {
      expect(text.length, where).toBeGreaterThan(100);
      expect(ADDRESSES.filter((address) => text.includes(address)), where).toEqual([]);
    }
  });
});
