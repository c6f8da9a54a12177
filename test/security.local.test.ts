// The HTTP surface against a web page in the user's browser (docs/security.md): a rebinding DNS name, a
// cross-site write, framing and sniffing, an absolute-form target. The real server (the built CLI) on 127.0.0.1;
// requests are sent as a browser would send them (Host, Origin, Sec-Fetch-*), over node:http.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCliSandbox, type ServerProcess } from './helpers/cli.js';
import { sampleHeartbeat } from './helpers/fixtures.js';
import { rawRequest, request } from './helpers/request.js';
import { LIMITS } from './harness/limits.js';
import { REFUSALS } from '../src/errors.js';
import { createHostPolicy } from '../src/server/security/hosts.js';

const cli = createCliSandbox();
let server: ServerProcess;
let port: number;
let own: string;

beforeAll(async () => {
  // Telemetry off: the privacy docs promise that nothing then writes a session.
  server = await cli.startServerProcess({ TELEMETRY_HOME: await cli.tempHome() }, { args: ['--no-telemetry'] });
  port = Number(new URL(server.url).port);
  own = `127.0.0.1:${port}`;
}, LIMITS.testMs);
afterAll(async () => {
  await server?.stop();
  await cli.cleanup();
});

const JSON_TYPE = { 'content-type': 'application/json' };
const session = async () => (await request(`${server.url}/api/telemetry/session`)).json?.session;
const totals = async () => (await request(`${server.url}/api/collector/stats`)).json?.heartbeats_total;

describe('DNS rebinding: a Host this server does not answer to is refused before any handler runs', { timeout: LIMITS.testMs }, () => {
  const reads = ['/api/telemetry/session', '/api/telemetry', '/api/events', '/api/services', '/api/collector/stats', '/', '/api/health'];

  it.each(reads)('GET %s with Host rebind.evil.example: 403 JSON naming the Host', async (path) => {
    const res = await request(`${server.url}${path}`, { headers: { host: `rebind.evil.example:${port}` } });
    expect(res.status).toBe(403);
    expect(res.json).toEqual({ error: `Host not allowed: rebind.evil.example:${port}` });
    expect(res.text).not.toMatch(/session_id/);
  });

  it('POST /api/collector is not counted, and the session is neither written nor forgotten', async () => {
    const before = await totals();
    const host = { host: `rebind.evil.example:${port}` };
    const posted = await request(`${server.url}/api/collector`, { method: 'POST', headers: { ...JSON_TYPE, ...host }, body: JSON.stringify(sampleHeartbeat()) });
    expect(posted.status).toBe(403);
    expect(await totals()).toBe(before);
    const created = await request(`${server.url}/api/telemetry/session`, { method: 'POST', headers: { ...JSON_TYPE, ...host }, body: '{}' });
    expect(created.status).toBe(403);
    expect(await session()).toBeNull();
    expect((await request(`${server.url}/api/telemetry/session`, { method: 'DELETE', headers: { ...JSON_TYPE, ...host }, body: '{}' })).status).toBe(403);
  });

  it.each([
    '127.0.0.1.nip.io',
    'localhost.evil.example',
    'rebind.evil.example',
    'localhost.',
    '127.0.0.2',
    '[::2]',
    'evil.example@127.0.0.1',
    '127.0.0.1 .evil',
  ])('the lookalike %s, with and without the port, is refused', async (name) => {
    for (const host of [`${name}:${port}`, name]) {
      const res = await request(`${server.url}/api/health`, { headers: { host } });
      expect(res.status, host).toBe(403);
    }
  });

  it.each(['localhost', 'LOCALHOST', '127.0.0.1', '[::1]'])('%s, with and without the port, is answered', async (name) => {
    for (const host of [`${name}:${port}`, name]) expect((await request(`${server.url}/api/health`, { headers: { host } })).status, host).toBe(200);
  });

  it('a request with no Host (HTTP/1.0) is refused too: it names nothing to check', async () => {
    const res = await rawRequest(port, 'GET /api/health HTTP/1.0\r\n\r\n');
    expect(res.statusLine).toMatch(/^HTTP\/1\.1 403 /);
    expect(JSON.parse(res.body)).toEqual({ error: 'Host not allowed: (none)' });
  });

  it('a 12 KB Host is refused naming its first 200 characters, not echoed whole (the inspector bridge shares the text)', async () => {
    const host = `${'a'.repeat(12_000)}.example`;
    const res = await request(`${server.url}/api/health`, { headers: { host } });
    expect(res.status).toBe(403);
    expect(res.json).toEqual({ error: `Host not allowed: ${'a'.repeat(200)}…` });
    expect(REFUSALS.hostNotAllowed(host)).toEqual({ status: 403, error: `Host not allowed: ${'a'.repeat(200)}…` });
    expect(REFUSALS.originNotAllowed(`http://${host}`).error).toHaveLength('Origin not allowed: '.length + 201);
  });
});

