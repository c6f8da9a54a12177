// H3: RSS and heap (after a full GC) of `telemetry-actor server` once idle, vs bench/h1-bare.js. Three of each
// (and three with telemetry off, for the notes) run side by side from the same moment with the same memory
// probe preloaded; medians, since one process's RSS varies by several MiB from run to run.
// BENCH_SETTLE_S shortens the wait.
import { fmt, median, runIfMain, sleep } from './common.js';
import { PROBE, probeMemory, rssBytes, startBareServer } from './hostProcess.js';
import { startServerProcess } from './serverProcess.js';

const SETTLE_S = Number(process.env.BENCH_SETTLE_S ?? 30);
const EACH = 3;

export const meta = {
  id: 'H3',
  figure: `idle RSS / heap used after GC, ${SETTLE_S} s after "Server listening", median of ${EACH}`,
  target: 'RSS ratio <= 1.15',
  needsServer: true,
};

const MIB = 1024 * 1024;
const NODE_ARGS = ['--expose-gc', '--import', PROBE];

/** RSS first, as the host sees it, before the probe's GC changes it; then heap used after a full GC. */
async function memoryOf(proc) {
  const rss = await rssBytes(proc.pid);
  const probe = await probeMemory(proc.pid, () => proc.lines);
  return { rss, heap: probe.heapUsed };
}

const medians = (list) => ({ rss: median(list.map((m) => m.rss)), heap: median(list.map((m) => m.heap)) });
const text = (m) => `RSS ${fmt(m.rss / MIB, ' MiB')}, heap ${fmt(m.heap / MIB, ' MiB')}`;

export async function measure() {
  const started = [];
  try {
    for (let i = 0; i < EACH; i += 1) {
      // Defaults, as a host runs it: telemetry on (its first heartbeat goes to its own collector), collector on.
      started.push(['on', await startServerProcess({ nodeArgs: NODE_ARGS })]);
      started.push(['off', await startServerProcess({ nodeArgs: NODE_ARGS, env: { TELEMETRY_ENABLED: 'false' } })]);
      started.push(['bare', await startBareServer({ nodeArgs: NODE_ARGS })]);
    }
    await sleep(SETTLE_S * 1000);
    const by = { on: [], off: [], bare: [] };
    for (const [kind, proc] of started) by[kind].push(await memoryOf(proc));
    const [ours, off, base] = [medians(by.on), medians(by.off), medians(by.bare)];
    const ratio = ours.rss / base.rss;
    return {
      ours: text(ours),
      baseline: `${text(base)} (node:http + LevelDB)`,
      ratio: `${fmt(ratio)} (heap ${fmt(ours.heap / base.heap)})`,
      pass: ratio <= 1.15,
      notes:
        `after ${SETTLE_S} s; telemetry off: ${text(off)} (RSS ${fmt(off.rss / base.rss)}x); RSS in MiB, ` +
        Object.entries(by).map(([kind, list]) => `${kind} ${list.map((m) => fmt(m.rss / MIB)).join(' ')}`).join('; '),
    };
  } finally {
    await Promise.all(started.map(([, proc]) => proc.stop()));
  }
}

runIfMain(import.meta.url, meta, measure);
