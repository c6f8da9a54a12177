// H3: RSS and heap (after a full GC) of `telemetry-actor server` once idle, vs bench/h1-bare.js; both run
// side by side from the same moment, with the same memory probe preloaded. BENCH_SETTLE_S shortens the wait.
import { fmt, runIfMain, sleep } from './common.js';
import { PROBE, probeMemory, rssBytes, startBareServer } from './hostProcess.js';
import { startServerProcess } from './serverProcess.js';

const SETTLE_S = Number(process.env.BENCH_SETTLE_S ?? 30);

export const meta = {
  id: 'H3',
  figure: `idle RSS / heap used after GC, ${SETTLE_S} s after "Server listening"`,
  target: 'RSS ratio <= 1.15',
  needsServer: true,
};

const MIB = 1024 * 1024;
const NODE_ARGS = ['--expose-gc', '--import', PROBE];

export async function measure() {
  // Defaults, as a host runs it: telemetry on (its first heartbeat goes to its own collector), collector on.
  const server = await startServerProcess({ nodeArgs: NODE_ARGS });
  const bare = await startBareServer({ nodeArgs: NODE_ARGS });
  try {
    await sleep(SETTLE_S * 1000);
    // RSS first, as the host sees it, before the probe's GC changes it.
    const [oursRss, bareRss] = [await rssBytes(server.pid), await rssBytes(bare.pid)];
    const ours = await probeMemory(server.pid, () => server.lines);
    const base = await probeMemory(bare.pid, () => bare.lines);
    const ratio = oursRss / bareRss;
    return {
      ours: `RSS ${fmt(oursRss / MIB, ' MiB')}, heap ${fmt(ours.heapUsed / MIB, ' MiB')}`,
      baseline: `RSS ${fmt(bareRss / MIB, ' MiB')}, heap ${fmt(base.heapUsed / MIB, ' MiB')} (node:http + LevelDB)`,
      ratio: `${fmt(ratio)} (heap ${fmt(ours.heapUsed / base.heapUsed)})`,
      pass: ratio <= 1.15,
      notes:
        `after ${SETTLE_S} s; after GC: ours RSS ${fmt(ours.rss / MIB, ' MiB')} heapTotal ${fmt(ours.heapTotal / MIB, ' MiB')} ` +
        `external ${fmt(ours.external / MIB, ' MiB')}; bare RSS ${fmt(base.rss / MIB, ' MiB')} heapTotal ${fmt(base.heapTotal / MIB, ' MiB')} ` +
        `external ${fmt(base.external / MIB, ' MiB')}`,
    };
  } finally {
    await Promise.all([server.stop(), bare.stop()]);
  }
}

runIfMain(import.meta.url, meta, measure);
