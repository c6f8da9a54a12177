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
};

const CONNECTIONS = 50;
const DURATION_S = Number(process.env.BENCH_B9_SECONDS ?? 10);
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
    // Requests cut off when the load stops may have been written after all: total lies in [2xx, sent].
    sent: sum((r) => r.requests.sent),
    errors: sum((r) => r.errors + r.timeouts + r.non2xx),
    nodeUs: ((node1.reduce((a, b) => a + b, 0) - node0.reduce((a, b) => a + b, 0)) * 1000) / ok,
    pgUs: ((pg1 - pg0) * 1000) / ok,
  };
}

/** Starts n servers of one kind on a fresh database, loads them, stops them. */
async function run(postgres, start, n) {
  const url = await postgres.database();
  const servers = await Promise.all(Array.from({ length: n }, () => start(url)));
  try {
    const result = await ingest(servers, postgres.dataDir);
    if (start === startOurs) result.total = (await getJson(`${servers[0].url}/api/collector/stats`)).heartbeats_total;
    return result;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

const line = (r) => `${fmt(r.rate)}/s p99 ${fmt(r.p99, ' ms')}, Node ${fmt(r.nodeUs)} µs + pg ${fmt(r.pgUs)} µs/hb`;

export async function measure() {
  const postgres = await startPostgres();
  try {
    const bare1 = await run(postgres, startBare, 1);
    const ours1 = await run(postgres, startOurs, 1);
    const bare2 = await run(postgres, startBare, 2);
    const ours2 = await run(postgres, startOurs, 2);
    const exact = [ours1, ours2].every((r) => r.ok <= r.total && r.total <= r.sent && r.errors === 0);
    const ratio1 = ours1.rate / bare1.rate;
    return {
      ours: `1 proc ${line(ours1)}; 2 procs ${line(ours2)}`,
      baseline: `bare 1 proc ${line(bare1)}; 2 procs ${line(bare2)}`,
      ratio: `1 proc ${fmt(ratio1)} (p99 ${fmt(ours1.p99 / bare1.p99)}x), 2 procs ${fmt(ours2.rate / bare2.rate)} (p99 ${fmt(ours2.p99 / bare2.p99)}x); ours 2/1 procs ${fmt(ours2.rate / ours1.rate)}`,
      pass: exact && ratio1 >= 0.7 && ours1.p99 <= 10 * bare1.p99,
      notes:
        `totals vs 2xx vs sent: 1 proc ${ours1.total}/${ours1.ok}/${ours1.sent}, 2 procs ${ours2.total}/${ours2.ok}/${ours2.sent}; errors ${ours1.errors}, ${ours2.errors} (bare ${bare1.errors}, ${bare2.errors}); ` +
        `CPU per heartbeat, ours/bare: Node ${fmt(ours1.nodeUs / bare1.nodeUs)}, PostgreSQL ${fmt(ours1.pgUs / bare1.pgUs)} (1 proc)`,
    };
  } finally {
    await postgres.stop();
  }
}

runIfMain(import.meta.url, meta, measure);
