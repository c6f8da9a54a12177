// B9: collector ingest on PostgreSQL against a bare group-commit server (bench/pg-bare.js), side by side in one
// run on one PostgreSQL: 1 and 2 processes of each, autocannon 50 connections in all, every request with a
// unique idempotency-key header. Per heartbeat: the Node CPU of the server processes and the CPU of every
// PostgreSQL process (/proc/<pid>/stat before and after), so the work is compared, not only the rate.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { postgresCpuMs } from '../test/harness/postgresProcesses.js';
import { fmt, median, runIfMain, sleep } from './common.js';
import { startPostgres } from './postgres.js';
import { cpuTimeMs, getJson, startServerProcess } from './serverProcess.js';

export const meta = {
  id: 'B9',
  figure: 'collector on PostgreSQL vs a bare group-commit server: 1 and 2 processes, 50 conns',
  target: '1 proc >= 0.7 of bare, p99 <= 10x bare; total = 2xx, 0 errors',
  needsServer: true,
  // Sixteen runs of 8 s and twenty-four server starts: more than the default limit of one figure.
  limitMs: 420_000,
};

const CONNECTIONS = 50;
const DURATION_S = Number(process.env.BENCH_B9_SECONDS ?? 8);
const PAIRS = Number(process.env.BENCH_B9_PAIRS ?? 2);
const STATS_FLUSH_MS = 1_200;
const BARE = fileURLToPath(new URL('./pg-bare.js', import.meta.url));

const HEARTBEAT = JSON.stringify({
  source: 'telemetry_actor',
  type: 'heartbeat',
  payload: {
    platform: 'Linux', architecture: 'x86_64', node_version: process.versions.node, runtime: 'node',
    environment: 'production', api_version: '0.1.0', server_version: '0.1.0',
    session_id: '0b5d6a86-5f4e-4c43-9a55-3f1d2c7e8a90', session_start_timestamp: '2026-11-27T18:00:00.000Z',
  },
});

let keys = 0;
/** Each request a new key, as senders make one per heartbeat (retries reuse it; autocannon never retries). */
function withKey(request) {
  request.headers['idempotency-key'] = `b9-${process.pid}-${(keys += 1)}`;
  return request;
}

const load = (url, connections) =>
  autocannon({
    url,
    connections,
    duration: DURATION_S,
    requests: [{ method: 'POST', path: '/api/collector', headers: { 'content-type': 'application/json' }, body: HEARTBEAT, setupRequest: withKey }],
  });

/** A bare server process on url; resolves once it listens. */
function startBare(databaseUrl) {
  return new Promise((resolve, reject) => {
    const child = fork(BARE, [databaseUrl], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`bare server exited with ${code}`)));
    child.once('message', ({ port }) =>
      resolve({
        pid: child.pid,
        url: `http://127.0.0.1:${port}`,
        stop: () => new Promise((done) => (child.removeAllListeners('exit'), child.once('exit', done), child.kill('SIGTERM'))),
      }),
    );
  });
}

const startOurs = (databaseUrl) =>
  startServerProcess({ env: { TELEMETRY_ENABLED: 'false', TELEMETRY_COLLECTOR: 'on', TELEMETRY_DATABASE_URL: databaseUrl } });

/** Load on every server at once (the rates add up), with the CPU each side spent per 2xx. */
async function ingest(servers, dataDir, commits) {
  const node0 = await Promise.all(servers.map((s) => cpuTimeMs(s.pid)));
  const pg0 = await postgresCpuMs(dataDir);
  const commits0 = await commits();
  const results = await Promise.all(servers.map((s) => load(s.url, CONNECTIONS / servers.length)));
  const pg1 = await postgresCpuMs(dataDir);
  const node1 = await Promise.all(servers.map((s) => cpuTimeMs(s.pid)));
  // A backend reports its counts to pg_stat_database at most a second late.
  await sleep(STATS_FLUSH_MS);
  const commits1 = await commits();
  const sum = (f) => results.reduce((n, r) => n + f(r), 0);
  const ok = sum((r) => r['2xx']);
  return {
    rate: sum((r) => r.requests.average),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    ok,
    sent: sum((r) => r.requests.sent),
    errors: sum((r) => r.errors + r.timeouts + r.non2xx),
    nodeUs: ((node1.reduce((a, b) => a + b, 0) - node0.reduce((a, b) => a + b, 0)) * 1000) / ok,
    pgUs: ((pg1 - pg0) * 1000) / ok,
    // Heartbeats per committed transaction: the groups' mean size (the reading of xact_commit is one of them).
    group: ok / Math.max(1, commits1 - commits0 - 1),
  };
}

