// B13: what stats and export cost as history grows, on both backends: 1k against 1M sessions (each one heartbeat,
// spread over the last 30 days), written through each store's own write path. Then GET /api/collector/stats over
// HTTP (the collector in this process) and a 30-day export, the two stores' reads alternated, medians of wall
// and of this process's CPU time. The values go round in fixed cycles, so both
// fleets hold every (day, value) of 30 server versions, 3 platforms, 2 architectures, 4 environments and 3 Node
// versions: the two stores differ in history (sessions, session-days), not in how many counters there are.
import http from 'node:http';
import { fleetHeartbeat, fmt, median, runIfMain, tempDir } from './common.js';
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
const READS = Number(process.env.BENCH_B13_READS ?? 21);
const DAY_MS = 86_400_000;
// Floor 1: every bucket shown. With the default floor of 5, the 1k fleet's buckets (about one session per day
// and value) fold into `other` and its answers are shorter: a smaller answer, not a cheaper read.
const OPTIONS = { idempotencyHours: 24, retentionDays: 400, privacyMinSessions: 1 };

const { createStorage } = await import('../dist/src/stores/index.js');
const { createCollector } = await import('../dist/src/collector/collector.js');
const { toCounted } = await import('../dist/src/stores/counting.js');

/** `sessions` new sessions, one heartbeat each, day by day over the last DAYS days, WAVE at a time (a group each). */
async function fill(store, sessions) {
  const today = Math.floor(Date.now() / DAY_MS);
  for (let done = 0; done < sessions; done += WAVE) {
    const n = Math.min(WAVE, sessions - done);
    const day = today - DAYS + 1 + Math.floor((done * DAYS) / sessions);
    const at = new Date(day * DAY_MS + 43_200_000);
    await Promise.all(Array.from({ length: n }, (_, i) => store.record(toCounted(fleetHeartbeat(done + i), at))));
  }
}

/** A collector served in this process over `store`: `get()` is one GET /api/collector/stats. */
async function statsServer(store) {
  const collector = await createCollector({ store });
  const server = http.createServer((req, res) => void collector.handleStats(req, res));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/api/collector/stats`;
  return {
    async get() {
      const res = await fetch(url);
      if (res.status !== 200) throw new Error(`stats: HTTP ${res.status}`);
      await res.arrayBuffer();
    },
    close() {
      collector.close();
      server.closeAllConnections();
      server.close();
    },
  };
}

/** Wall and CPU (this process) milliseconds of one call. */
async function timedOnce(work) {
  const [cpu, started] = [process.cpuUsage(), performance.now()];
  await work();
  const used = process.cpuUsage(cpu);
  return { wall: performance.now() - started, cpu: (used.user + used.system) / 1000 };
}

/**
 * Reads of the small and the large store alternated (which goes first alternates too), after one unmeasured of
 * each: the shared machine's load swings a run by 2x, and neighbouring reads share their moment. Medians.
 */
async function alternated(small, large) {
  const times = { small: [], large: [] };
  await small();
  await large();
  for (let i = 0; i < READS; i += 1) {
    const order = i % 2 === 0 ? ['small', 'large'] : ['large', 'small'];
    for (const which of order) times[which].push(await timedOnce(which === 'small' ? small : large));
  }
  const pick = (list, field) => median(list.map((t) => t[field]));
  return { small: { wall: pick(times.small, 'wall'), cpu: pick(times.small, 'cpu') }, large: { wall: pick(times.large, 'wall'), cpu: pick(times.large, 'cpu') } };
}

/** A fresh store of one backend filled with `sessions`; checks what it counted. */
async function filled(settings, sessions) {
  const storage = await createStorage(settings);
  await storage.open();
  const store = await storage.openCollector(OPTIONS);
  const started = performance.now();
  await fill(store, sessions);
  const fillS = (performance.now() - started) / 1000;
  const total = (await store.stats({ asOf: new Date().toISOString().slice(0, 10) })).sessions_total;
  if (total !== sessions) throw new Error(`stored ${total} sessions of ${sessions}`);
  return { storage, store, fillS };
}

/** Both stores of one backend, open at once; stats over HTTP and the export of the last 30 days, alternated. */
async function backend(name, settingsFor) {
  const small = await filled(await settingsFor(), SMALL);
  const large = await filled(await settingsFor(), LARGE);
  const servers = [await statsServer(small.store), await statsServer(large.store)];
  try {
    const today = new Date().toISOString().slice(0, 10);
    const from = new Date(Date.now() - (DAYS - 1) * DAY_MS).toISOString().slice(0, 10);
    const stats = await alternated(servers[0].get, servers[1].get);
    const exported = await alternated(() => small.store.export({ from, to: today }), () => large.store.export({ from, to: today }));
    return {
      name, stats, export: exported, fillS: large.fillS,
      statsRatio: stats.large.wall / stats.small.wall, exportRatio: exported.large.wall / exported.small.wall,
      cpuRatios: [stats.large.cpu / stats.small.cpu, exported.large.cpu / exported.small.cpu],
    };
  } finally {
    for (const server of servers) server.close();
    await small.storage.close();
    await large.storage.close();
  }
}

export async function measure() {
  const home = await tempDir('telemetry-bench-b13-');
  const postgres = await startPostgres();
  let n = 0;
  try {
    const level = await backend('LevelDB', async () => ({ home: home.dir, dbPath: `${home.dir}/db${(n += 1)}` }));
    const pg = await backend('PostgreSQL', async () => ({ home: home.dir, dbPath: `${home.dir}/unused`, databaseUrl: await postgres.database() }));
    const both = [level, pg];
    const line = (b) => `${b.name} stats ${fmt(b.stats.small.wall, ' ms')} -> ${fmt(b.stats.large.wall, ' ms')}, export ${fmt(b.export.small.wall, ' ms')} -> ${fmt(b.export.large.wall, ' ms')}`;
    const cpu = (b) => `${b.name} stats ${fmt(b.stats.small.cpu, ' ms')} -> ${fmt(b.stats.large.cpu, ' ms')} (${fmt(b.cpuRatios[0])}), export ${fmt(b.export.small.cpu, ' ms')} -> ${fmt(b.export.large.cpu, ' ms')} (${fmt(b.cpuRatios[1])})`;
    return {
      ours: both.map(line).join('; '),
      baseline: `${SMALL} vs ${LARGE} sessions over ${DAYS} days`,
      ratio: both.map((b) => `${b.name} stats ${fmt(b.statsRatio)}, export ${fmt(b.exportRatio)}`).join('; '),
      pass: both.every((b) => b.statsRatio <= 2 && b.exportRatio <= 2),
      notes:
        `medians of ${READS} reads of each store, alternated; CPU time of this process per read (PostgreSQL's own is not in it): ${both.map(cpu).join('; ')}. ` +
        `Written through each store's write path in groups of ${WAVE}: ${both.map((b) => `${b.name} ${fmt(b.fillS, ' s')} for ${LARGE}`).join(', ')}`,
    };
  } finally {
    await postgres.stop();
    await home.cleanup();
  }
}

runIfMain(import.meta.url, meta, measure);
