// A collector fleet behind a proxy keeps working with the internet's defences on (docs/security.md): two
// processes on one real PostgreSQL behind a round-robin reverse proxy that passes the public Host on and
// overwrites X-Forwarded-For with the address it sees. Every address is loopback: the clients bind 127.0.0.x.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createCliSandbox, type ServerProcess } from './helpers/cli.js';
import { sampleHeartbeat } from './helpers/fixtures.js';
import { queryRows, usePostgres } from './helpers/postgres.js';
import { request } from './helpers/request.js';
import { LIMITS } from './harness/limits.js';
import { listenLocal } from './harness/net.js';

const TOKEN = 'fleet-read-token-0123456789abcdef';
const BURST = 4;
// Client addresses found nowhere else: the database is searched for them at the end.
const CLIENTS = Array.from({ length: 6 }, (_, i) => `127.84.20.${11 + i}`);

const postgres = usePostgres();
const cli = createCliSandbox();
afterAll(() => cli.cleanup());

/** A reverse proxy on 127.0.0.1 that sends each request to the next backend in turn, as a load balancer does. */
async function startProxy(backends: string[]): Promise<{ url: string; close(): Promise<void> }> {
  let next = 0;
  const proxy = http.createServer((req, res) => {
    const backend = new URL(backends[next++ % backends.length]!);
    const headers = { ...req.headers, host: 'collector.test', 'x-forwarded-for': req.socket.remoteAddress ?? '' };
    const upstream = http.request({ host: backend.hostname, port: backend.port, method: req.method, path: req.url, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await listenLocal(proxy);
  const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  return { url, close: () => new Promise((resolve) => (proxy.closeAllConnections(), proxy.close(() => resolve()))) };
}

describe('a collector fleet behind a proxy', () => {
  it('takes heartbeats from many clients, limits each, keeps its stats private, and stores no address', async () => {
    const databaseUrl = await postgres().freshDatabase();
    const env = async () => ({
      TELEMETRY_HOME: await cli.tempHome(),
      TELEMETRY_DATABASE_URL: databaseUrl,
      TELEMETRY_COLLECTOR: 'on',
      TELEMETRY_READ_TOKEN: TOKEN,
      TELEMETRY_TRUST_PROXY: 'true',
      TELEMETRY_ALLOWED_HOSTS: 'collector.test',
      TELEMETRY_RATE_BURST: String(BURST),
      // Next to no refill (one an hour and a half): the count below holds on however slow a machine.
      TELEMETRY_RATE_LIMIT: '0.01',
      TELEMETRY_LOG_LEVEL: 'debug',
    });
    const servers: ServerProcess[] = await Promise.all([env(), env()].map(async (e) => cli.startServerProcess(await e, { args: ['--no-telemetry'], timeoutMs: 2 * LIMITS.startMs })));
    const proxy = await startProxy(servers.map((s) => s.url));
    try {
      const post = (from: string) =>
        request(`${proxy.url}/api/collector`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(sampleHeartbeat()), localAddress: from });
      // Every client sends two heartbeats: all are taken.
      const first = await Promise.all(CLIENTS.flatMap((from) => [post(from), post(from)]));
      expect(first.map((r) => r.status)).toEqual(CLIENTS.flatMap(() => [202, 202]));
      // One client keeps sending: each process holds its own bucket, so the fleet lets 2 x BURST through at most.
      const flood: number[] = [];
      for (let i = 0; i < 2 * BURST + 2; i += 1) flood.push((await post(CLIENTS[0]!)).status);
      const taken = 2 + flood.filter((s) => s === 202).length;
      expect(flood).toContain(429);
      expect(taken).toBeLessThanOrEqual(2 * BURST);
      // Reads through the proxy need the token; the health check does not.
      expect((await request(`${proxy.url}/api/health`)).status).toBe(200);
      expect((await request(`${proxy.url}/api/collector/stats`)).status).toBe(401);
      const stats = await request(`${proxy.url}/api/collector/stats`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(stats.json?.heartbeats_total).toBe(2 * CLIENTS.length - 2 + taken);
      // A Host the fleet was not given is refused.
      expect((await request(`${servers[0]!.url}/api/health`, { headers: { host: 'rebind.evil.example' } })).status).toBe(403);

      const logs = servers.map((s) => `${s.stdout()}\n${s.stderr()}`).join('\n');
      expect(logs).toContain('Heartbeat received');
      expect(CLIENTS.filter((address) => `${logs}\n${stats.text}`.includes(address))).toEqual([]);
      const dump = await databaseDump(databaseUrl);
      expect(dump.length).toBeGreaterThan(1_000);
      expect(CLIENTS.filter((address) => dump.includes(address))).toEqual([]);
    } finally {
      await proxy.close();
    }
  }, 3 * LIMITS.testMs);
});

/** Every row of every table in the public schema, as JSON text. */
async function databaseDump(url: string): Promise<string> {
  const tables = await queryRows<{ tablename: string }>(url, "select tablename from pg_tables where schemaname = 'public'");
  const rows = await Promise.all(tables.map(async ({ tablename }) => JSON.stringify(await queryRows(url, `select * from "${tablename}"`))));
  return rows.join('\n');
}
