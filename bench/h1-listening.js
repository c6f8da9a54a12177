// H1: process start -> `Server listening` of `telemetry-actor server` (fresh home, defaults: telemetry on,
// collector on) vs bench/h1-bare.js, a node:http server that opens LevelDB. Interleaved pairs, medians.
import { fmt, median, runIfMain } from './common.js';
import { startBareServer } from './hostProcess.js';
import { cpuTimeMs, startServerProcess } from './serverProcess.js';

const PAIRS = Number(process.env.BENCH_H1_PAIRS ?? 7);

export const meta = {
  id: 'H1',
  figure: `start -> "Server listening", fresh home, median of ${PAIRS} pairs`,
  target: 'ratio <= 1.3',
  needsServer: true,
};

// CPU time used by then (all threads, read just after the line) is the figure a busy machine disturbs least.
async function oursOnce() {
  const server = await startServerProcess();
  const ms = performance.now() - server.spawnedAt;
  const cpu = await cpuTimeMs(server.pid);
  await server.stop();
  return { ms, cpu };
}

async function bareOnce() {
  const bare = await startBareServer();
  const cpu = await cpuTimeMs(bare.pid);
  await bare.stop();
  return { ms: bare.listeningMs, cpu };
}

export async function measure() {
  const ours = [];
  const base = [];
  // One unmeasured round warms the page cache for both, so the first pair is not a cold-disk outlier.
  await oursOnce();
  await bareOnce();
  for (let i = 0; i < PAIRS; i += 1) {
    // Alternating which goes first cancels a drift in the machine's load.
    if (i % 2 === 0) {
      ours.push(await oursOnce());
      base.push(await bareOnce());
    } else {
      base.push(await bareOnce());
      ours.push(await oursOnce());
    }
  }
  const [m, b] = [median(ours.map((x) => x.ms)), median(base.map((x) => x.ms))];
  const [mc, bc] = [median(ours.map((x) => x.cpu)), median(base.map((x) => x.cpu))];
  return {
    ours: fmt(m, ' ms'),
    baseline: `${fmt(b, ' ms')} (node:http + LevelDB open)`,
    ratio: fmt(m / b),
    pass: m / b <= 1.3,
    notes:
      `CPU time to listening, medians: ours ${fmt(mc, ' ms')}, bare ${fmt(bc, ' ms')} (ratio ${fmt(mc / bc)}); ` +
      `wall ours ${ours.map((x) => fmt(x.ms)).join(', ')} ms; bare ${base.map((x) => fmt(x.ms)).join(', ')} ms`,
  };
}

runIfMain(import.meta.url, meta, measure);
