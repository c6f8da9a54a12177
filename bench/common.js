// Shared bench helpers: statistics, temp folders, the actor input, row formatting and reporting.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pollUntil } from '../test/harness/net.js';

/** Repository root (bench/..). */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The built CLI; figures that need the reference server skip when it is missing. */
export { CLI } from '../test/harness/process.js';
/** The environment for child processes: no inherited telemetry, opt-out, proxy or NODE_OPTIONS settings. */
export { cleanEnv } from '../test/harness/process.js';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const cycle = (values, i) => values[i % values.length];
const VERSIONS = Array.from({ length: 30 }, (_, i) => `0.${Math.floor(i / 10)}.${i % 10}`);

/**
 * The i-th installation of a made-up fleet (B13, B14): a new session, its values going round in fixed cycles, so
 * any 60 in a row hold every one of 30 server versions, 3 platforms, 2 architectures, 4 environments and 3 Node
 * versions.
 */
export function fleetHeartbeat(i) {
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

/** A TCP port on 127.0.0.1 that was free a moment ago (for a child process told its port up front), and the polling helper. */
export { freePort, pollUntil } from '../test/harness/net.js';

/** Nearest-rank percentile of numbers (p in 0..100). */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export const median = (values) => percentile(values, 50);

/** Fixed-precision text for the table; keeps small numbers readable. */
export function fmt(value, unit = '') {
  if (typeof value !== 'number' || !Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return `${value.toFixed(digits)}${unit}`;
}

/** A fresh folder under the OS temp dir, removed by the returned cleanup. */
export async function tempDir(prefix = 'telemetry-bench-') {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Telemetry input for a loopback endpoint; loopSeconds near 0 runs heartbeats back to back. */
export function actorInput(endpoint, overrides = {}) {
  return {
    endpoint,
    loopSeconds: 0.000001,
    timeoutSeconds: 10,
    environment: 'production',
    source: 'telemetry_actor',
    serverVersion: '0.1.0',
    apiVersion: '0.1.0',
    retries: 0,
    ...overrides,
  };
}

/** Resolves once the predicate gives a truthy value, polling every few ms; rejects after timeoutMs (loops stay bounded). */
export async function waitUntil(predicate, timeoutMs = 10_000, everyMs = 5) {
  await pollUntil(predicate, { until: Boolean, timeoutMs, everyMs });
}

/** The table's columns, in order. */
export const COLUMNS = ['id', 'figure', 'ours', 'baseline', 'ratio', 'target', 'result'];

function resultText(row) {
  if (row.status) return row.status;
  return row.pass === true ? 'pass' : row.pass === false ? 'FAIL' : 'n/a';
}

/** Renders rows as one Markdown table (readable in a terminal and pasteable into docs). */
export function formatTable(rows) {
  const cells = rows.map((row) => COLUMNS.map((c) => (c === 'result' ? resultText(row) : String(row[c] ?? '—'))));
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (values) => `| ${values.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`;
  return [line(COLUMNS), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/**
 * Runs a figure when its module is the process entry point: sends the row to bench/run.js over IPC,
 * or prints it as a one-row table when run by hand (`node bench/b1-cycles.js`).
 */
export function runIfMain(moduleUrl, meta, measure) {
  if (process.argv[1] === undefined || pathToFileURL(path.resolve(process.argv[1])).href !== moduleUrl) return;
  const started = Date.now();
  measure()
    .then((result) => ({ id: meta.id, figure: meta.figure, target: meta.target, ...result }))
    .catch((error) => ({ id: meta.id, figure: meta.figure, target: meta.target, status: `error: ${error?.message ?? error}` }))
    .then((row) => {
      row.seconds = (Date.now() - started) / 1000;
      if (process.send) process.send(row, () => process.exit(0));
      else {
        console.log(formatTable([row]));
        if (row.notes) console.log(`\n${row.id}: ${row.notes}`);
        process.exit(0);
      }
    });
}
