// Every path of the reference server's HTTP API, in one place: the server serves these, the CLI asks them.
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
  /** The console page, and the files it loads (all from this server). */
  console: '/',
  consoleScript: '/console/console.js',
  consoleStyle: '/console/console.css',
  consoleChart: '/console/chart.umd.min.js',
  consoleDiagram: '/console/telemetry-machine.svg',
} as const;
