// H1: process start -> the first answered request, as a health check or a user feels it: GET /api/health polled
// every 2 ms from the spawn until it answers 200 (not the `Server listening` line: what is loaded lazily can move
// cost past that line). `telemetry-actor server` (fresh home, defaults: telemetry on, collector on) vs
// bench/h1-bare.js, a node:http server that opens LevelDB, polled the same way. Interleaved pairs, medians.
// The notes add the same CLI unbundled (`node dist/src/cli.js server`): what the bin's bundle and code cache buy.
import { fmt, freePort, median, runIfMain } from './common.js';
import { UNBUNDLED_CLI } from '../test/harness/process.js';
import { firstAnswer, startBareServer } from './hostProcess.js';
import { cpuTimeMs, startServerProcess } from './serverProcess.js';

const PAIRS = Number(process.env.BENCH_H1_PAIRS ?? 7);

export const meta = {
  id: 'H1',
  figure: `start -> first GET /api/health 200, fresh home, median of ${PAIRS} pairs`,
  target: 'ratio <= 1.3',
  needsServer: true,
};

/** Polls the port from before the spawn; `start(port)` spawns and resolves with { pid, spawnedAt, stop() }. */
async function timedStart(start) {
  const port = await freePort();
  const answered = firstAnswer(`http://127.0.0.1:${port}/api/health`);
  const server = await start(port);
  const listeningMs = performance.now() - server.spawnedAt;
  const ms = (await answered) - server.spawnedAt;
  // CPU time used by then (all threads), the figure a busy machine disturbs least.
  const cpu = await cpuTimeMs(server.pid);
  await server.stop();
  return { ms, cpu, listeningMs };
}

const oursOnce = () => timedStart((port) => startServerProcess({ env: { TELEMETRY_PORT: String(port) } }));
const bareOnce = () => timedStart((port) => startBareServer({ port }));
const unbundledOnce = () => timedStart((port) => startServerProcess({ env: { TELEMETRY_PORT: String(port) }, entry: UNBUNDLED_CLI }));

export async function measure() {
  const ours = [];
  const base = [];
  const unbundled = [];
  // One unmeasured round warms the page cache for each, so the first round is not a cold-disk outlier.
  await oursOnce();
  await bareOnce();
  await unbundledOnce();
  for (let i = 0; i < PAIRS; i += 1) {
    // Alternating which goes first cancels a drift in the machine's load.
    if (i % 2 === 0) {
      ours.push(await oursOnce());
      base.push(await bareOnce());
      unbundled.push(await unbundledOnce());
    } else {
      unbundled.push(await unbundledOnce());
      base.push(await bareOnce());
      ours.push(await oursOnce());
    }
  }
  const pick = (list, field) => median(list.map((x) => x[field]));
  const [m, b] = [pick(ours, 'ms'), pick(base, 'ms')];
  const [mc, bc] = [pick(ours, 'cpu'), pick(base, 'cpu')];
  return {
    ours: fmt(m, ' ms'),
    baseline: `${fmt(b, ' ms')} (node:http + LevelDB open)`,
    ratio: fmt(m / b),
    pass: m / b <= 1.3,
    notes:
      `CPU time to the first 200, medians: ours ${fmt(mc, ' ms')}, bare ${fmt(bc, ' ms')} (ratio ${fmt(mc / bc)}); ` +
      `unbundled (node dist/src/cli.js server): wall ${fmt(pick(unbundled, 'ms'), ' ms')} (ratio ${fmt(pick(unbundled, 'ms') / b)}), CPU ${fmt(pick(unbundled, 'cpu'), ' ms')}; ` +
      `to the "listening" line: ours ${fmt(pick(ours, 'listeningMs'), ' ms')}, bare ${fmt(pick(base, 'listeningMs'), ' ms')}; ` +
      `wall ours ${ours.map((x) => fmt(x.ms)).join(', ')} ms; bare ${base.map((x) => fmt(x.ms)).join(', ')} ms`,
  };
}

runIfMain(import.meta.url, meta, measure);
