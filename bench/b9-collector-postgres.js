// B9: collector ingest on PostgreSQL, 1 and 2 processes (autocannon, 50 connections in all, 10 s each), against
// a bare `pg` batched-insert loop (the database's own ceiling for the same rows) and against the LevelDB collector.
import autocannon from 'autocannon';
import pg from 'pg';
import { fmt, runIfMain } from './common.js';
import { startPostgres } from './postgres.js';
import { getJson, startServerProcess } from './serverProcess.js';

export const meta = {
  id: 'B9',
  figure: 'collector on PostgreSQL: 1 and 2 processes, 50 conns 10 s',
  target: 'total = 2xx, 0 errors (rates: see ratio)',
  needsServer: true,
};

const CONNECTIONS = 50;
const DURATION_S = 10;
const BATCH = 100;

const HEARTBEAT = JSON.stringify({
  source: 'telemetry_actor',
  type: 'heartbeat',
  payload: {
    platform: 'Linux', architecture: 'x86_64', node_version: process.versions.node, runtime: 'node',
    environment: 'production', api_version: '0.1.0', server_version: '0.1.0',
    session_id: '0b5d6a86-5f4e-4c43-9a55-3f1d2c7e8a90', session_start_timestamp: '2026-11-27T18:00:00.000Z',
  },
});

const load = (url, connections) =>
  autocannon({ url, method: 'POST', connections, duration: DURATION_S, headers: { 'content-type': 'application/json' }, body: HEARTBEAT });

/** Load on every collector at once; the req/s add up. */
async function ingest(servers) {
  const results = await Promise.all(servers.map((s) => load(`${s.url}/api/collector`, CONNECTIONS / servers.length)));
  const { heartbeats_total: total } = await getJson(`${servers[0].url}/api/collector/stats`);
  const sum = (f) => results.reduce((n, r) => n + f(r), 0);
  return {
    rate: sum((r) => r.requests.average),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    ok: sum((r) => r['2xx']),
    sent: sum((r) => r.requests.sent),
    errors: sum((r) => r.errors + r.timeouts + r.non2xx),
    total,
  };
}

/** The bare loop: the same heartbeat rows, inserted BATCH at a time in one transaction each, for DURATION_S. */
async function bareInserts(url) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('CREATE TABLE heartbeats (received_at timestamptz NOT NULL, body jsonb NOT NULL)');
  const bodies = Array.from({ length: BATCH }, () => HEARTBEAT);
  let rows = 0;
  const end = Date.now() + DURATION_S * 1000;
  while (Date.now() < end) {
    await client.query('INSERT INTO heartbeats SELECT now(), b::jsonb FROM unnest($1::text[]) AS b', [bodies]);
    rows += BATCH;
  }
  await client.end();
  return rows / DURATION_S;
}

async function collectors(env, n) {
  return Promise.all(Array.from({ length: n }, () => startServerProcess({ env: { TELEMETRY_ENABLED: 'false', TELEMETRY_COLLECTOR: 'on', ...env } })));
}

export async function measure() {
  const postgres = await startPostgres();
  const stopAll = (servers) => Promise.all(servers.map((s) => s.stop()));
  try {
    const one = await collectors({ TELEMETRY_DATABASE_URL: await postgres.database() }, 1);
    const pg1 = await ingest(one).finally(() => stopAll(one));
    const two = await collectors({ TELEMETRY_DATABASE_URL: await postgres.database() }, 2);
    const pg2 = await ingest(two).finally(() => stopAll(two));
    const level = await collectors({}, 1);
    const lv = await ingest(level).finally(() => stopAll(level));
    const bare = await bareInserts(await postgres.database());
    const exact = [pg1, pg2, lv].every((r) => r.ok <= r.total && r.total <= r.sent && r.errors === 0);
    return {
      ours: `1 proc ${fmt(pg1.rate)}/s p99 ${fmt(pg1.p99, ' ms')}; 2 procs ${fmt(pg2.rate)}/s p99 ${fmt(pg2.p99, ' ms')}`,
      baseline: `LevelDB ${fmt(lv.rate)}/s; bare pg inserts ${fmt(bare)} rows/s`,
      ratio: `${fmt(pg1.rate / lv.rate)} of LevelDB, ${fmt(pg1.rate / bare)} of bare pg, 2/1 procs ${fmt(pg2.rate / pg1.rate)}`,
      pass: exact,
      notes:
        `totals vs 2xx: pg1 ${pg1.total}/${pg1.ok}, pg2 ${pg2.total}/${pg2.ok}, level ${lv.total}/${lv.ok}; ` +
        `errors pg1 ${pg1.errors}, pg2 ${pg2.errors}, level ${lv.errors}`,
    };
  } finally {
    await postgres.stop();
  }
}

runIfMain(import.meta.url, meta, measure);
