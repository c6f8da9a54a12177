// The one process harness for tests and bench: the built CLI (dist/src/bin.cjs) as a real child process with a
// clean environment, its stdout parsed as pino lines, and every child and temp folder cleaned up.
// Plain ESM JavaScript (typed by process.d.ts) so bench/*.js can import it without a build step.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LIMITS } from './limits.js';

/** The CLI entry point as `npm run build` writes it: the bin, which runs the bundle (dist/bundle/cli.cjs). */
export const CLI = fileURLToPath(new URL('../../dist/src/bin.cjs', import.meta.url));
/** The same CLI unbundled (`node dist/src/cli.js`), for the bench's before/after of the bundle. */
export const UNBUNDLED_CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));

/** Inherited variables that could steer the CLI (settings, opt-outs, proxies) or the node inside it. */
const DROPPED = /^(TELEMETRY_|PREFECT_)|^DO_NOT_TRACK$|_PROXY$|^NODE_OPTIONS$/i;

/**
 * The environment for a child: this process's env minus TELEMETRY_*, PREFECT_*, DO_NOT_TRACK, *_PROXY and
 * NODE_OPTIONS, then TELEMETRY_PORT=0, then `env` (a value of undefined removes the variable).
 * `env.TELEMETRY_HOME` is required and, when it is an absolute path, must lie under os.tmpdir(): a test or a
 * bench never writes to the user's real home. (Relative and blank values are allowed for the settings matrix;
 * they resolve against the child's cwd, which defaults to os.tmpdir().)
 */
export function cleanEnv(env) {
  const home = env?.TELEMETRY_HOME;
  if (typeof home !== 'string') throw new Error('cleanEnv: set TELEMETRY_HOME to a temp folder');
  if (home.trim().startsWith('~')) throw new Error(`cleanEnv: TELEMETRY_HOME=${home} would be the real home`);
  if (path.isAbsolute(home) && !path.resolve(home).startsWith(path.resolve(os.tmpdir()) + path.sep)) {
    throw new Error(`cleanEnv: TELEMETRY_HOME=${home} is not under ${os.tmpdir()}`);
  }
  const result = {};
  for (const [key, value] of Object.entries(process.env)) if (!DROPPED.test(key) && value !== undefined) result[key] = value;
  result.TELEMETRY_PORT = '0';
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete result[key];
    else result[key] = value;
  }
  return result;
}

