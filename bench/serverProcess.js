// The reference server (`node dist/src/bin.cjs server`) as a child process on 127.0.0.1, for B3, B5, B7, B8,
// through the process harness the tests use (test/harness/process.js): one spawn, one clean environment.
import { readdir, readFile } from 'node:fs/promises';
import { createSandbox, getJson as getAnswer } from '../test/harness/process.js';

const START_LIMIT_MS = 20_000;

/**
 * Spawns the server with a fresh TELEMETRY_HOME (unless `home` is given) and resolves once it logs
 * `Server listening`. `env` adds TELEMETRY_* settings; inherited ones are dropped (see cleanEnv in the harness).
 * `nodeArgs` go to node itself (e.g. --cpu-prof when looking into a miss); `entry` is the script (default the bin).
 */
export async function startServerProcess({ env = {}, home, nodeArgs = [], entry } = {}) {
  const sandbox = createSandbox();
  const dir = home ?? (await sandbox.makeTemp('telemetry-bench-'));
  let proc;
  try {
    proc = await sandbox.startServerProcess(
      { TELEMETRY_HOME: dir, TELEMETRY_HOST: '127.0.0.1', TELEMETRY_LOG_LEVEL: 'info', ...env },
      { nodeArgs, entry, timeoutMs: START_LIMIT_MS },
    );
  } catch (error) {
    await sandbox.cleanup();
    throw new Error(`server did not start: ${error.message.split('\n').slice(-6).join(' | ')}`);
  }
  const server = {
    child: proc.child,
    pid: proc.pid,
    home: dir,
    /** performance.now() at spawn. */
    spawnedAt: proc.spawnedAt,
    /** Resolves with { code, signal, at } (at: performance.now() at exit). */
    exited: proc.exited,
    /** The last stdout lines (raw) and stderr, for error messages. */
    get lines() {
      return [...proc.stdout().trim().split('\n').slice(-50), proc.stderr().trim()].filter(Boolean);
    },
    url: proc.url,
    /** SIGTERM; resolves with { code, signal, at } once the process has exited (SIGKILL after a limit). */
    async stop() {
      server.stopping = true;
      const { code, signal, at } = await proc.stop();
      await sandbox.cleanup();
      return { code, signal, at };
    },
  };
  return server;
}

/** GET a JSON document over loopback. */
export async function getJson(url) {
  const { status, body } = await getAnswer(url);
  if (status !== 200) throw new Error(`GET ${url}: HTTP ${status}`);
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
