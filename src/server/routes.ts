// Every path of the reference server's HTTP API, in one place: the server serves these, the CLI asks them.
export const ROUTES = {
  health: '/api/health',
  services: '/api/services',
  telemetry: '/api/telemetry',
  /** The stored session: GET reads, POST gets or creates, DELETE forgets (the CLI, while a server owns the home). */
  session: '/api/telemetry/session',
  collector: '/api/collector',
  collectorStats: '/api/collector/stats',
} as const;
