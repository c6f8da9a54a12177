// What GET /api/collector/stats and /export answer, on every backend (src/stores/fold.ts makes them).
import type { Dimension, Scope } from './counting.js';

/** What GET /api/collector/stats answers: the heartbeat totals, and the fleet by installation (after the privacy floor). */
export interface CollectorStats {
  heartbeats_total: number;
  sessions_total: number;
  by_server_version: Record<string, number>;
  by_platform: Record<string, number>;
  by_environment: Record<string, number>;
  last_heartbeat_at: string | null;
  /** Heartbeats received per UTC day (`YYYY-MM-DD`), the last DAYS_SHOWN days that had any. */
  heartbeats_by_day: Record<string, number>;
  /** Distinct sessions seen per UTC day: active installations. */
  sessions_by_day: Record<string, number>;
  /** Heartbeats per server_version per UTC day. */
  versions_by_day: Record<string, Record<string, number>>;
  /** Heartbeats per architecture and per node_version (lifetime), like by_platform. */
  by_architecture: Record<string, number>;
  by_node_version: Record<string, number>;
  /** The UTC day the windows below end on (`YYYY-MM-DD`): today, or the day asked for. */
  as_of: string;
  /** TELEMETRY_PRIVACY_MIN_SESSIONS: buckets with fewer distinct sessions are folded into `other`. */
  privacy_min_sessions: number;
  /** Distinct sessions seen on as_of, in the 7 days and in the 30 days ending then (DAU, WAU, MAU). */
  active: ActiveCounts;
  /** The same, for each day of the series. */
  active_by_day: Record<string, ActiveCounts>;
  /** Sessions first seen per UTC day of receipt: new installations. */
  new_by_day: Record<string, number>;
  /** Distinct sessions per value over the 30 days ending as_of, per breakdown (`by_<field>`). */
  installations: { window_days: number } & Record<`by_${Dimension}`, Record<string, number>>;
  /** Per day, the share (0 to 1) of that day's active sessions on each server_version. */
  adoption_by_day: Record<string, Record<string, number>>;
}

/** Distinct sessions over a day, a week and 30 days. */
export interface ActiveCounts {
  day: number;
  week: number;
  month: number;
}

/** One row of GET /api/collector/export: a day, a breakdown and a value (after the privacy floor). */
export interface ExportRow {
  day: string;
  /** A payload field (server_version, platform, ...), or `total` (value '') for the whole fleet. */
  breakdown: Scope;
  value: string;
  heartbeats: number;
  /** Distinct sessions that day. */
  sessions: number;
}
