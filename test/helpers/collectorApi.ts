// The reference server's HTTP API in this process, on 127.0.0.1:0, over a real collector store (LevelDB in a temp
// folder or a real PostgreSQL database): the same router, edges and collector the server runs, a clock the test
// steps, and the server side of every connection kept so a test can see how much of a request was read.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createCollector, type Collector } from '../../src/collector/collector.js';
import { silentLogger } from '../../src/logger.js';
import { createConsoleFeed } from '../../src/server/console/feed.js';
import { createApiHandler } from '../../src/server/httpApi.js';
import { installHttpEdges } from '../../src/server/httpEdges.js';
import { createGuard } from '../../src/server/security/guard.js';
import { liveStatus } from '../../src/server/status.js';
import { createStorage, type Storage } from '../../src/stores/index.js';
import { listenLocal } from '../harness/net.js';

export type BackendKind = 'level' | 'postgres';

/** An open storage of either kind, and how to drop it after the test. */
export interface TestBackend {
  kind: BackendKind;
  storage: Storage;
  close(): Promise<void>;
}

/** Opens LevelDB in a new temp folder, or PostgreSQL at `databaseUrl` (a fresh database per test). */
export async function openBackend(kind: BackendKind, databaseUrl?: () => Promise<string>): Promise<TestBackend> {
  const home = kind === 'level' ? await mkdtemp(path.join(os.tmpdir(), 'collector-api-')) : '/nonexistent';
  const url = kind === 'postgres' ? await databaseUrl?.() : undefined;
  if (kind === 'postgres' && url === undefined) throw new Error('a PostgreSQL backend needs a database URL');
  const storage = await createStorage({ home, dbPath: path.join(home, 'db'), databaseUrl: url });
  await storage.open();
  return {
    kind,
    storage,
    async close() {
      await storage.close();
      if (kind === 'level') await rm(home, { recursive: true, force: true });
    },
  };
}

export interface CollectorApi {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  port: number;
  collector: Collector;
  /** The server's side of every connection accepted so far, in order. */
  serverSockets: Socket[];
  close(): Promise<void>;
}

export interface CollectorApiOptions {
  /** The collector's (and its store's) clock; default Date.now. */
  now?: () => number;
  /** TELEMETRY_PRIVACY_MIN_SESSIONS; default 5. */
  privacyMinSessions?: number;
  /** TELEMETRY_RETENTION_DAYS; default 400. */
  retentionDays?: number;
}

/** Serves the API with a collector on `storage`'s collector store, opened with the settings' defaults unless given. */
export async function startCollectorApi(storage: Storage, options: CollectorApiOptions = {}): Promise<CollectorApi> {
  const logger = silentLogger();
  const bounds = { idempotencyHours: 24, retentionDays: options.retentionDays ?? 400, privacyMinSessions: options.privacyMinSessions ?? 5 };
  const store = await storage.openCollector({ ...bounds, logger, now: options.now });
  const collector = await createCollector({ store, now: options.now, storeOptions: bounds, logger });
  const status = () => liveStatus({ enabled: false, disabledBy: 'test', endpoint: '' }, undefined);
  const feed = createConsoleFeed({ telemetryStatus: status, preview: () => null, collectorStats: () => collector.stats(), logger });
  // The default guard of a loopback server: the Host checks and security headers, no token, no rate limit.
  const guard = createGuard({ host: '127.0.0.1', allowedHosts: [], trustProxy: false, readToken: undefined, rateLimit: 0, rateBurst: 1 }, logger);
  const handler = createApiHandler({ telemetryStatus: status, sessions: storage.sessions, collector, instance: 'test', feed, logger, guard });
  const server: Server = createServer(handler);
  installHttpEdges(server, handler, guard.admit);
  const serverSockets: Socket[] = [];
  server.on('connection', (socket: Socket) => serverSockets.push(socket));
  const port = await listenLocal(server);
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    collector,
    serverSockets,
    async close() {
      collector.close();
      feed.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A collector API on a backend of its own: `close()` stops the server and drops the backend. */
export async function openCollectorApi(kind: BackendKind, options: CollectorApiOptions & { databaseUrl?: () => Promise<string> } = {}): Promise<CollectorApi> {
  const backend = await openBackend(kind, options.databaseUrl);
  const api = await startCollectorApi(backend.storage, options);
  return {
    ...api,
    async close() {
      await api.close();
      await backend.close();
    },
  };
}