/** A reader of the database's committed transactions so far (pg_stat_database, as the statistics collector has them). */
async function commitCounter(url) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const read = async () => {
    await client.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await client.query('SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()');
    return Number(rows[0].xact_commit);
  };
  return { read, close: () => client.end() };
}

/** Starts n servers of one kind on a fresh database, loads them, stops them. */
async function run(postgres, start, n) {
  const url = await postgres.database();
  // One after the other: two CREATE TABLE IF NOT EXISTS at once may collide in PostgreSQL's catalog.
  const servers = [];
  for (let i = 0; i < n; i += 1) servers.push(await start(url));
  const commits = await commitCounter(url);
  try {
    const result = await ingest(servers, postgres.dataDir, commits.read);
    if (start === startOurs) result.total = (await getJson(`${servers[0].url}/api/collector/stats`)).heartbeats_total;
    return result;
  } finally {
    await commits.close();
    await Promise.all(servers.map((s) => s.stop()));
  }
}

const line = (r) => `${fmt(r.rate)}/s p99 ${fmt(r.p99, ' ms')}, Node ${fmt(r.nodeUs)} µs + pg ${fmt(r.pgUs)} µs/hb, groups of ${fmt(r.group)}`;

/** Field by field medians of runs (rates, p99s, CPU per heartbeat); counts are summed over them. */
function summary(runs) {
  const mid = (f) => median(runs.map(f));
  const sum = (f) => runs.reduce((n, r) => n + f(r), 0);
  return { rate: mid((r) => r.rate), p99: mid((r) => r.p99), nodeUs: mid((r) => r.nodeUs), pgUs: mid((r) => r.pgUs), group: mid((r) => r.group), ok: sum((r) => r.ok), errors: sum((r) => r.errors), runs };
}

/**
 * Bare and ours with n processes each, in blocks bare-ours-ours-bare (PAIRS blocks), so drift in the machine's
 * load falls on both; each run is paired with its neighbour of the other kind, and the ratio is the median of
 * the pairs' ratios (a moment the machine was quiet for one run of a pair does not decide it).
 */
async function compare(postgres, n) {
  const bare = [];
  const ours = [];
  const ratios = [];
  for (let i = 0; i < PAIRS; i += 1) {
    const b1 = await run(postgres, startBare, n);
    const o1 = await run(postgres, startOurs, n);
    const o2 = await run(postgres, startOurs, n);
    const b2 = await run(postgres, startBare, n);
    bare.push(b1, b2);
    ours.push(o1, o2);
    ratios.push(o1.rate / b1.rate, o2.rate / b2.rate);
  }
  return { bare: summary(bare), ours: summary(ours), ratio: median(ratios), ratios, p99: median(ours.map((o, i) => o.p99 / bare[i].p99)) };
}

/** Every run of ours counted each 2xx once and at most what was sent (a request cut off at the end may have been written). */
const exact = (ours) => ours.errors === 0 && ours.runs.every((r) => r.ok <= r.total && r.total <= r.sent);
const list = (values) => values.map((v) => fmt(v)).join(', ');

export async function measure() {
  const postgres = await startPostgres();
  try {
    const one = await compare(postgres, 1);
    const two = await compare(postgres, 2);
    return {
      ours: `1 proc ${line(one.ours)}; 2 procs ${line(two.ours)}`,
      baseline: `bare 1 proc ${line(one.bare)}; 2 procs ${line(two.bare)}`,
      ratio: `1 proc ${fmt(one.ratio)} (p99 ${fmt(one.p99)}x), 2 procs ${fmt(two.ratio)} (p99 ${fmt(two.p99)}x); ours 2/1 procs ${fmt(two.ours.rate / one.ours.rate)}`,
      pass: exact(one.ours) && exact(two.ours) && one.ratio >= 0.7 && one.p99 <= 10,
      notes:
        `medians of ${2 * PAIRS} runs of ${DURATION_S} s each kind (blocks bare-ours-ours-bare); pair ratios 1 proc ${list(one.ratios)}, 2 procs ${list(two.ratios)}; ` +
        `rates 1 proc bare ${list(one.bare.runs.map((r) => r.rate))}, ours ${list(one.ours.runs.map((r) => r.rate))}; ` +
        `errors ours ${one.ours.errors}, ${two.ours.errors} (bare ${one.bare.errors}, ${two.bare.errors}); totals within [2xx, sent]: ${exact(one.ours) && exact(two.ours)}; ` +
        `CPU per heartbeat, ours/bare (1 proc): Node ${fmt(one.ours.nodeUs / one.bare.nodeUs)}, PostgreSQL ${fmt(one.ours.pgUs / one.bare.pgUs)}`,
    };
  } finally {
    await postgres.stop();
  }
}

runIfMain(import.meta.url, meta, measure);
