// The PostgreSQL backend against a real PostgreSQL: schema, session, heartbeat lease and collector counts.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createActor, toPromise } from 'xstate';
import { createTelemetryMachine } from '../src/actor/createTelemetryMachine.js';
import { StoreUnavailableError } from '../src/errors.js';
import { createStorage, type Storage } from '../src/stores/index.js';
import { SCHEMA_VERSION } from '../src/stores/postgres/index.js';
import { toCounted } from '../src/stores/counting.js';
import { sampleHeartbeat, telemetryInput } from './helpers/fixtures.js';
import { TEST_BOUNDS } from './helpers/collectorBackends.js';
import { captureLogs } from './helpers/logs.js';
import { queryRows, usePostgres } from './helpers/postgres.js';

const server = usePostgres();
const opened: Storage[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

/** A storage on url, closed after the test. */
async function storage(url: string): Promise<Storage> {
  const s = await createStorage({ home: '/nonexistent', dbPath: '/nonexistent/db', databaseUrl: url });
  opened.push(s);
  return s;
}

describe('PostgreSQL storage', () => {
  it('is the only folder that imports pg, and is itself imported only dynamically', async () => {
    const files = (await readdir('src', { recursive: true })).filter((f) => f.endsWith('.ts')).map((f) => path.join('src', f));
    const importsPg: string[] = [];
    const importsBackend: string[] = [];
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      if (/from 'pg'/.test(text)) importsPg.push(file);
      if (/^import .*postgres\//m.test(text)) importsBackend.push(file);
    }
    expect(importsPg.every((f) => f.startsWith(path.join('src', 'stores', 'postgres')))).toBe(true);
    expect(importsPg.length).toBeGreaterThan(0);
    expect(importsBackend).toEqual([]);
  });


  it('shows where it lives without the password', async () => {
    const url = await server().freshDatabase();
    const s = await storage(url);
    expect(s.kind).toBe('postgres');
    expect(s.location).not.toContain(server().password);
    expect(s.location).toMatch(/^postgres:\/\/127\.0\.0\.1:\d+\/ta_test_/);
  });

  it('creates the schema once when ten replicas open at the same instant, and records its version', async () => {
    const url = await server().freshDatabase();
    const stores = await Promise.all(Array.from({ length: 10 }, () => storage(url)));
    expect(await stores[0]!.exists()).toBe(false);
    await Promise.all(stores.map((s) => s.open()));
    expect(await stores[0]!.exists()).toBe(true);
    const versions = await queryRows<{ version: number }>(url, 'SELECT version FROM telemetry_schema_version ORDER BY version');
    expect(versions.map((v) => v.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
    // Opening again changes nothing.
    await (await storage(url)).open();
    expect(await queryRows(url, 'SELECT version FROM telemetry_schema_version')).toHaveLength(SCHEMA_VERSION);
  });

  it('gives twenty replicas starting together one session, kept across restarts, in table configuration', async () => {
    const url = await server().freshDatabase();
    const stores = await Promise.all(Array.from({ length: 20 }, () => storage(url)));
    await Promise.all(stores.map((s) => s.open()));
    const sessions = await Promise.all(stores.map((s) => s.sessions.getOrCreate()));
    expect(new Set(sessions.map((s) => s.session_id)).size).toBe(1);
    expect(sessions.filter((s) => s.created)).toHaveLength(1);
    await Promise.all(stores.map((s) => s.close()));
    const again = await storage(url);
    await again.open();
    expect(await again.sessions.getOrCreate()).toMatchObject({ session_id: sessions[0]!.session_id, created: false });
    const rows = await queryRows<{ value: unknown }>(url, "SELECT value FROM configuration WHERE key = 'TELEMETRY_SESSION'");
    expect(rows[0]?.value).toEqual({ session_id: sessions[0]!.session_id, session_start_timestamp: sessions[0]!.session_start_timestamp });
  });

  it('forgets the session on reset and replaces a value of the wrong shape with one warning', async () => {
    const url = await server().freshDatabase();
    const s = await storage(url);
    await s.open();
    const first = await s.sessions.getOrCreate();
    expect(await s.sessions.reset()).toBe(true);
    expect(await s.sessions.read()).toBeUndefined();
    expect(await s.sessions.reset()).toBe(false);
    await queryRows(url, "INSERT INTO configuration (key, value) VALUES ('TELEMETRY_SESSION', '{\"session_id\": 1}')");
    const logs = captureLogs();
    const replaced = await s.sessions.getOrCreate({ logger: logs.logger });
    expect(replaced.created).toBe(true);
    expect(replaced.session_id).not.toBe(first.session_id);
    expect(logs.lines.filter((l) => l.msg === 'Stored telemetry session is not valid; replacing it')).toHaveLength(1);
  });

  it('lets exactly one of many claimers take the heartbeat lease, and a peer only once it is stale', async () => {
    const url = await server().freshDatabase();
    const s = await storage(url);
    await s.open();
    const lease = s.lease!;
    const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => lease.claim({ holder: `r${i}`, loopMs: 50_000, staleMs: 60_000 })));
    expect(claims.filter((c) => c.claimed)).toHaveLength(1);
    const winner = `r${claims.findIndex((c) => c.claimed)}`;
    // The holder renews at will; a peer is told how long ago the holder sent.
    expect((await lease.claim({ holder: winner, loopMs: 50_000, staleMs: 60_000 })).claimed).toBe(true);
    const peer = await lease.claim({ holder: 'other', loopMs: 50_000, staleMs: 60_000 });
    expect(peer.claimed).toBe(false);
    expect(peer.ageMs).toBeGreaterThanOrEqual(0);
    expect(peer.ageMs).toBeLessThan(60_000);
    // The holder went silent: its last heartbeat is older than staleMs, so a peer takes over.
    await queryRows(url, "UPDATE heartbeat_lease SET last_sent_at = now() - interval '2 minutes'");
    expect((await lease.claim({ holder: 'other', loopMs: 50_000, staleMs: 60_000 })).claimed).toBe(true);
    expect((await lease.claim({ holder: winner, loopMs: 50_000, staleMs: 60_000 })).claimed).toBe(false);
  });
});

describe('PostgreSQL collector store', () => {
  it('counts exactly across two stores writing concurrently, per dimension and per day', async () => {
    const url = await server().freshDatabase();
    const [a, b] = [await storage(url), await storage(url)];
    await Promise.all([a.open(), b.open()]);
    const [ca, cb] = [await a.openCollector(TEST_BOUNDS), await b.openCollector(TEST_BOUNDS)];
    const sessions = Array.from({ length: 50 }, () => sampleHeartbeat().payload.session_id);
    const day1 = new Date('2026-11-27T12:00:00Z');
    const day2 = new Date('2026-11-28T12:00:00Z');
    const writes = Array.from({ length: 400 }, (_, i) => {
      const heartbeat = sampleHeartbeat({ session_id: sessions[i % 50], server_version: i % 4 === 0 ? '0.2.0' : '0.1.0' });
      return (i % 2 === 0 ? ca : cb).record(toCounted(heartbeat, i < 100 ? day1 : day2));
    });
    await Promise.all(writes);
    const stats = await ca.stats({ asOf: '2026-11-28' });
    expect(stats).toMatchObject({
      heartbeats_total: 400,
      sessions_total: 50,
      by_server_version: { '0.1.0': 300, '0.2.0': 100 },
      by_platform: { Linux: 400 },
      by_environment: { production: 400 },
      last_heartbeat_at: day2.toISOString(),
      heartbeats_by_day: { '2026-11-27': 100, '2026-11-28': 300 },
      sessions_by_day: { '2026-11-27': 50, '2026-11-28': 50 },
      versions_by_day: { '2026-11-27': { '0.1.0': 75, '0.2.0': 25 }, '2026-11-28': { '0.1.0': 225, '0.2.0': 75 } },
    });
    expect(await cb.stats({ asOf: '2026-11-28' })).toEqual(stats);
  });

  it('keeps one counter row per value, so a heartbeat updates a few small rows rather than a summary', async () => {
    const url = await server().freshDatabase();
    const s = await storage(url);
    await s.open();
    const collector = await s.openCollector(TEST_BOUNDS);
    for (let i = 0; i < 30; i += 1) await collector.record(toCounted(sampleHeartbeat({ server_version: `v${i}`.padEnd(200, 'x') }), new Date()));
    const rows = await queryRows<{ scope: string; heartbeats: string }>(url, 'SELECT scope, heartbeats FROM collector_lifetime');
    expect(rows.filter((r) => r.scope === 'server_version')).toHaveLength(30);
    expect(rows.every((r) => Number(r.heartbeats) <= 30)).toBe(true);
  });

  it('rejects with StoreUnavailableError (never resolves) while PostgreSQL cannot be reached', async () => {
    const s = await createStorage({ home: '/x', dbPath: '/x/db', databaseUrl: `postgres://u:${server().password}@127.0.0.1:1/none` });
    const collector = await s.openCollector(TEST_BOUNDS);
    const error = await collector.record(toCounted(sampleHeartbeat(), new Date())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(String((error as Error).message)).not.toContain(server().password);
    await s.close();
  });
});

describe('the telemetry actor on PostgreSQL', () => {
  it('stops as failed, with one error line and no password, when PostgreSQL cannot be reached', async () => {
    const s = await createStorage({ home: '/x', dbPath: '/x/db', databaseUrl: `postgres://u:${server().password}@127.0.0.1:1/none` });
    const logs = captureLogs();
    const machine = createTelemetryMachine({ sessions: s.sessions, lease: s.lease, logger: logs.logger });
    const actor = createActor(machine, { input: telemetryInput('http://127.0.0.1:9/api/collector') });
    actor.start();
    actor.send({ type: 'telemetry.start' });
    expect(await toPromise(actor)).toMatchObject({ stopReason: 'failed', heartbeatsSent: 0 });
    expect(logs.at('error')).toHaveLength(1);
    expect(logs.at('error')[0]!.msg).toMatch(/^Failed to load telemetry session: .*ECONNREFUSED/);
    expect(JSON.stringify(logs.lines)).not.toContain(server().password);
    await s.close();
  });
});
