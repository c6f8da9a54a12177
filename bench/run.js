// Runs the benchmark figures in order, each in its own child process, and prints one table.
// `node bench/run.js` runs all; `node bench/run.js B2 B4` runs a subset. Exits 0 even when a target is
// missed (it reports); 2 on an unknown id. Not part of `npm test`; `npm run bench` builds first.
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { CLI, formatTable } from './common.js';

/** The figures, in run order. Each module exports `meta` and runs itself when it is the entry point. */
const FIGURES = [
  'b1-cycles.js',
  'b2-stop.js',
  'b3-sigterm.js',
  'b4-heap.js',
  'b5-idle-cpu.js',
  'b6-loop-delay.js',
  'b7-collector.js',
  'b8-first-heartbeat.js',
  'b9-collector-postgres.js',
  'b10-replicas.js',
  'b12-stalled-postgres.js',
  'b13-stats-history.js',
  'b11-npm-start.js',
  'b7-distinct.js',
  'h1-listening.js',
  'h2-cli.js',
  'h3-idle-memory.js',
  'h4-import.js',
];

/** A figure that has not reported by then (or by its meta.limitMs) is killed and shown as an error, so the run stays bounded. */
const FIGURE_LIMIT_MS = 120_000;

async function loadFigures() {
  return Promise.all(
    FIGURES.map(async (file) => ({ file: fileURLToPath(new URL(file, import.meta.url)), meta: (await import(`./${file}`)).meta })),
  );
}

/** Runs one figure in a child process; resolves with its row (an error row if it fails or overruns). */
function runFigure({ file, meta }) {
  const base = { id: meta.id, figure: meta.figure, target: meta.target };
  if (meta.needsServer && !existsSync(CLI)) return Promise.resolve({ ...base, status: 'skipped: server not built' });
  return new Promise((resolve) => {
    let row;
    const child = fork(file, [], { execArgv: meta.nodeArgs ?? [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const limitMs = meta.limitMs ?? FIGURE_LIMIT_MS;
    const timer = setTimeout(() => {
      row ??= { ...base, status: `error: no result within ${limitMs / 1000} s` };
      child.kill('SIGKILL');
    }, limitMs);
    child.on('message', (message) => (row = message));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(row ?? { ...base, status: `error: exited with ${code ?? signal} before reporting` });
    });
  });
}

async function main() {
  const figures = await loadFigures();
  const wanted = process.argv.slice(2).map((id) => id.toUpperCase());
  const unknown = wanted.filter((id) => !figures.some((f) => f.meta.id === id));
  if (unknown.length > 0) {
    console.error(`Unknown figure id: ${unknown.join(', ')}. Known: ${figures.map((f) => f.meta.id).join(', ')}`);
    process.exit(2);
  }
  const selected = wanted.length === 0 ? figures : figures.filter((f) => wanted.includes(f.meta.id));
  const started = Date.now();
  const rows = [];
  for (const figure of selected) {
    process.stderr.write(`${figure.meta.id} ${figure.meta.figure} ... `);
    const row = await runFigure(figure);
    process.stderr.write(`${row.status ?? (row.pass === false ? 'FAIL' : 'done')} (${(row.seconds ?? 0).toFixed(1)} s)\n`);
    rows.push(row);
  }
  const cpus = os.cpus();
  console.log(
    `\n${new Date().toISOString()}  Node ${process.version}  ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown'})  ` +
      `load ${os.loadavg().map((n) => n.toFixed(2)).join(' ')}  total ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
  );
  console.log(formatTable(rows));
  const notes = rows.filter((row) => row.notes);
  if (notes.length > 0) console.log(`\n${notes.map((row) => `${row.id}: ${row.notes}`).join('\n')}`);
}

await main();
