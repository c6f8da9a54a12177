// The built CLI (dist/src/cli.js) as a real child process for tests: clean env, parsed pino lines, always killed.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Level } from 'level';
import type { LogLine } from './logs.js';

/** The CLI entry point as `npm run build` writes it. */
export const CLI_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/src/cli.js');

/** Variables a test sets; `undefined` removes one. */
export type CliEnv = Record<string, string | undefined>;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running `telemetry-actor server` child. */
export interface ServerProcess {
  /** From the `Server listening` line, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** Every stdout line parsed as pino JSON (lines that are not JSON are kept as `{ msg: <line> }`). */
  logs: LogLine[];
  /** stderr so far. */
  stderr(): string;
  /** Resolves once a log line matches; rejects after timeoutMs or when the process exits first. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Sends `signal` and resolves once the process has exited, with the time from kill to exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  /** Resolves when the process exits (on its own or stopped). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  process: ChildProcess;
}

const INHERITED_DROPPED = /^(TELEMETRY_|PREFECT_|DO_NOT_TRACK$|(HTTPS?|NO|ALL)_PROXY$)/i;

/**
 * The environment for a child: this process's env minus every TELEMETRY_*, PREFECT_*, DO_NOT_TRACK and proxy
 * variable, then TELEMETRY_PORT=0, then `env` (which must name TELEMETRY_HOME: never the user's real home).
 */
export function cleanEnv(env: CliEnv): NodeJS.ProcessEnv {
  if (env.TELEMETRY_HOME === undefined) throw new Error('cleanEnv: set TELEMETRY_HOME to a temp folder');
  const result: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!INHERITED_DROPPED.test(key)) result[key] = value;
  result.TELEMETRY_PORT = '0';
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete result[key];
    else result[key] = value;
  }
  return result;
}

function parseLine(line: string): LogLine {
  try {
    const parsed = JSON.parse(line) as unknown;
    if (parsed !== null && typeof parsed === 'object') return parsed as LogLine;
  } catch {
    // Not pino: kept as text below.
  }
  return { level: 0, msg: line };
}

/** Spawns, tracks and cleans up CLI children and temp homes; one per test (or per file with afterEach). */
export function createCliSandbox() {
  const children = new Set<ChildProcess>();
  const folders: string[] = [];

  function spawnCli(args: string[], env: CliEnv): ChildProcess {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  }

  /** A fresh, empty folder under os.tmpdir(), removed by cleanup(). */
  async function tempHome(): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'telemetry-actor-cli-'));
    folders.push(dir);
    return dir;
  }

  /** Runs one command to its end; kills it and rejects after timeoutMs. */
  function runCli(args: string[], env: CliEnv, timeoutMs = 15_000): Promise<CliResult> {
    const child = spawnCli(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`telemetry-actor ${args.join(' ')} did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
      }, timeoutMs);
      child.once('error', reject);
      // 'close' rather than 'exit': stdout and stderr have been read to their end.
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr });
      });
    });
  }

  /** Starts `telemetry-actor server ...args` and resolves once it logs `Server listening`. */
  async function startServerProcess(env: CliEnv, args: string[] = [], timeoutMs = 15_000): Promise<ServerProcess> {
    const child = spawnCli(['server', ...args], env);
    const logs: LogLine[] = [];
    const waiters = new Set<() => void>();
    let stderr = '';
    let pending = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (pending + chunk).split('\n');
      pending = parts.pop() ?? '';
      for (const line of parts) if (line.trim() !== '') logs.push(parseLine(line));
      for (const wake of waiters) wake();
    });
    let hasExited = false;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => {
        hasExited = true;
        for (const wake of waiters) wake();
        resolve({ code, signal });
      }),
    );

    function waitForLog(match: (line: LogLine) => boolean, ms = 10_000): Promise<LogLine> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`no matching log line within ${ms} ms; stderr: ${stderr}`)), ms);
        const finish = (result: LogLine | Error) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (result instanceof Error) reject(result);
          else resolve(result);
        };
        const check = () => {
          const found = logs.find(match);
          if (found !== undefined) finish(found);
          else if (hasExited) finish(new Error(`server exited before the log line; stderr: ${stderr}`));
        };
        waiters.add(check);
        check();
      });
    }

    async function stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (hasExited) return { ...(await exited), ms: 0 };
      const started = performance.now();
      child.kill(signal);
      const result = await exited;
      return { ...result, ms: performance.now() - started };
    }

    const listening = await waitForLog((line) => line.msg === 'Server listening', timeoutMs);
    return { url: String(listening.url), logs, stderr: () => stderr, waitForLog, stop, exited, process: child };
  }

  /** Kills every child still running (SIGKILL), waits for them, and removes the temp homes. */
  async function cleanup(): Promise<void> {
    await Promise.all(
      [...children].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    await Promise.all(folders.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }

  return { tempHome, runCli, startServerProcess, cleanup };
}

export type CliSandbox = ReturnType<typeof createCliSandbox>;

/** The raw TELEMETRY_SESSION value in <home>/db (configuration sublevel), or undefined; opens and closes the db. */
export async function readStoredSessionValue(home: string): Promise<string | undefined> {
  const db = new Level<string, string>(path.join(home, 'db'), { valueEncoding: 'utf8', createIfMissing: false });
  await db.open();
  try {
    return await db.sublevel<string, string>('configuration', { valueEncoding: 'utf8' }).get('TELEMETRY_SESSION');
  } finally {
    await db.close();
  }
}

/** GET url and parse the JSON answer. */
export async function getJson(url: string): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as unknown), headers: res.headers };
}

/** An HTTP endpoint on 127.0.0.1:0 that counts raw TCP connections and requests and answers `status`. */
export interface CountingEndpoint {
  url: string;
  connections(): number;
  requests: Array<{ method: string; url: string; body: string }>;
  close(): Promise<void>;
}

export async function startCountingEndpoint(status = 202): Promise<CountingEndpoint> {
  const requests: CountingEndpoint['requests'] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', body });
      res.writeHead(status).end();
    });
  });
  server.on('connection', (socket) => {
    connections += 1;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/collector`,
    connections: () => connections,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Polls an async check every 50 ms until it returns true; rejects after timeoutMs. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
