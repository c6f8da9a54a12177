// B9: collector ingest on PostgreSQL against a bare group-commit server (bench/pg-bare.js), side by side in one
// run on one PostgreSQL: 1 and 2 processes of each, autocannon 50 connections in all, every request with a
// unique idempotency-key header. Per heartbeat: the Node CPU of the server processes and the CPU of every
// PostgreSQL process (/proc/<pid>/stat before and after), so the work is compared, not only the rate.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { postgresCpuMs } from '../test/harness/postgresProcesses.js';
import { fmt, runIfMain } from './common.js';
import { startPostgres } from './postgres.js';
import { cpuTimeMs, getJson, startServerProcess } from './serverProcess.js';

export const meta = {
  id: 'B9',
  figure: 'collector on PostgreSQL vs a bare group-commit server: 1 and 2 processes, 50 conns',
  target: '1 proc >= 0.7 of bare, p99 <= 10x bare; total = 2xx, 0 errors',
  needsServer: true,
  // Eight runs of 8 s and sixteen server starts: more than the default limit of one figure.
  limitMs: 240_000,
};

const CONNECTIONS = 50;
const DURATION_S = Number(process.env.BENCH_B9_SECONDS ?? 8);
const PAIRS = Number(process.env.BENCH_B9_PAIRS ?? 1);
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
async function ingest(servers, dataDir) {
  const node0 = await Promise.all(servers.map((s) => cpuTimeMs(s.pid)));
  const pg0 = await postgresCpuMs(dataDir);
  const results = await Promise.all(servers.map((s) => load(s.url, CONNECTIONS / servers.length)));
  const pg1 = await postgresCpuMs(dataDir);
  const node1 = await Promise.all(servers.map((s) => cpuTimeMs(s.pid)));
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
  };
}

/** Starts n servers of one kind on a fresh database, loads them, stops them. */
async function run(postgres, start, n) {
  const url = await postgres.database();
  // One after the other: two CREATE TABLE IF NOT EXISTS at once may collide in PostgreSQL's catalog.
  const servers = [];
  for (let i = 0; i < n; i += 1) servers.push(await start(url));
  try {
    const result = await ingest(servers, postgres.dataDir);
    if (start === startOurs) result.total = (await getJson(`${servers[0].url}/api/collector/stats`)).heartbeats_total;
    return result;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

const line = (r) => `${fmt(r.rate)}/s p99 ${fmt(r.p99, ' ms')}, Node ${fmt(r.nodeUs)} µs + pg ${fmt(r.pgUs)} µs/hb`;

/** Field by field means of runs (rates, p99s, CPU per heartbeat); counts are summed over them. */
function mean(runs) {
  const avg = (f) => runs.reduce((n, r) => n + f(r), 0) / runs.length;
  const sum = (f) => runs.reduce((n, r) => n + f(r), 0);
  return { rate: avg((r) => r.rate), p99: avg((r) => r.p99), nodeUs: avg((r) => r.nodeUs), pgUs: avg((r) => r.pgUs), ok: sum((r) => r.ok), sent: sum((r) => r.sent), errors: sum((r) => r.errors), runs };
}

/** Bare and ours with n processes each, interleaved bare-ours-ours-bare (PAIRS times) so drift in the machine's load falls on both. */
async function compare(postgres, n) {
  const bare = [];
  const ours = [];
  for (let i = 0; i < PAIRS; i += 1) {
    bare.push(await run(postgres, startBare, n));
    ours.push(await run(postgres, startOurs, n));
    ours.push(await run(postgres, startOurs, n));
    bare.push(await run(postgres, startBare, n));
  }
  return { bare: mean(bare), ours: mean(ours) };
}

/** Every run of ours counted each 2xx once and at most what was sent (a request cut off at the end may have been written). */
const exact = (ours) => ours.errors === 0 && ours.runs.every((r) => r.ok <= r.total && r.total <= r.sent);

export async function measure() {
  const postgres = await startPostgres();
  try {
    const one = await compare(postgres, 1);
    const two = await compare(postgres, 2);
    const ratio1 = one.ours.rate / one.bare.rate;
    return {
      ours: `1 proc ${line(one.ours)}; 2 procs ${line(two.ours)}`,
      baseline: `bare 1 proc ${line(one.bare)}; 2 procs ${line(two.bare)}`,
      ratio: `1 proc ${fmt(ratio1)} (p99 ${fmt(one.ours.p99 / one.bare.p99)}x), 2 procs ${fmt(two.ours.rate / two.bare.rate)} (p99 ${fmt(two.ours.p99 / two.bare.p99)}x); ours 2/1 procs ${fmt(two.ours.rate / one.ours.rate)}`,
      pass: exact(one.ours) && exact(two.ours) && ratio1 >= 0.7 && one.ours.p99 <= 10 * one.bare.p99,
      notes:
        `runs of ${DURATION_S} s, bare-ours-ours-bare x${PAIRS}; rates 1 proc bare ${one.bare.runs.map((r) => fmt(r.rate)).join(', ')}, ours ${one.ours.runs.map((r) => fmt(r.rate)).join(', ')}; ` +
        `2 procs bare ${two.bare.runs.map((r) => fmt(r.rate)).join(', ')}, ours ${two.ours.runs.map((r) => fmt(r.rate)).join(', ')}; ` +
        `errors ours ${one.ours.errors}, ${two.ours.errors} (bare ${one.bare.errors}, ${two.bare.errors}); totals within [2xx, sent]: ${exact(one.ours) && exact(two.ours)}; ` +
        `CPU per heartbeat, ours/bare (1 proc): Node ${fmt(one.ours.nodeUs / one.bare.nodeUs)}, PostgreSQL ${fmt(one.ours.pgUs / one.bare.pgUs)}`,
    };
  } finally {
    await postgres.stop();
  }
}

runIfMain(import.meta.url, meta, measure);
