// B7-distinct: the collector's ingest with 100k distinct sessions whose versions, platforms and environments
// are spread as a fleet's are, vs the same load with one session (B7's body), in the same run. Interleaved
// (ABBA, means of the pairs), a fresh server and home for each run, so one run's markers never help the next.
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { fmt, runIfMain } from './common.js';
import { cpuTimeMs, getJson, startServerProcess } from './serverProcess.js';

const DURATION_S = Number(process.env.BENCH_B7D_SECONDS ?? 8);
const PAIRS = Number(process.env.BENCH_B7D_PAIRS ?? 2);

export const meta = {
  id: 'B7-DISTINCT',
  figure: `collector: 100k distinct sessions vs one session, autocannon 50 conns, ${PAIRS} pairs of ${DURATION_S} s`,
  target: 'ratio >= 0.85',
  needsServer: true,
};

const SESSIONS = 100_000;
const CONNECTIONS = 50;

/** Deterministic pseudo-random numbers, so every run sends the same fleet. */
function mulberry32(seed) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks from [value, weight] pairs. */
const weighted = (random, pairs) => {
  const total = pairs.reduce((sum, [, w]) => sum + w, 0);
  let r = random() * total;
  for (const [value, w] of pairs) if ((r -= w) < 0) return value;
  return pairs.at(-1)[0];
};

// A fleet upgrades slowly: most sessions run the last few releases, a long tail runs old ones.
const VERSIONS = Array.from({ length: 30 }, (_, i) => [`0.${Math.floor(i / 10)}.${i % 10}`, 1 / (30 - i) ** 1.2]);
const PLATFORMS = [['Linux', 80], ['Darwin', 12], ['Windows', 8]];
const ARCHES = [['x86_64', 70], ['arm64', 30]];
const ENVIRONMENTS = [['production', 70], ['staging', 15], ['development', 12], ['test', 3]];
const NODES = [['20.20.2', 40], ['22.12.0', 45], ['24.1.0', 15]];

function body(random, sessionId) {
  return JSON.stringify({
    source: 'telemetry_actor',
    type: 'heartbeat',
    payload: {
      platform: weighted(random, PLATFORMS),
      architecture: weighted(random, ARCHES),
      node_version: weighted(random, NODES),
      runtime: 'node',
      environment: weighted(random, ENVIRONMENTS),
      api_version: '0.1.0',
      server_version: weighted(random, VERSIONS),
      session_id: sessionId,
      session_start_timestamp: '2026-11-27T18:00:00.000Z',
    },
  });
}

/** Bodies in the order they are sent: the 100k sessions shuffled, cycled through (each session keeps its fields). */
function fleetBodies() {
  const random = mulberry32(14);
  return Array.from({ length: SESSIONS }, () => body(random, randomUUID()));
}

function load(url, bodies) {
  let next = 0;
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION_S,
    // Both runs go through setupRequest, so the load generator does the same work per request.
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length] }),
      },
    ],
  });
}

async function runOnce(bodies) {
  const server = await startServerProcess({ env: { TELEMETRY_ENABLED: 'false', TELEMETRY_COLLECTOR: 'on' } });
  try {
    const cpuBefore = await cpuTimeMs(server.pid);
    const result = await load(`${server.url}/api/collector`, bodies);
    const stats = await getJson(`${server.url}/api/collector/stats`);
    // The server's CPU (all threads, LevelDB's included) per heartbeat: what a busy machine disturbs least.
    const cpuUs = ((await cpuTimeMs(server.pid)) - cpuBefore) * 1000 / stats.heartbeats_total;
    const errors = result.errors + result.timeouts + result.non2xx;
    return { rate: result.requests.average, p99: result.latency.p99, cpuUs, errors, sessions: stats.sessions_total, total: stats.heartbeats_total };
  } finally {
    await server.stop();
  }
}

export async function measure() {
  const fleet = fleetBodies();
  const single = [fleet[0]];
  const ours = [];
  const base = [];
  for (let i = 0; i < PAIRS; i += 1) {
    const pair = i % 2 === 0 ? [[ours, fleet], [base, single]] : [[base, single], [ours, fleet]];
    for (const [into, bodies] of pair) into.push(await runOnce(bodies));
  }
  const mean = (values) => values.reduce((sum, v) => sum + v, 0) / values.length;
  const [m, b] = [mean(ours.map((r) => r.rate)), mean(base.map((r) => r.rate))];
  const errors = [...ours, ...base].reduce((sum, r) => sum + r.errors, 0);
  const ratio = m / b;
  const [mc, bc] = [mean(ours.map((r) => r.cpuUs)), mean(base.map((r) => r.cpuUs))];
  return {
    ours: `${fmt(m)} req/s, p99 ${fmt(Math.max(...ours.map((r) => r.p99)), ' ms')}`,
    baseline: `${fmt(b)} req/s, p99 ${fmt(Math.max(...base.map((r) => r.p99)), ' ms')} (one session)`,
    ratio: fmt(ratio),
    pass: ratio >= 0.85 && errors === 0,
    notes:
      `server CPU per heartbeat (all threads): distinct ${fmt(mc, ' us')}, one session ${fmt(bc, ' us')} (ratio ${fmt(bc / mc)}); ` +
      `${errors} errors; distinct runs: ${ours.map((r) => `${fmt(r.rate)} req/s, ${r.sessions} sessions of ${r.total} heartbeats`).join('; ')}; ` +
      `single runs: ${base.map((r) => `${fmt(r.rate)} req/s`).join(', ')}`,
  };
}

runIfMain(import.meta.url, meta, measure);
