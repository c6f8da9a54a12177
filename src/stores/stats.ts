// What GET /api/collector/stats answers, on every backend, and the folding rules both backends share.
import type { Dimension, Scope } from './counting.js';

/** The collector's totals as the stores before this round's redesign answer them (removed once both backends moved). */
export interface LegacyCollectorStats {
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
}

/** What GET /api/collector/stats answers: the heartbeat totals, and the fleet by installation (after the privacy floor). */
export interface CollectorStats extends LegacyCollectorStats {
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

/** Distinct keys shown per by_* map, `other` included; further values are counted under `other`. */
export const MAX_MAP_KEYS = 1000;
export const OTHER_KEY = 'other';
/** The bucket for a heartbeat that lacks the field. */
export const UNKNOWN_KEY = 'unknown';
/** Days the per-day series show, newest last. */
export const DAYS_SHOWN = 90;

/** The counted dimensions: stats field, and the payload field it counts. */
export const DIMENSIONS = [
  ['by_server_version', 'server_version'],
  ['by_platform', 'platform'],
  ['by_environment', 'environment'],
] as const;

/** The key a payload value is counted under. */
export function countKey(value: unknown): string {
  return value === undefined || value === null ? UNKNOWN_KEY : String(value);
}

const DAY_MS = 86_400_000;
// The last day formatted: heartbeats of one batch share their day, and toISOString is costly per heartbeat.
let lastDay = NaN;
let lastDayText = '';

/** The UTC day of a time, `YYYY-MM-DD`. */
export function dayOf(at: Date | number): string {
  const day = Math.floor((typeof at === 'number' ? at : at.getTime()) / DAY_MS);
  if (day !== lastDay) {
    lastDayText = new Date(day * DAY_MS).toISOString().slice(0, 10);
    lastDay = day;
  }
  return lastDayText;
}

/** The largest MAX_MAP_KEYS - 1 counts, the rest summed under `other` (a store that caps at write time never needs it). */
export function foldCounts(entries: Iterable<[string, number]>): Record<string, number> {
  const sorted = [...entries].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  if (sorted.length <= MAX_MAP_KEYS) return Object.fromEntries(sorted);
  const kept = sorted.slice(0, MAX_MAP_KEYS - 1).filter(([key]) => key !== OTHER_KEY);
  const rest = sorted.slice(kept.length).reduce((sum, [, n]) => sum + n, 0);
  return { ...Object.fromEntries(kept), [OTHER_KEY]: rest };
}

/** Keeps the newest DAYS_SHOWN days of a per-day map, oldest first. */
export function lastDays<T>(byDay: Map<string, T>): Record<string, T> {
  return Object.fromEntries([...byDay].sort((a, b) => (a[0] < b[0] ? -1 : 1)).slice(-DAYS_SHOWN));
}
