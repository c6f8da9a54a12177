// The reference server (`node dist/src/cli.js server`) as a child process on 127.0.0.1, for B3, B5, B7, B8.
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import readline from 'node:readline';
import { request } from 'undici';
import { CLI, cleanEnv, tempDir } from './common.js';

const START_LIMIT_MS = 20_000;
const live = new Set();
// A bench that fails half-way must not leave servers behind.
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Spawns the server with a fresh TELEMETRY_HOME (unless `home` is given) and resolves once it logs
 * `Server listening`. `env` adds TELEMETRY_* settings; inherited ones are dropped (see cleanEnv).
 * `nodeArgs` go to node itself (e.g. --cpu-prof when looking into a miss).
 */
export async function startServerProcess({ env = {}, home, nodeArgs = [] } = {}) {
  const temp = home === undefined ? await tempDir() : undefined;
  const dir = home ?? temp.dir;
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'server'], {
    env: cleanEnv({ TELEMETRY_HOME: dir, TELEMETRY_HOST: '127.0.0.1', TELEMETRY_PORT: '0', TELEMETRY_LOG_LEVEL: 'info', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const lines = [];
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal, at: performance.now() });
    }),
  );
  // Always drained, so a full pipe never blocks the server's synchronous logger.
  child.stderr.on('data', (chunk) => lines.push(String(chunk).trim()));
  const listening = new Promise((resolve) => {
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (lines.length > 50) lines.shift();
      if (line.includes('"Server listening"')) resolve(JSON.parse(line).url);
    });
  });
  let timer;
  const timeout = new Promise((resolve) => (timer = setTimeout(resolve, START_LIMIT_MS, 'timeout')));
  const url = await Promise.race([listening, exited.then(() => 'exited'), timeout]);
  clearTimeout(timer);
  const server = {
    child,
    pid: child.pid,
    home: dir,
    spawnedAt,
    exited,
    lines,
    /** SIGTERM; resolves with { code, signal, at } once the process has exited (SIGKILL after 10 s). */
    async stop() {
      server.stopping = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
        const result = await exited;
        clearTimeout(kill);
        await temp?.cleanup();
        return result;
      }
      await temp?.cleanup();
      return exited;
    },
  };
  if (url === 'exited' || url === 'timeout') {
    await server.stop();
    throw new Error(`server did not start (${url}): ${lines.slice(-5).join(' | ')}`);
  }
  server.url = url;
  return server;
}

/** GET a JSON document over loopback. */
export async function getJson(url) {
  const response = await request(url);
  const body = await response.body.json();
  if (response.statusCode !== 200) throw new Error(`GET ${url}: HTTP ${response.statusCode}`);
  return body;
}

/**
 * CPU time (ms) a process has used so far, from the scheduler's nanosecond counters of all its threads
 * (/proc/<pid>/task/<tid>/schedstat): /proc/<pid>/stat counts in 10 ms ticks, too coarse for B5.
 */
export async function cpuTimeMs(pid) {
  const tasks = await readdir(`/proc/${pid}/task`);
  let ns = 0;
  for (const tid of tasks) {
    try {
      ns += Number((await readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8')).split(' ')[0]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return ns / 1e6;
}

/** Voluntary context switches of all a process's threads so far: how often it went to sleep and woke. */
export async function wakeups(pid) {
  let count = 0;
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    try {
      const status = await readFile(`/proc/${pid}/task/${tid}/status`, 'utf8');
      count += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return count;
}