describe('the allowed-hosts policy (TELEMETRY_ALLOWED_HOSTS and --host)', () => {
  it('adds names, subdomains under a leading dot, and the listen host when it names one', () => {
    const policy = createHostPolicy({ listenHost: 'fd00::7', allowed: ['collector.test', '.example.test'] });
    const allowed = ['collector.test:443', 'example.test', 'a.b.example.test:8080', '[fd00::7]:4200', 'LOCALHOST:1'];
    const refused = ['x.collector.test', 'badexample.test', 'example.test.evil', '[fd00::8]', '', 'collector.test:', 'collector.test:99999x'];
    expect(allowed.filter((host) => !policy.allows(host))).toEqual([]);
    expect(refused.filter((host) => policy.allows(host))).toEqual([]);
    expect(policy.allows(undefined)).toBe(false);
  });

  it('a wildcard listen address (0.0.0.0, ::) adds no name; * allows every Host', () => {
    for (const listenHost of ['0.0.0.0', '::']) {
      const policy = createHostPolicy({ listenHost, allowed: [] });
      expect(['0.0.0.0', '[::]', '10.0.0.5'].filter((host) => policy.allows(host))).toEqual([]);
      expect(policy.allows('127.0.0.1')).toBe(true);
    }
    expect(createHostPolicy({ listenHost: '127.0.0.1', allowed: '*' }).allows('anything.example')).toBe(true);
    expect(createHostPolicy({ listenHost: 'collector.lan', allowed: [] }).allows('collector.lan:4200')).toBe(true);
  });

  it('the server reads the setting: its names are answered, others refused; * logs one warning at start', async () => {
    const listed = await cli.startServerProcess(
      { TELEMETRY_HOME: await cli.tempHome(), TELEMETRY_ALLOWED_HOSTS: 'collector.test,.example.test' },
      { args: ['--no-telemetry'] },
    );
    const status = async (host: string) => (await request(`${listed.url}/api/health`, { headers: { host } })).status;
    expect(await status('collector.test')).toBe(200);
    expect(await status('a.example.test:80')).toBe(200);
    expect(await status('rebind.evil.example')).toBe(403);
    const open = await cli.startServerProcess({ TELEMETRY_HOME: await cli.tempHome(), TELEMETRY_ALLOWED_HOSTS: '*' }, { args: ['--no-telemetry'] });
    expect((await request(`${open.url}/api/health`, { headers: { host: 'rebind.evil.example' } })).status).toBe(200);
    const warnings = open.lines.filter((line) => String(line.msg).includes('TELEMETRY_ALLOWED_HOSTS=*'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40 });
    expect(listed.lines.filter((line) => String(line.msg).includes('TELEMETRY_ALLOWED_HOSTS'))).toEqual([]);
  }, LIMITS.testMs);
});

