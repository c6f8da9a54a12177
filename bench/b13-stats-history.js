// B13: what stats and export cost as history grows, on both backends: 1k against 1M sessions (each one heartbeat,
// spread over the last 30 days), written through each store's own write path. Then GET /api/collector/stats over
// HTTP (the collector in this process) and a 30-day export, medians. The values go round in fixed cycles, so both
// fleets hold every (day, value) of 30 server versions, 3 platforms, 2 architectures, 4 environments and 3 Node
// versions: the two stores differ in history (sessions, session-days), not in how many counters there are.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { fmt, median, runIfMain, tempDir } from './common.js';
import { startPostgres } from './postgres.js';

export const meta = {
  id: 'B13',
  figure: 'stats and 30-day export: 1M sessions (1M session-days) vs 1k, LevelDB and PostgreSQL',
  target: 'stats and export at 1M <= 2x at 1k, on both',
  needsServer: true,
  // Writing 2M sessions through the stores' own write paths takes minutes on two shared cores.
  limitMs: 1_500_000,
};

const SMALL = Number(process.env.BENCH_B13_SMALL ?? 1_000);
const LARGE = Number(process.env.BENCH_B13_LARGE ?? 1_000_000);
const DAYS = 30;
const WAVE = 1_000;
const READS = 7;
const DAY_MS = 86_400_000;
// Floor 1: every bucket shown. With the default floor of 5, the 1k fleet's buckets (about one session per day
// and value) fold into `other` and its answers are shorter: a smaller answer, not a cheaper read.
const OPTIONS = { idempotencyHours: 24, retentionDays: 400, privacyMinSessions: 1 };

const { createStorage } = await import('../dist/src/stores/index.js');
const { createCollector } = await import('../dist/src/collector/collector.js');
const { toCounted } = await import('../dist/src/stores/counting.js');

const cycle = (values, i) => values[i % values.length];
const VERSIONS = Array.from({ length: 30 }, (_, i) => `0.${Math.floor(i / 10)}.${i % 10}`);

/** The i-th session's heartbeat. */
function heartbeat(i) {
  return {
    source: 'telemetry_actor',
    type: 'heartbeat',
    payload: {
      platform: cycle(['Linux', 'Darwin', 'Windows'], i), architecture: cycle(['x86_64', 'arm64'], i), node_version: cycle(['20.20.2', '22.12.0', '24.1.0'], i),
      runtime: 'node', environment: cycle(['production', 'staging', 'development', 'test'], i), api_version: '0.1.0',
      server_version: cycle(VERSIONS, i), session_id: randomUUID(), session_start_timestamp: '2026-11-27T18:00:00.000Z',
    },
  };
}

/** `sessions` new sessions, one heartbeat each, day by day over the last DAYS days, WAVE at a time (a group each). */
async function fill(store, sessions) {
  const today = Math.floor(Date.now() / DAY_MS);
  for (let done = 0; done < sessions; done += WAVE) {
    const n = Math.min(WAVE, sessions - done);
    const day = today - DAYS + 1 + Math.floor((done * DAYS) / sessions);
    const at = new Date(day * DAY_MS + 43_200_000);
    await Promise.all(Array.from({ length: n }, (_, i) => store.record(toCounted(heartbeat(done + i), at))));
  }
}

/** Milliseconds of each call, after one unmeasured. */
async function timed(work) {
  await work();
  const ms = [];
  for (let i = 0; i < READS; i += 1) {
    const started = performance.now();
    await work();
    ms.push(performance.now() - started);
  }
  return median(ms);
}

/** GET /api/collector/stats of a collector served in this process. */
async function statsOverHttp(store) {
  const collector = await createCollector({ store });
  const server = http.createServer((req, res) => void collector.handleStats(req, res));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/api/collector/stats`;
  try {
    return await timed(async () => {
      const res = await fetch(url);
      if (res.status !== 200) throw new Error(`stats: HTTP ${res.status}`);
      await res.arrayBuffer();
    });
  } finally {
    collector.close();
    server.closeAllConnections();
    server.close();
  }
}

/** Fills a fresh store of one backend with `sessions`, then times stats and the export of the last 30 days. */
async function measureOne(settings, sessions) {
  const storage = await createStorage(settings);
  await storage.open();
  try {
    const store = await storage.openCollector(OPTIONS);
    const started = performance.now();
    await fill(store, sessions);
    const fillS = (performance.now() - started) / 1000;
    const today = new Date().toISOString().slice(0, 10);
    const from = new Date(Date.now() - (DAYS - 1) * DAY_MS).toISOString().slice(0, 10);
    const total = (await store.stats({ asOf: today })).sessions_total;
    if (total !== sessions) throw new Error(`stored ${total} sessions of ${sessions}`);
    return { stats: await statsOverHttp(store), export: await timed(() => store.export({ from, to: today })), fillS };
  } finally {
    await storage.close();
  }
}

async function backend(name, settingsFor) {
  const small = await measureOne(await settingsFor(), SMALL);
  const large = await measureOne(await settingsFor(), LARGE);
  return { name, small, large, statsRatio: large.stats / small.stats, exportRatio: large.export / small.export };
}

export async function measure() {
  const home = await tempDir('telemetry-bench-b13-');
  const postgres = await startPostgres();
  let n = 0;
  try {
    const level = await backend('LevelDB', async () => ({ home: home.dir, dbPath: `${home.dir}/db${(n += 1)}` }));
    const pg = await backend('PostgreSQL', async () => ({ home: home.dir, dbPath: `${home.dir}/unused`, databaseUrl: await postgres.database() }));
    const both = [level, pg];
    const line = (b) => `${b.name} stats ${fmt(b.small.stats, ' ms')} -> ${fmt(b.large.stats, ' ms')}, export ${fmt(b.small.export, ' ms')} -> ${fmt(b.large.export, ' ms')}`;
    return {
      ours: both.map(line).join('; '),
      baseline: `${SMALL} vs ${LARGE} sessions over ${DAYS} days`,
      ratio: both.map((b) => `${b.name} stats ${fmt(b.statsRatio)}, export ${fmt(b.exportRatio)}`).join('; '),
      pass: both.every((b) => b.statsRatio <= 2 && b.exportRatio <= 2),
      notes: `written through each store's write path in groups of ${WAVE}: ${both.map((b) => `${b.name} ${fmt(b.large.fillS, ' s')} for ${LARGE}`).join(', ')}`,
    };
  } finally {
    await postgres.stop();
    await home.cleanup();
  }
}

runIfMain(import.meta.url, meta, measure);
