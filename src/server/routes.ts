// Every path of the reference server's HTTP API, in one place: the server serves these, the CLI asks them,
// and ACCESS says who may call each one.
export const ROUTES = {
  health: '/api/health',
  services: '/api/services',
  telemetry: '/api/telemetry',
  /** The stored session: GET reads, POST gets or creates, DELETE forgets (the CLI, while a server owns the home). */
  session: '/api/telemetry/session',
  collector: '/api/collector',
  collectorStats: '/api/collector/stats',
  /** The heartbeat's JSON Schema (2020-12), the rule POST /api/collector applies. */
  collectorSchema: '/api/collector/schema',
  /** Per day, breakdown and value: heartbeats and distinct sessions, after the privacy floor (`?format=json|csv&from=&to=`). */
  collectorExport: '/api/collector/export',
  /** The Prometheus text format: this server's telemetry and, when served, the collector's counts. */
  metrics: '/metrics',
  /** Live updates for the console: Server-Sent Events (`telemetry`, `preview`, `collector`). */
  events: '/api/events',
  /** POST: a one-time ticket for the event stream, for a browser that holds the read token (EventSource sends no header). */
  eventsTicket: '/api/events/ticket',
  /** The console page, and the files it loads (all from this server). */
  console: '/',
  consoleScript: '/console/console.js',
  consoleStyle: '/console/console.css',
  consoleChart: '/console/chart.umd.min.js',
  consoleDiagram: '/console/telemetry-machine.svg',
} as const;

/**
 * Who may call a route (docs/security.md):
 * - `public`: anyone (health checks, the console's static files: they hold no data);
 * - `send`: anyone, at most TELEMETRY_RATE_LIMIT a minute per client when the server is reachable beyond loopback;
 * - `read`: with TELEMETRY_READ_TOKEN set, only a request carrying it (`Authorization: Bearer ...`);
 * - `stream`: as read, or with a one-time ticket in `?ticket=` (EventSource cannot send the header);
 * - `local`: the CLI on this machine: a loopback socket with no proxy in between, a JSON body, and the token if set.
 * Every request also passes the Host and cross-site checks first, whatever its route.
 */
export type Access = 'public' | 'send' | 'read' | 'stream' | 'local';

/** The routes that are not a `read`, by path and method (HEAD as GET). A route missing here is a read: private by default. */
export const ACCESS: Readonly<Record<string, Readonly<Partial<Record<string, Access>>>>> = {
  [ROUTES.health]: { GET: 'public' },
  [ROUTES.console]: { GET: 'public' },
  [ROUTES.consoleScript]: { GET: 'public' },
  [ROUTES.consoleStyle]: { GET: 'public' },
  [ROUTES.consoleChart]: { GET: 'public' },
  [ROUTES.consoleDiagram]: { GET: 'public' },
  [ROUTES.collector]: { POST: 'send' },
  // The rule senders follow: it holds no data.
  [ROUTES.collectorSchema]: { GET: 'public' },
  [ROUTES.events]: { GET: 'stream' },
  [ROUTES.session]: { POST: 'local', DELETE: 'local' },
};

/** The access rule of one route and method: its ACCESS entry, else `read`. */
export function accessOf(path: string, method: string): Access {
  return ACCESS[path]?.[method] ?? 'read';
}
