// The built CLI (dist/src/bin.cjs) as a real child process for tests, through the shared process harness
// (test/harness/process.js), plus a counting endpoint and a reader for the stored session.
import http from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';
import { Level } from 'level';
import { createSandbox } from '../harness/process.js';
import { listenLocal } from '../harness/net.js';

export {
  CLI as CLI_PATH,
  cleanEnv,
  getJson,
  type CliEnv,
  type CliResult,
  type ServerProcess,
  type Sandbox as CliSandbox,
} from '../harness/process.js';

/** Spawns, tracks and cleans up CLI children and temp homes; one per test (or per file with afterEach). */
export const createCliSandbox = createSandbox;

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
  const port = await listenLocal(server);
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