describe('cross-site writes: the session changes only for a JSON request from no site or this one', { timeout: LIMITS.testMs }, () => {
  const url = () => `${server.url}/api/telemetry/session`;
  const evil = { origin: 'http://evil.test:8080', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' };

  it.each([
    ['a text/plain POST (a form with enctype text/plain, sendBeacon)', { ...evil, 'content-type': 'text/plain' }, '{"x":1}'],
    ['a form POST', { ...evil, 'content-type': 'application/x-www-form-urlencoded' }, 'a=1'],
    ['a multipart POST', { ...evil, 'content-type': 'multipart/form-data; boundary=x' }, '--x--\r\n'],
    ['a body-less POST', { ...evil }, undefined],
    ['a JSON POST from Origin: null (a sandboxed frame)', { ...JSON_TYPE, origin: 'null' }, '{}'],
    ['a JSON POST from another origin on this machine', { ...JSON_TYPE, origin: 'http://127.0.0.1:1' }, '{}'],
    ['a JSON POST marked cross-site, with no Origin', { ...JSON_TYPE, 'sec-fetch-site': 'cross-site' }, '{}'],
    ['a text/plain POST with no Origin', { 'content-type': 'text/plain' }, '{}'],
  ])('%s is refused, and no session is written on a server whose telemetry is off', async (_name, headers, body) => {
    const res = await request(url(), { method: 'POST', headers, body });
    expect([403, 415]).toContain(res.status);
    expect(res.json?.error).toEqual(expect.any(String));
    expect(await session()).toBeNull();
  });

  it('the CLI\'s request (JSON, no Origin) and the server\'s own page (its Origin) still work; a foreign DELETE forgets nothing', async () => {
    const made = await request(url(), { method: 'POST', headers: JSON_TYPE, body: '{}' });
    expect(made).toMatchObject({ status: 200, json: { created: true } });
    const ownPage = { ...JSON_TYPE, origin: `http://${own}`, 'sec-fetch-site': 'same-origin' };
    expect((await request(url(), { method: 'POST', headers: ownPage, body: '{}' })).json).toMatchObject({ created: false });
    const id = ((await session()) as { session_id: string }).session_id;
    const foreign: Array<Record<string, string>> = [{ origin: 'http://evil.test' }, { ...JSON_TYPE, origin: 'http://evil.test' }, { ...JSON_TYPE, 'sec-fetch-site': 'same-site' }];
    for (const headers of foreign) {
      expect((await request(url(), { method: 'DELETE', headers, body: '{}' })).status).toBe(403);
    }
    expect((await session()) as { session_id: string }).toMatchObject({ session_id: id });
    expect((await request(url(), { method: 'DELETE', headers: JSON_TYPE, body: '{}' })).json).toEqual({ reset: true });
    expect(await session()).toBeNull();
  });

  it('the event stream refuses a foreign Origin, and answers its own page', async () => {
    const foreign = await request(`${server.url}/api/events`, { headers: { origin: 'http://evil.test:8080' } });
    expect(foreign.status).toBe(403);
    expect(foreign.json).toEqual({ error: 'Origin not allowed: http://evil.test:8080' });
    const ownPage = await request(`${server.url}/api/events`, { method: 'HEAD', headers: { origin: `http://${own}` } });
    expect(ownPage.status).toBe(200);
    expect(ownPage.headers['content-type']).toBe('text/event-stream');
  });

  it('a link followed from another site still opens the console (a top-level navigation shows the user, not the page)', async () => {
    const nav = { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
    expect((await request(`${server.url}/`, { headers: nav })).status).toBe(200);
    expect((await request(`${server.url}/`, { headers: { ...nav, 'sec-fetch-dest': 'iframe' } })).status).toBe(403);
    expect((await request(`${server.url}/api/telemetry`, { headers: { ...nav, 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'script' } })).status).toBe(403);
  });
});

describe('headers: no framing, no sniffing', { timeout: LIMITS.testMs }, () => {
  it('the console forbids framing (CSP frame-ancestors and X-Frame-Options)', async () => {
    const page = await request(`${server.url}/`);
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['x-frame-options']).toBe('DENY');
  });

  it('every answer says nosniff: JSON, errors, refusals, the stream, the collector, the parser\'s own rejections', async () => {
    const answers = await Promise.all([
      request(`${server.url}/api/health`),
      request(`${server.url}/api/telemetry`),
      request(`${server.url}/nope`),
      request(`${server.url}/api/health`, { method: 'DELETE' }),
      request(`${server.url}/api/health`, { headers: { host: 'rebind.evil.example' } }),
      request(`${server.url}/api/events`, { method: 'HEAD' }),
      request(`${server.url}/api/collector`, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify(sampleHeartbeat()) }),
      request(`${server.url}/api/collector`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 404, 405, 403, 200, 202, 415]);
    expect(answers.filter((a) => a.headers['x-content-type-options'] !== 'nosniff').map((a) => a.status)).toEqual([]);
    const parser = await rawRequest(port, 'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n');
    expect(parser.statusLine).toMatch(/^HTTP\/1\.1 400 /);
    expect(parser.head).toMatch(/x-content-type-options: nosniff/i);
  });
});

describe('absolute-form request targets (RFC 9112 §3.2.2)', { timeout: LIMITS.testMs }, () => {
  it('routes the path and checks the authority in place of the Host header', async () => {
    const health = await rawRequest(port, `GET http://${own}/api/health HTTP/1.1\r\nHost: ${own}\r\nConnection: close\r\n\r\n`);
    expect(health.statusLine).toMatch(/^HTTP\/1\.1 200 /);
    expect(JSON.parse(health.body)).toEqual({ status: 'ok' });
    // The target's authority decides, whatever the Host header says.
    const query = await rawRequest(port, `GET http://localhost:${port}/api/telemetry/?x=1 HTTP/1.1\r\nHost: rebind.evil.example\r\nConnection: close\r\n\r\n`);
    expect(query.statusLine).toMatch(/^HTTP\/1\.1 200 /);
    const rebound = await rawRequest(port, `GET http://rebind.evil.example:${port}/api/health HTTP/1.1\r\nHost: ${own}\r\nConnection: close\r\n\r\n`);
    expect(rebound.statusLine).toMatch(/^HTTP\/1\.1 403 /);
    expect(JSON.parse(rebound.body)).toEqual({ error: `Host not allowed: rebind.evil.example:${port}` });
  });
});
