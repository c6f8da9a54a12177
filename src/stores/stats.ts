// What GET /api/collector/stats answers, on every backend.

/** The collector's totals. */
export interface CollectorStats {
  heartbeats_total: number;
  sessions_total: number;
  by_server_version: Record<string, number>;
  by_platform: Record<string, number>;
  by_environment: Record<string, number>;
  last_heartbeat_at: string | null;
}
