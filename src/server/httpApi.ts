// The reference server's HTTP API: health, services, telemetry status and the collector (JSON), and the console.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Collector } from '../collector/collector.js';
import { REFUSALS } from '../errors.js';
import { closeUnread, sendJson, sendRefusal } from '../httpJson.js';
import type { Logger } from '../logger.js';
import type { SessionStore } from '../stores/index.js';
import { consoleAssetHandlers } from './console/assets.js';
import type { ConsoleFeed } from './console/feed.js';
import { accessOf, INSTANCE_HEADER, ROUTES } from './routes.js';
import type { Guard } from './security/guard.js';
import type { TelemetryStatus } from './status.js';

export interface ApiDeps {
  /** The live telemetry status, read at each request. */
  telemetryStatus: () => TelemetryStatus;
  /** The home's session, for the CLI's preview, send and reset while this server owns the database. */
  sessions: SessionStore;
  /** Present when the collector is on. */
  collector?: Collector;
  /** Random per process; also written to server.json. */
  instance: string;
  /** The console's live-updates stream (GET /api/events); told of every heartbeat the collector takes. */
  feed: ConsoleFeed;
  /** The defences every request passes before its handler (src/server/security/). */
  guard: Guard;
  logger: Logger;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
type Routes = Record<string, Partial<Record<string, Handler>>>;

function buildRoutes(deps: ApiDeps): Routes {
  const { sessions } = deps;
  const routes: Routes = {
    ...Object.fromEntries(Object.entries(consoleAssetHandlers()).map(([path, GET]) => [path, { GET }])),
    [ROUTES.events]: { GET: (req, res) => deps.feed.handle(req, res) },
    [ROUTES.eventsTicket]: { POST: (_req, res) => sendJson(res, 200, { ticket: deps.guard.ticket() }, { 'cache-control': 'no-store' }) },
    [ROUTES.health]: { GET: (_req, res) => sendJson(res, 200, { status: 'ok' }) },
    [ROUTES.services]: { GET: (_req, res) => sendJson(res, 200, [serviceEntry(deps.telemetryStatus())]) },
    [ROUTES.telemetry]: { GET: (_req, res) => sendJson(res, 200, deps.telemetryStatus()) },
    // Loaded at the first scrape: a server nobody scrapes never loads it.
    [ROUTES.metrics]: { GET: async (_req, res) => (await import('./metrics.js')).handleMetrics(res, deps.telemetryStatus(), deps.collector) },
    [ROUTES.session]: {
      GET: async (_req, res) => sendJson(res, 200, { session: (await sessions.read()) ?? null }),
      POST: async (_req, res) => {
        const { created, ...session } = await sessions.getOrCreate();
        sendJson(res, 200, { session, created });
      },
      DELETE: async (_req, res) => sendJson(res, 200, { reset: await sessions.reset() }),
    },
  };
  const { collector } = deps;
  if (collector !== undefined) {
    routes[ROUTES.collector] = {
      POST: (req, res) => {
        // Only while a console watches: no listener per heartbeat on the collector's hot path otherwise.
        if (deps.feed.watching()) res.once('finish', () => res.statusCode === 202 && deps.feed.collected());
        return collector.handlePost(req, res);
      },
    };
    routes[ROUTES.collectorStats] = { GET: (req, res) => collector.handleStats(req, res) };
    routes[ROUTES.collectorSchema] = { GET: (req, res) => collector.handleSchema(req, res) };
    routes[ROUTES.collectorExport] = { GET: (req, res) => collector.handleExport(req, res) };
  }
  return routes;
}

function serviceEntry(status: TelemetryStatus) {
  return { name: 'telemetry', state: status.state, enabled: status.enabled, disabled_by: status.disabled_by, stop_reason: status.stop_reason };
}

/**
 * Creates the request listener for node:http. Every request passes the guard first (Host, requesting site,
 * then the route's access rule); unknown paths answer 404, wrong methods 405, all as JSON.
 */
export function createApiHandler(deps: ApiDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const routes = buildRoutes(deps);
  const log = deps.logger.child({ component: 'http' });
  const { guard } = deps;

  return (req, res) => {
    res.setHeader(INSTANCE_HEADER, deps.instance);
    const target = guard.admit(req, res);
    if (target === undefined) return closeUnread(req, res);
    const { path } = target;
    const route = routes[path];
    if (route === undefined) {
      sendRefusal(res, REFUSALS.notFound, { path });
      return closeUnread(req, res);
    }
    const method = req.method === 'HEAD' && route.GET !== undefined ? 'GET' : (req.method ?? 'GET');
    const handler = route[method];
    if (handler === undefined) {
      const allow = Object.keys(route).join(', ');
      sendRefusal(res, REFUSALS.methodNotAllowed(req.method), { allow }, { allow });
      return closeUnread(req, res);
    }
    if (!guard.authorize(req, res, accessOf(path, method), target)) return closeUnread(req, res);
    const failed = (error: unknown): void => {
      log.error({ err: error, path }, 'Request failed');
      sendRefusal(res, REFUSALS.internal);
    };
    // Called at once rather than through a promise chain: the collector answers tens of thousands of
    // requests a second, and a synchronous throw is caught here just the same.
    try {
      const pending = handler(req, res);
      if (pending !== undefined) pending.catch(failed);
    } catch (error) {
      failed(error);
    }
  };
}

