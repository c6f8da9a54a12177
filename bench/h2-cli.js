// H2: wall time of `telemetry-actor status` with no server and with a server running on its home, vs
// `node -e 0`; `preview` and `--version` in the notes. Interleaved rounds (one of each per round), medians.
// The wall times are of the plain commands, as a user runs them; CPU time and peak RSS come from a second run
// of each with bench/cpuReport.js preloaded (the preload costs every process, `node -e 0` too, a few ms).
import { CLI, fmt, median, runIfMain, tempDir } from './common.js';
import { timedRun } from './hostProcess.js';
import { startServerProcess } from './serverProcess.js';

const ROUNDS = Number(process.env.BENCH_H2_ROUNDS ?? 9);

export const meta = {
  id: 'H2',
  figure: `CLI \`status\` wall time (no server / server running) vs \`node -e 0\`, median of ${ROUNDS} rounds`,
  target: 'ratio <= 1.5 (no server), <= 2 (server)',
  needsServer: true,
};

export async function measure() {
  const empty = await tempDir();
  const server = await startServerProcess({ env: { TELEMETRY_ENABLED: 'false' } });
  const runs = {
    node: (cpuReport) => timedRun(['-e', '0'], { cpuReport }),
    status: (cpuReport) => timedRun([CLI, 'status'], { env: { TELEMETRY_HOME: empty.dir }, cpuReport }),
    statusServer: (cpuReport) => timedRun([CLI, 'status'], { env: { TELEMETRY_HOME: server.home }, cpuReport }),
    preview: (cpuReport) => timedRun([CLI, 'preview'], { env: { TELEMETRY_HOME: empty.dir }, cpuReport }),
    version: (cpuReport) => timedRun([CLI, '--version'], { cpuReport }),
  };
  const times = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
  const cpu = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
  const rss = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
  try {
    const order = Object.keys(runs);
    for (let round = -1; round < ROUNDS; round += 1) {
      // Round -1 warms the page cache; each round rotates the order so no kind always runs first.
      const rotated = order.map((_, i) => order[(i + Math.max(round, 0)) % order.length]);
      for (const kind of rotated) {
        const plain = await runs[kind](false);
        const reported = await runs[kind](true);
        if (round < 0) continue;
        times[kind].push(plain.ms);
        cpu[kind].push(reported.cpuMs);
        rss[kind].push(reported.maxRssKiB / 1024);
      }
    }
  } finally {
    await Promise.all([server.stop(), empty.cleanup()]);
  }
  const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
  const [alone, withServer] = [m.status / m.node, m.statusServer / m.node];
  const c = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, median(v)]));
  const r = Object.fromEntries(Object.entries(rss).map(([k, v]) => [k, median(v)]));
  const cpuText = Object.keys(c).map((k) => `${k} ${fmt(c[k], ' ms')} (${fmt(c[k] / c.node)}x), ${fmt(r[k], ' MiB')}`).join('; ');
  return {
    ours: `${fmt(m.status, ' ms')} / ${fmt(m.statusServer, ' ms')}`,
    baseline: `${fmt(m.node, ' ms')} (node -e 0)`,
    ratio: `${fmt(alone)} / ${fmt(withServer)}`,
    pass: alone <= 1.5 && withServer <= 2,
    notes:
      `CPU time and peak RSS, medians: ${cpuText}. Wall: ` +
      `preview ${fmt(m.preview, ' ms')} (${fmt(m.preview / m.node)}x), --version ${fmt(m.version, ' ms')} (${fmt(m.version / m.node)}x); ` +
      Object.entries(times).map(([k, v]) => `${k} ${v.map((x) => fmt(x)).join(' ')}`).join('; '),
  };
}

runIfMain(import.meta.url, meta, measure);
