// Fault-matrix helpers: the real CLI as a child process, and local servers that misbehave on purpose.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import type { LogLine } from './logs.js';

/** The built CLI: these tests run the real program, so `npm run build` must have run after src changes. */
export const CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));

/** The process env without anything that could steer the CLI: TELEMETRY_*, PREFECT_*, DO_NOT_TRACK, proxies. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    const drop = /^(TELEMETRY_|PREFECT_)/i.test(key) || /_PROXY$/i.test(key) || /^(DO_NOT_TRACK|NODE_OPTIONS)$/i.test(key);
    if (!drop && value !== undefined) env[key] = value;
  }
  return { ...env, ...extra };
}

const children = new Map<ChildProcess, Promise<Exit>>();
const homes = new Set<string>();

/** A fresh temp folder (a TELEMETRY_HOME, or a place to build one); removed by cleanupAll(). */
export async function makeTemp(prefix = 'telemetry-fault-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  homes.add(dir);
  return dir;
}

/** SIGKILLs every child still running (by its own pid) and removes every temp folder. */
export async function cleanupAll(): Promise<void> {
  for (const child of children.keys()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(children.values());
  children.clear();
  await Promise.all([...homes].map((dir) => rm(dir, { recursive: true, force: true })));
  homes.clear();
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running CLI process with its stdout parsed as pino lines. */
export interface CliProcess {
  child: ChildProcess;
  pid: number;
  /** Date.now() at spawn. */
  startedAt: number;
  /** Every stdout line that parsed as JSON, in order. */
  lines: LogLine[];
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
  /** Resolves with the first line matching; rejects after timeoutMs or when the process exits first. */
  waitForLine(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
}

/** Spawns `node dist/src/cli.js ...args` with exactly `env`. */
export function spawnCli(args: string[], env: Record<string, string>, cwd = os.tmpdir()): CliProcess {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const startedAt = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  // 'close', not 'exit': 'exit' can come before the last stderr bytes have been read from the pipe.
  const exited = new Promise<Exit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  children.set(child, exited);
  let out = '';
  let err = '';
  let partial = '';
  const lines: LogLine[] = [];
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const part of parts) {
      try {
        lines.push(JSON.parse(part) as LogLine);
      } catch {
        // Not JSON (a CLI command's plain output): kept in stdout() only.
      }
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => void (err += chunk));
  const waitForLine = async (match: (line: LogLine) => boolean, timeoutMs = 10_000) => {
    let gone = false;
    void exited.then(() => void (gone = true));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = lines.find(match);
      if (found !== undefined) return found;
      if (gone || Date.now() > deadline) {
        throw new Error(`no matching log line (${gone ? 'process exited' : `${timeoutMs} ms`}); stdout:\n${out}\nstderr:\n${err}`);
      }
      await sleep(10);
    }
  };
  return { child, pid: child.pid ?? -1, startedAt, lines, stdout: () => out, stderr: () => err, exited, waitForLine };
}

/** Runs a CLI command to its end; kills it after timeoutMs. */
export async function runCli(args: string[], env: Record<string, string>, options: { timeoutMs?: number; cwd?: string } = {}) {
  const proc = spawnCli(args, env, options.cwd);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
  const exit = await proc.exited;
  clearTimeout(timer);
  return { ...exit, stdout: proc.stdout(), stderr: proc.stderr(), lines: proc.lines };
}

/** A `telemetry-actor server` process that has logged `Server listening`. */
export interface ServerProcess extends CliProcess {
  url: string;
  home: string;
  /** GET a path of the server's API; status and parsed JSON body. */
  get<T = Record<string, unknown>>(apiPath: string): Promise<{ status: number; body: T }>;
  /** SIGTERM, then waits (SIGKILL after 10 s): the exit and how long it took. */
  stop(): Promise<Exit & { ms: number }>;
}

/** Starts the server on port 0 in `home` (a new temp one by default) with the given TELEMETRY_* values. */
export async function startServerProcess(vars: Record<string, string>, options: { home?: string; args?: string[] } = {}): Promise<ServerProcess> {
  const home = options.home ?? (await makeTemp());
  const env = cleanEnv({ TELEMETRY_HOME: home, TELEMETRY_PORT: '0', ...vars });
  const proc = spawnCli(['server', ...(options.args ?? [])], env);
  const listening = await proc.waitForLine((line) => line.msg === 'Server listening', 15_000);
  const url = String(listening.url);
  const stop = async () => {
    const started = Date.now();
    proc.child.kill('SIGTERM');
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), 10_000);
    const exit = await proc.exited;
    clearTimeout(timer);
    return { ...exit, ms: Date.now() - started };
  };
  return { ...proc, url, home, get: (apiPath) => getJson(`${url}${apiPath}`), stop };
}

/** GET url with a 5 s limit; the status and the JSON body (undefined if not JSON). */
export async function getJson<T = Record<string, unknown>>(url: string): Promise<{ status: number; body: T }> {
  const res = await request(url, { signal: AbortSignal.timeout(5_000) });
  const text = await res.body.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.statusCode, body: body as T };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Calls `read` every 25 ms until `accept` holds; returns that value, or throws with the last one. */
export async function pollUntil<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await sleep(25);
  }
}

/** Resident memory of a process in KiB, from /proc/<pid>/status. */
export function rssKb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

/** A raw TCP server on 127.0.0.1: each connection is handed to `onConnection` with its first bytes. */
export interface RawServer {
  url: string;
  port: number;
  /** Connections accepted so far (undici opens a spare one, which sends nothing, after an aborted request). */
  connections: number;
  /** Connections that sent bytes, i.e. requests. */
  requests: number;
  close(): Promise<void>;
}

export async function startRawServer(onConnection: (socket: net.Socket, firstBytes: Buffer) => void): Promise<RawServer> {
  const sockets = new Set<net.Socket>();
  const raw = { connections: 0, requests: 0 };
  const server = net.createServer((socket) => {
    raw.connections += 1;
    sockets.add(socket);
    socket.on('error', () => {}).once('close', () => sockets.delete(socket));
    socket.once('data', (bytes: Buffer) => {
      raw.requests += 1;
      onConnection(socket, bytes);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return Object.assign(raw, {
    url: `http://127.0.0.1:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  });
}

/** A self-signed key and certificate for CN=localhost made with openssl, or undefined when openssl is missing. */
export function selfSignedCert(dir: string): { key: Buffer; cert: Buffer } | undefined {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', key, '-out', cert], {
      stdio: 'ignore',
    });
  } catch {
    return undefined;
  }
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

/** An https server on 127.0.0.1 that answers 200 with the given certificate; counts requests. */
export async function startTlsServer(tls: { key: Buffer; cert: Buffer }) {
  const state = { requests: 0, tlsErrors: 0 };
  const server = https.createServer(tls, (_req, res) => {
    state.requests += 1;
    res.end('ok');
  });
  server.on('tlsClientError', () => void (state.tlsErrors += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return Object.assign(state, {
    url: `https://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** Runs `work` over `items` with at most `limit` at a time; results in input order. */
export async function pool<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
