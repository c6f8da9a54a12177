// Helpers for the host-cost figures (H1-H4): a timed process run, the bare server of bench/h1-bare.js,
// and a memory probe that both servers load so their RSS and heap are read the same way.
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cleanEnv, ROOT, tempDir } from './common.js';

const BARE = fileURLToPath(new URL('./h1-bare.js', import.meta.url));
/** Preloaded with --import: on SIGUSR2 it runs a full GC and prints `{"probe":{...memoryUsage}}` on stderr. */
export const PROBE = fileURLToPath(new URL('./memoryProbe.js', import.meta.url));
const LIMIT_MS = 20_000;
/** For processes that never read a home (node -e 0, --version, an import): the harness still wants one in tmp. */
const NO_HOME = path.join(os.tmpdir(), 'telemetry-bench-no-home');

/** Preloaded with --import by timedRun: reports the process's CPU time and peak RSS at exit. */
export const CPU_REPORT = fileURLToPath(new URL('./cpuReport.js', import.meta.url));

/**
 * Runs `node --import CPU_REPORT ...args` to its exit; resolves with the wall time in ms, the CPU time the
 * process reported, its peak RSS in KiB and its stdout (rejects on a non-zero exit or overrun).
 */
export function timedRun(args, { env = {}, cwd = ROOT, stdout = 'ignore' } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', CPU_REPORT, ...args], { cwd, env: cleanEnv({ TELEMETRY_HOME: NO_HOME, ...env }), stdio: ['ignore', stdout, 'pipe'] });
    let err = '';
    let out = '';
    child.stderr.on('data', (chunk) => (err += chunk));
    child.stdout?.on('data', (chunk) => (out += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), LIMIT_MS);
    child.once('exit', (code, signal) => {
      const ms = performance.now() - started;
      clearTimeout(timer);
      const report = /\{"cpuReport":(\{[^}]*\})\}/.exec(err)?.[1];
      const { cpuMs = NaN, maxRssKiB = NaN } = report === undefined ? {} : JSON.parse(report);
      if (code === 0) resolve({ ms, cpuMs, maxRssKiB, out });
      else reject(new Error(`node ${args.join(' ')} exited with ${code ?? signal}: ${err.trim().split('\n').pop()}`));
    });
  });
}

/** Starts bench/h1-bare.js on a fresh home; resolves once it logs `Server listening`, with the time it took. */
export async function startBareServer({ nodeArgs = [] } = {}) {
  const temp = await tempDir();
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, BARE, temp.dir], { env: cleanEnv({ TELEMETRY_HOME: temp.dir }), stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  child.stderr.on('data', (chunk) => lines.push(String(chunk).trim()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let timer;
  const url = await Promise.race([
    new Promise((resolve) =>
      readline.createInterface({ input: child.stdout }).on('line', (line) => {
        if (line.includes('"Server listening"')) resolve(JSON.parse(line).url);
      }),
    ),
    exited.then(() => 'exited'),
    new Promise((resolve) => (timer = setTimeout(resolve, LIMIT_MS, 'timeout'))),
  ]);
  clearTimeout(timer);
  const listeningMs = performance.now() - spawnedAt;
  const bare = {
    pid: child.pid,
    url,
    lines,
    listeningMs,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(kill);
      }
      await temp.cleanup();
    },
  };
  if (url === 'exited' || url === 'timeout') {
    await bare.stop();
    throw new Error(`bare server did not start (${url}): ${lines.slice(-3).join(' | ')}`);
  }
  return bare;
}

/** Resident set size of a process now, in bytes (VmRSS). */
export { rssBytes } from '../test/harness/requests.js';

/**
 * Asks a process started with `--expose-gc --import PROBE` for its memory after a full GC: sends SIGUSR2 and
 * waits for the probe line in what `readLines()` returns (the output a starter has collected so far).
 */
export async function probeMemory(pid, readLines) {
  const answers = () => readLines().filter((line) => line.includes('{"probe":'));
  const before = answers().length;
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const all = answers();
    if (all.length > before) {
      const line = all.at(-1);
      return JSON.parse(line.slice(line.lastIndexOf('{"probe":')).split('\n')[0]).probe;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no memory probe answer from ${pid}`);
}
