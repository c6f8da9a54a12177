// The server's resources and the order they open and close in. Open: storage (waiting out a short-lived
// command's LevelDB lock), the collector (loaded only when served), the HTTP listener with its timeouts and
// the console feed it serves, then <home>/server.json naming this server. Close: the same, last opened first.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ListenerInfo } from '../../machines/serverMachine.js';
import type { Collector } from '../collector/collector.js';
import { StoreLockedError, UserError, errorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import { makeHome } from '../folders.js';
import type { Settings } from '../settings/index.js';
import type { Storage } from '../stores/index.js';
import { createConsoleFeed, type ConsoleFeed } from './console/feed.js';
import { resolveEndpoint, serverUrl } from './endpoint.js';
import { createApiHandler } from './httpApi.js';
import { installHttpEdges } from './httpEdges.js';
import { createGuard } from './security/guard.js';
import { liveServerInfo, lockedMessage, removeServerInfo, writeServerInfo } from './serverInfo.js';
import type { TelemetryView } from './telemetryChild.js';

// Sockets that say nothing for this long are cut (slow-loris), and a whole request has this long.
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
// Node enforces both only when it sweeps its connections, every 30 s by default: a 10 s limit would cut at 30 s.
const CONNECTIONS_CHECK_MS = 1_000;
// A short-lived command (status, reset) may hold the LevelDB lock for a moment: start-up waits this long for it.
const LOCK_WAIT_MS = 5_000;
const LOCK_RETRY_MS = 100;

/** The handles serverMachine's actors open and close; they live here, never in the machine's context. */
export interface ServerResources {
  storage: Storage;
  /** Random per process: in server.json and every API answer, and the telemetry child's replica id. */
  instance: string;
  /** The `openDatabase` actor: storage, then the collector when it is served. */
  open(): Promise<void>;
  /** The `startListener` actor: the HTTP listener (and the console feed on it), then server.json. */
  listen(): Promise<ListenerInfo>;
  /** The `closeResources` actor: closes what was opened, last first; every step runs, the first failure is thrown. */
  close(): Promise<void>;
  /** Told of every step of the server and its telemetry child: the console's streams push the new status. */
  changed(): void;
}

export interface ResourceDeps {
  settings: Settings;
  /** Created, not yet open. */
  storage: Storage;
  /** The telemetry child as the API and the console read it. */
  telemetry: TelemetryView;
  logger: Logger;
}

/** The server's resources, none open yet. */
export function createResources({ settings, storage, telemetry, logger }: ResourceDeps): ServerResources {
  const instance = randomUUID();
  let collector: Collector | undefined;
  // What is open, in the order it opened: close() undoes it from the end.
  const opened: Array<() => unknown> = [];
  let closing = false;
  /**
   * Starts a step with its undo registered at once. A signal can close the server while it is still starting: a
   * close that begins while the step runs waits for it, then undoes it (a failed step has nothing to undo), and
   * once the close has begun no step starts.
   */
  const opening = <T>(start: () => Promise<T>, undo: (value: T) => unknown): Promise<T> => {
    if (closing) return Promise.reject(new Error('The server was closed while it started'));
    const step = start();
    opened.push(() => step.then(undo, () => undefined));
    return step;
  };
  const feed: ConsoleFeed = createConsoleFeed({
    telemetryStatus: telemetry.status,
    preview: telemetry.preview,
    collectorStats: settings.collector ? () => collector?.stats() ?? Promise.reject(new Error('collector not open')) : undefined,
    logger,
  });

  async function open(): Promise<void> {
    // Closed even when opening fails half-way: a storage closes whatever part of it did open.
    opened.push(() => storage.close());
    // The collector's code loads while the database opens: LevelDB's open waits on the disk, not on this thread.
    const collectorCode = settings.collector ? loadCollectorCode(storage) : undefined;
    // Should the storage fail to open, a failure to load is not also an unhandled rejection.
    collectorCode?.catch(() => undefined);
    // Every backend: server.json goes into the home, and a home that cannot be made fails here, in one line.
    await makeHome(settings.home);
    await openStorage(storage, settings.home);
    if (collectorCode === undefined) return;
    const code = await collectorCode;
    collector = await opening(() => openCollector(settings, storage, logger, code), (served) => served.close());
  }

  async function listen(): Promise<ListenerInfo> {
    const guard = createGuard(settings, logger, () => collector?.countRejection(429));
    const handler = createApiHandler({ telemetryStatus: telemetry.status, sessions: storage.sessions, collector, instance, feed, guard, logger });
    const server = await opening(() => startHttp(settings, handler, guard.admit), closeHttp);
    // The streams end before their listener closes; see closeHttp.
    opened.push(() => feed.close());
    const url = serverUrl(settings.host, listeningPort(server, settings.port));
    const info = { pid: process.pid, url, started_at: new Date().toISOString(), home: settings.home, instance };
    await opening(() => writeServerInfo(settings.home, info), () => removeServerInfo(settings.home));
    return { url, endpoint: resolveEndpoint(settings, url) };
  }

  async function close(): Promise<void> {
    closing = true;
    let failure: unknown;
    for (const step of opened.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
  }

  return { storage, instance, open, listen, close, changed: () => feed.changed() };
}

/**
 * Opens the storage, waiting up to LOCK_WAIT_MS while a short-lived command holds the LevelDB lock; a live
 * server of this home fails at once. Either way the error names who holds it.
 */
async function openStorage(storage: Storage, home: string): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      return await storage.open();
    } catch (error) {
      if (!(error instanceof StoreLockedError)) throw error;
      if (Date.now() >= deadline || (await liveServerInfo(home)) !== undefined) {
        throw new UserError(await lockedMessage(home, error.location), { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
    }
  }
}

/** The collector's modules and its store's, loaded only for a server that serves it (a server reporting elsewhere never loads them). */
async function loadCollectorCode(storage: Storage): Promise<typeof import('../collector/collector.js')> {
  const [collectorModule] = await Promise.all([import('../collector/collector.js'), storage.loadCollectorCode?.()]);
  return collectorModule;
}

/** The collector on the open storage. */
async function openCollector(settings: Settings, storage: Storage, logger: Logger, { createCollector }: typeof import('../collector/collector.js')): Promise<Collector> {
  const collectorLog = logger.child({ component: 'collector' });
  const { idempotencyHours, retentionDays, privacyMinSessions } = settings;
  const storeOptions = { idempotencyHours, retentionDays, privacyMinSessions };
  const store = await storage.openCollector({ ...storeOptions, logger: collectorLog });
  return createCollector({ store, logger: collectorLog, storeOptions });
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Listens with the server's timeouts and edges (src/server/httpEdges.ts); a taken or missing address is a UserError. */
async function startHttp(settings: Settings, handler: Handler, admit: Handler): Promise<Server> {
  const server = createServer(
    { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: CONNECTIONS_CHECK_MS },
    handler,
  );
  installHttpEdges(server, handler, admit);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(listenError(error, settings)));
    server.listen({ host: settings.host, port: settings.port }, resolve);
  });
  return server;
}

function listeningPort(server: Server, configured: number): number {
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : configured;
}

async function closeHttp(server: Server): Promise<void> {
  // One turn for the event streams' last chunk to reach their sockets: cut mid-stream, a browser logs
  // ERR_INCOMPLETE_CHUNKED_ENCODING instead of a clean end it reconnects from.
  await new Promise((resolve) => setImmediate(resolve));
  const closed = new Promise((resolve) => server.close(resolve));
  // Keep-alive and half-sent requests must not hold the exit.
  server.closeAllConnections();
  await closed;
}

function listenError(error: unknown, settings: Settings): unknown {
  const code = errorCode(error);
  if (code === 'EADDRINUSE') return new UserError(`Port ${settings.port} on ${settings.host} is already in use; set TELEMETRY_PORT or --port`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return new UserError(`Cannot listen on ${settings.host}: ${code}; set TELEMETRY_HOST or --host`);
  return error;
}
