// Fault-matrix helpers: local servers that misbehave on purpose, and the real CLI through the shared process
// harness (test/harness/process.js), one sandbox per test file (vitest runs each file in its own process).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { createSandbox } from '../harness/process.js';
import { listenLocal } from '../harness/net.js';

export { CLI, cleanEnv, getJson, type CliProcess, type Exit, type ServerProcess } from '../harness/process.js';

const sandbox = createSandbox();
/** A fresh temp folder (a TELEMETRY_HOME, or a place to build one); removed by cleanupAll(). */
export const makeTemp = sandbox.makeTemp;
/** SIGKILLs every child of this file still running (by its own pid) and removes every temp folder. */
export const cleanupAll = sandbox.cleanup;
/** Spawns `node dist/src/bin.cjs ...args` with cleanEnv(env); env must name a temp TELEMETRY_HOME. */
export const spawnCli = sandbox.spawnCli;
/** Runs a CLI command to its end; rejects if it has not exited within LIMITS.commandMs. */
export const runCli = sandbox.runCli;
/** Starts the server on port 0 in a new temp home (unless env names one) and waits for `Server listening`. */
export const startServerProcess = sandbox.startServerProcess;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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
  const port = await listenLocal(server);
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
  const port = await listenLocal(server);
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
