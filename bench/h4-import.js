// H4: time to import the `.` entry (dist/src/index.js) in a fresh process vs importing xstate alone; the other
// entry points in the notes. Measured inside the process around the dynamic import; interleaved, medians.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { fmt, median, ROOT, runIfMain } from './common.js';
import { timedRun } from './hostProcess.js';

const ROUNDS = Number(process.env.BENCH_H4_ROUNDS ?? 11);

export const meta = {
  id: 'H4',
  figure: `import time of \`.\` vs \`xstate\` alone, fresh process, median of ${ROUNDS}`,
  target: 'ratio <= 2',
};

const dist = (file) => pathToFileURL(path.join(ROOT, 'dist', file)).href;
const ENTRIES = {
  xstate: 'xstate',
  '.': dist('src/index.js'),
  './machines': dist('machines/index.js'),
  './collector': dist('src/collector/index.js'),
  './server': dist('src/server/index.js'),
};
const SCRIPT =
  'const t = performance.now(); const c = process.cpuUsage(); await import(process.argv[1]); const u = process.cpuUsage(c);' +
  'process.stdout.write(`${performance.now() - t} ${(u.user + u.system) / 1000}`);';

async function importMs(specifier) {
  const { out } = await timedRun(['--input-type=module', '-e', SCRIPT, specifier], { stdout: 'pipe' });
  const [wall, cpu] = out.split(' ').map(Number);
  return { wall, cpu };
}

export async function measure() {
  const names = Object.keys(ENTRIES);
  const times = Object.fromEntries(names.map((name) => [name, []]));
  const cpu = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = -1; round < ROUNDS; round += 1) {
    for (let i = 0; i < names.length; i += 1) {
      const name = names[(i + Math.max(round, 0)) % names.length];
      const ms = await importMs(ENTRIES[name]);
      if (round < 0) continue;
      times[name].push(ms.wall);
      cpu[name].push(ms.cpu);
    }
  }
  const m = Object.fromEntries(names.map((name) => [name, median(times[name])]));
  const c = Object.fromEntries(names.map((name) => [name, median(cpu[name])]));
  const ratio = m['.'] / m.xstate;
  return {
    ours: fmt(m['.'], ' ms'),
    baseline: `${fmt(m.xstate, ' ms')} (import xstate)`,
    ratio: fmt(ratio),
    pass: ratio <= 2,
    notes:
      `wall ${names.map((name) => `${name} ${fmt(m[name], ' ms')}`).join(', ')}; ` +
      `CPU (all threads) ${names.map((name) => `${name} ${fmt(c[name], ' ms')}`).join(', ')}, ratio ${fmt(c['.'] / c.xstate)}`,
  };
}

runIfMain(import.meta.url, meta, measure);