/** Parses one stdout line as pino JSON; undefined when it is not (a command's plain output). */
function parseLine(line) {
  try {
    const parsed = JSON.parse(line);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed;
  } catch {
    // Not JSON.
  }
  return undefined;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Children of every sandbox, SIGKILLed if this process exits with them still running (a bench that fails half-way). */
const everyChild = new Set();
process.on('exit', () => {
  for (const child of everyChild) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Spawns, tracks and cleans up CLI children and temp folders. Per test (concurrent tests) or per file. */
export function createSandbox() {
  const children = new Map();
  const folders = new Set();

  /** A fresh folder under os.tmpdir() (a TELEMETRY_HOME, or a place to build one), removed by cleanup(). */
  async function makeTemp(prefix = 'telemetry-actor-test-') {
    const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
    folders.add(dir);
    return dir;
  }

  /** Spawns `node [nodeArgs] dist/src/bin.cjs ...args` (or `options.entry`) with cleanEnv(env). */
  function spawnCli(args, env, options = {}) {
    const entry = options.entry ?? CLI;
    if (!existsSync(entry)) throw new Error(`${entry} is missing: run npm run build first`);
    const startedAt = Date.now();
    const spawnedAt = performance.now();
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), entry, ...args], {
      env: cleanEnv(env),
      cwd: options.cwd ?? os.tmpdir(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    everyChild.add(child);
    let exitAt = 0;
    child.once('exit', () => {
      exitAt = performance.now();
      everyChild.delete(child);
    });
    let gone = false;
    const waiters = new Set();
    // 'close', not 'exit': 'exit' can come before the last stdout and stderr bytes have been read.
    const exited = new Promise((resolve) =>
      child.once('close', (code, signal) => {
        gone = true;
        for (const wake of waiters) wake();
        resolve({ code, signal, at: exitAt || performance.now() });
      }),
    );
    children.set(child, exited);
    const lines = [];
    let out = '';
    let err = '';
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      out += chunk;
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const part of parts) {
        const line = parseLine(part);
        if (line !== undefined) lines.push(line);
      }
      for (const wake of waiters) wake();
    });
    child.stderr.setEncoding('utf8').on('data', (chunk) => void (err += chunk));

    function waitForLine(match, timeoutMs = LIMITS.waitMs) {
      return new Promise((resolve, reject) => {
        const finish = (result) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (result instanceof Error) reject(result);
          else resolve(result);
        };
        const timer = setTimeout(() => finish(new Error(`no matching log line within ${timeoutMs} ms; stdout:\n${out}\nstderr:\n${err}`)), timeoutMs);
        const check = () => {
          const found = lines.find(match);
          if (found !== undefined) finish(found);
          else if (gone) finish(new Error(`the process exited before the log line; stdout:\n${out}\nstderr:\n${err}`));
        };
        waiters.add(check);
        check();
      });
    }

    return { child, pid: child.pid ?? -1, startedAt, spawnedAt, lines, stdout: () => out, stderr: () => err, exited, waitForLine };
  }

  /** Runs one command to its end; SIGKILLs it and rejects after timeoutMs. */
  async function runCli(args, env, options = {}) {
    const timeoutMs = options.timeoutMs ?? LIMITS.commandMs;
    const proc = spawnCli(args, env, options);
    let timer;
    const limit = new Promise((_, reject) => {
      timer = setTimeout(() => {
        proc.child.kill('SIGKILL');
        reject(new Error(`telemetry-actor ${args.join(' ')} did not exit within ${timeoutMs} ms; stderr: ${proc.stderr()}`));
      }, timeoutMs);
    });
    try {
      const { code, signal } = await Promise.race([proc.exited, limit]);
      return { code, signal, stdout: proc.stdout(), stderr: proc.stderr(), lines: proc.lines };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Starts `telemetry-actor server ...args` (in a new temp TELEMETRY_HOME unless env names one) and resolves
   * once it logs `Server listening`; a process that exits first or does not listen in time is killed and rejects.
   */
  async function startServerProcess(env = {}, options = {}) {
    const home = env.TELEMETRY_HOME ?? (await makeTemp());
    const proc = spawnCli(['server', ...(options.args ?? [])], { ...env, TELEMETRY_HOME: home }, options);
    let listening;
    try {
      listening = await proc.waitForLine((line) => line.msg === 'Server listening', options.timeoutMs ?? LIMITS.startMs);
    } catch (error) {
      proc.child.kill('SIGKILL');
      await proc.exited;
      throw error;
    }
    const url = String(listening.url);
    /** Sends `signal` (SIGKILL after LIMITS.stopMs) and resolves once the process has exited, with kill-to-exit ms. */
    async function stop(signal = 'SIGTERM') {
      if (proc.child.exitCode !== null || proc.child.signalCode !== null) return { ...(await proc.exited), ms: 0 };
      const started = performance.now();
      proc.child.kill(signal);
      const timer = setTimeout(() => proc.child.kill('SIGKILL'), LIMITS.stopMs);
      const exit = await proc.exited;
      clearTimeout(timer);
      return { ...exit, ms: exit.at - started };
    }
    /** GET a path of the server's API: the status and the JSON body only (tests compare it whole). */
    const get = async (apiPath) => {
      const { status, body } = await getJson(`${url}${apiPath}`);
      return { status, body };
    };
    return { ...proc, url, home, get, stop };
  }

  /** SIGKILLs every child still running (by its own pid), waits for each, and removes the temp folders. */
  async function cleanup() {
    for (const child of children.keys()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(children.values());
    children.clear();
    await Promise.all([...folders].map((dir) => rm(dir, { recursive: true, force: true })));
    folders.clear();
  }

  return { makeTemp, tempHome: makeTemp, spawnCli, runCli, startServerProcess, cleanup };
}

/** GET url (limit LIMITS.requestMs): the status, the JSON body (undefined when empty or not JSON) and the headers. */
export async function getJson(url, options = {}) {
  const res = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? LIMITS.requestMs) });
  const text = await res.text();
  let body;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, headers: res.headers };
}
