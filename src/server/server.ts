// The server host: runs serverMachine with real resources (LevelDB, node:http, collector, telemetry child).
// Telemetry is the TELEMETRY_ENABLED / DO_NOT_TRACK / --no-telemetry controlled child; the server never
// depends on it: a telemetry failure leaves the API serving.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createActor, fromPromise, type ActorRefFrom, type InspectionEvent } from 'xstate';
import { serverMachine, type ListenerInfo, type ServerInput, type ServerOutput } from '../../machines/serverMachine.js';
import type { telemetryMachine } from '../../machines/telemetryMachine.js';
import { createTelemetryMachine } from '../actor/createTelemetryMachine.js';
import type { Collector } from '../collector/collector.js';
import { StoreLockedError, UserError } from '../errors.js';
import { makeHome } from '../folders.js';
import { buildHeartbeat, type Heartbeat } from '../heartbeat.js';
import { createLogger, type Logger } from '../logger.js';
import type { Settings } from '../settings/index.js';
import { optOutHint } from '../settings/resolveTelemetry.js';
import { createStorage, type Storage } from '../stores/index.js';
import { API_VERSION, SOURCE, VERSION } from '../version.js';
import { resolveEndpoint, serverUrl } from './endpoint.js';
import { createConsoleFeed, type ConsoleFeed } from './console/feed.js';
import { createApiHandler } from './httpApi.js';
import { installHttpEdges } from './httpEdges.js';
import { checkExposure } from './security/exposure.js';
import { createGuard } from './security/guard.js';
import { liveServerInfo, lockedMessage, removeServerInfo, writeServerInfo } from './serverInfo.js';
import { liveStatus, type TelemetryStatus } from './status.js';

export interface ServerOptions {
  settings: Settings;
  /** Root logger; default a pino logger at settings.logLevel on stdout. */
  logger?: Logger;
  /** Inspection observer (the Stately inspector), passed to createActor. */
  inspect?: (event: InspectionEvent) => void;
}

/** A started server: the root actor, its output once stopped, and the live telemetry status. */
export interface RunningServer {
  actor: ReturnType<typeof createActor<typeof serverMachine>>;
  /** Resolves once the machine reaches `stopped`. */
  done: Promise<ServerOutput>;
  /** Sends `server.shutdown`. */
  shutdown(): void;
  telemetryStatus(): TelemetryStatus;
}

// Sockets that say nothing for this long are cut (slow-loris), and a whole request has this long.
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
// Node enforces both only when it sweeps its connections, every 30 s by default: a 10 s limit would cut at 30 s.
const CONNECTIONS_CHECK_MS = 1_000;
// A short-lived command (status, reset) may hold the LevelDB lock for a moment: start-up waits this long for it.
const LOCK_WAIT_MS = 5_000;
const LOCK_RETRY_MS = 100;

/** Builds the machine input from validated settings. */
export function serverInput(settings: Settings): ServerInput {
  return {
    telemetry: {
      // The configured address until the listener knows its real one (port 0): see recordUrl.
      endpoint: resolveEndpoint(settings),
      loopSeconds: settings.loopSeconds,
      timeoutSeconds: settings.timeoutSeconds,
      environment: settings.environment,
      source: SOURCE,
      serverVersion: VERSION,
      apiVersion: API_VERSION,
      retries: settings.retries,
      optOutHint: optOutHint({ flagName: '--no-telemetry' }),
    },
    telemetryEnabled: settings.enabled,
    disabledBy: settings.disabledBy,
  };
}

/** Starts the server machine; resolve `done` for its exit code. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { settings } = options;
  checkExposure(settings);
  const log = options.logger ?? createLogger({ level: settings.logLevel });
  const resources = createResources(settings, await createStorage({ ...settings, logger: log.child({ component: 'storage' }) }), log);

  const machine = serverMachine.provide({
    actors: {
      openDatabase: fromPromise(() => resources.open()),
      startListener: fromPromise(() => resources.listen()),
      closeResources: fromPromise(() => resources.close()),
      telemetry: createTelemetryMachine({
        sessions: resources.storage.sessions,
        lease: resources.storage.lease,
        replicaId: resources.instance,
        logger: log,
        debug: settings.debug,
      }),
    },
    actions: serverLogActions(log),
  });
  const actor = createActor(machine, { input: serverInput(settings), inspect: options.inspect });
  // Kept once seen: a child that reached `stopped` leaves the machine's children, but its final snapshot is the status.
  let telemetryRef: TelemetryRef | undefined;
  const telemetryStatus = () => {
    const child = (telemetryRef ??= actor.getSnapshot().children.telemetry);
    const endpoint = resolveEndpoint(settings, actor.getSnapshot().context.url ?? undefined);
    return liveStatus({ ...settings, endpoint }, child?.getSnapshot());
  };
  resources.setStatus(telemetryStatus, () => previewOf(telemetryRef));

  const done = new Promise<ServerOutput>((resolve) => {
    actor.subscribe({
      next: (snapshot) => {
        if (telemetryRef === undefined) {
          telemetryRef = snapshot.children.telemetry;
          // The console follows the child's every step, not only the server's.
          telemetryRef?.subscribe({ next: () => resources.feed.changed(), error: () => resources.feed.changed() });
        }
        resources.feed.changed();
        if (snapshot.status === 'done') resolve(snapshot.output);
      },
      // The root's error observer: no actor error ever escapes as an uncaught exception.
      error: (error) => {
        log.child({ component: 'server' }).fatal({ err: error }, 'Server machine failed');
        resolve({ exitCode: 1, error: error instanceof Error ? error.message : String(error) });
      },
    });
  });
  actor.start();
  return { actor, done, shutdown: () => actor.send({ type: 'server.shutdown' }), telemetryStatus };
}

type TelemetryRef = ActorRefFrom<typeof telemetryMachine>;

/** The exact body the telemetry child sends now (as `telemetry-actor preview` shows it), once it has a session. */
function previewOf(child: TelemetryRef | undefined): Heartbeat | null {
  const context = child?.getSnapshot().context;
  if (context?.sessionId == null || context.sessionStartTimestamp == null) return null;
  return buildHeartbeat({ ...context, sessionId: context.sessionId, sessionStartTimestamp: context.sessionStartTimestamp });
}

function serverLogActions(log: Logger) {
  const serverLog = log.child({ component: 'server' });
  return {
    logListening: ({ context }: { context: { url: string | null } }) =>
      serverLog.info({ url: context.url, version: VERSION }, 'Server listening'),
    logTelemetryOff: ({ context }: { context: { disabledBy: string | null } }) =>
      serverLog.info({ disabledBy: context.disabledBy }, 'Telemetry is off; no heartbeat will be sent'),
    logTelemetryCrash: (_: unknown, failure: { error: unknown }) =>
      serverLog.error({ err: failure.error }, 'Telemetry service crashed; the server keeps serving'),
    logStartFailure: ({ context }: { context: { error: string | null } }) =>
      // Constant text: the reason is a field, so a terminal shows it once and log searches find every failure.
      serverLog.error({ reason: context.error }, 'Start-up failed'),
    logShutdown: () => serverLog.info('Shutting down'),
    logCloseFailure: (_: unknown, failure: { error: unknown }) =>
      serverLog.error({ err: failure.error }, 'Failed to close cleanly'),
  };
}

/** The handles the machine's actors open and close; they live here, never in context. */
function createResources(settings: Settings, storage: Storage, log: Logger) {
  let httpServer: Server | undefined;
  const instance = randomUUID();
  let collector: Collector | undefined;
  let status: () => TelemetryStatus = () => liveStatus({ ...settings, endpoint: resolveEndpoint(settings) }, undefined);
  let preview: () => Heartbeat | null = () => null;
  const feed: ConsoleFeed = createConsoleFeed({
    telemetryStatus: () => status(),
    preview: () => preview(),
    collectorStats: settings.collector ? () => collector?.stats() ?? Promise.reject(new Error('collector not open')) : undefined,
    logger: log,
  });

  async function open(): Promise<void> {
    // Every backend: server.json goes into the home, and a home that cannot be made fails here, in one line.
    await makeHome(settings.home);
    await openStorage(storage, settings.home);
    if (!settings.collector) return;
    // Loaded only when served: a server reporting elsewhere starts without the collector's modules.
    const { createCollector } = await import('../collector/collector.js');
    const collectorLog = log.child({ component: 'collector' });
    const { idempotencyHours, retentionDays, privacyMinSessions } = settings;
    const store = await storage.openCollector({ idempotencyHours, retentionDays, privacyMinSessions, logger: collectorLog });
    collector = await createCollector({ store, logger: collectorLog, storeOptions: { idempotencyHours, retentionDays, privacyMinSessions } });
  }

  async function listen(): Promise<ListenerInfo> {
    const guard = createGuard(settings, log, () => collector?.countRejection(429));
    const handler = createApiHandler({ telemetryStatus: () => status(), sessions: storage.sessions, collector, instance, feed, guard, logger: log });
    const server = createServer(
      { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: CONNECTIONS_CHECK_MS },
      handler,
    );
    installHttpEdges(server, handler, guard.admit);
    httpServer = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, settings)));
      server.listen({ host: settings.host, port: settings.port }, resolve);
    });
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : settings.port;
    const url = serverUrl(settings.host, port);
    await writeServerInfo(settings.home, { pid: process.pid, url, started_at: new Date().toISOString(), home: settings.home, instance });
    return { url, endpoint: resolveEndpoint(settings, url) };
  }

  async function close(): Promise<void> {
    feed.close();
    if (httpServer?.listening === true) {
      // One turn for the event streams' last chunk to reach their sockets: cut mid-stream, a browser logs
      // ERR_INCOMPLETE_CHUNKED_ENCODING instead of a clean end it reconnects from.
      await new Promise((resolve) => setImmediate(resolve));
      const closed = new Promise((resolve) => httpServer?.close(resolve));
      // Keep-alive and half-sent requests must not hold the exit.
      httpServer.closeAllConnections();
      await closed;
      await removeServerInfo(settings.home);
    }
    collector?.close();
    await storage.close();
  }

  const setStatus = (statusFn: () => TelemetryStatus, previewFn: () => Heartbeat | null) => {
    status = statusFn;
    preview = previewFn;
  };
  return { storage, instance, feed, open, listen, close, setStatus };
}

function listenError(error: NodeJS.ErrnoException, settings: Settings): Error {
  if (error.code === 'EADDRINUSE') {
    return new UserError(`Port ${settings.port} on ${settings.host} is already in use; set TELEMETRY_PORT or --port`);
  }
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
    return new UserError(`Cannot listen on ${settings.host}: ${error.code}; set TELEMETRY_HOST or --host`);
  }
  return error;
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
