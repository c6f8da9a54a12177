// The query parameters of the collector's reads (GET /api/collector/stats?as_of=, GET /api/collector/export?...):
// each day is a real `YYYY-MM-DD` inside the retention window, an unknown or repeated parameter is refused, and
// every refusal is a 400 naming the parameter.
import { dayNumber, dayText, parseDay } from '../stores/presence.js';

/** Days one export may span at most: days x breakdowns x values is at most 5,000 rows a day (the cap), 155,000 for 31. */
export const EXPORT_MAX_DAYS = 31;
/** Days an export covers when `from` is not given: the 30 days ending `to`. */
export const EXPORT_DEFAULT_DAYS = 30;
export const EXPORT_FORMATS = ['json', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export type QueryResult<T> = { ok: true; value: T } | { ok: false; parameter: string; message: string };

/** The days a read may ask for: from the oldest kept (TELEMETRY_RETENTION_DAYS) to today, by the collector's clock. */
export interface DayWindow {
  now: number;
  retentionDays: number;
}

const refuse = <T>(parameter: string, message: string): QueryResult<T> => ({ ok: false, parameter, message });

/** The parameters of `url`, when each is one of `allowed` and given once. */
function parameters(url: string | undefined, allowed: readonly string[]): QueryResult<Map<string, string>> {
  const full = url ?? '';
  const at = full.indexOf('?');
  // URLSearchParams never throws, whatever the request line held (new URL would, on some absolute forms).
  const search = new URLSearchParams(at === -1 ? '' : full.slice(at + 1));
  const found = new Map<string, string>();
  for (const [name, value] of search) {
    if (!allowed.includes(name)) return refuse(name, `unknown parameter ${name}: expected ${allowed.join(', ')}`);
    if (found.has(name)) return refuse(name, `${name} is given twice`);
    found.set(name, value);
  }
  return { ok: true, value: found };
}

/** A `YYYY-MM-DD` from the retention window's first day to today, as a day number. */
function dayParameter(name: string, text: string, window: DayWindow): QueryResult<number> {
  const day = parseDay(text);
  if (Number.isNaN(day)) return refuse(name, `${name} must be a date written YYYY-MM-DD`);
  const today = dayNumber(window.now);
  const oldest = today - window.retentionDays + 1;
  if (day > today) return refuse(name, `${name} must not be after today (${dayText(today)})`);
  if (day < oldest) {
    return refuse(name, `${name} must not be before ${dayText(oldest)}: days older than TELEMETRY_RETENTION_DAYS (${window.retentionDays}) are not kept`);
  }
  return { ok: true, value: day };
}

/** GET /api/collector/stats: `as_of` (optional) is a day of the retention window; the stats then end on it. */
export function parseStatsQuery(url: string | undefined, window: DayWindow): QueryResult<{ asOf?: string }> {
  const found = parameters(url, ['as_of']);
  if (!found.ok) return found;
  const asOf = found.value.get('as_of');
  if (asOf === undefined) return { ok: true, value: {} };
  const day = dayParameter('as_of', asOf, window);
  return day.ok ? { ok: true, value: { asOf: dayText(day.value) } } : day;
}

export interface ExportQuery {
  format: ExportFormat;
  /** `YYYY-MM-DD`, from <= to, at most EXPORT_MAX_DAYS apart (inclusive). */
  from: string;
  to: string;
}

/** GET /api/collector/export: `format` (json, csv; default json), `to` (default today), `from` (default 30 days before `to`). */
export function parseExportQuery(url: string | undefined, window: DayWindow): QueryResult<ExportQuery> {
  const found = parameters(url, ['format', 'from', 'to']);
  if (!found.ok) return found;
  const format = found.value.get('format') ?? 'json';
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) return refuse('format', `format must be ${EXPORT_FORMATS.join(' or ')}`);
  const toText = found.value.get('to');
  const to = toText === undefined ? { ok: true as const, value: dayNumber(window.now) } : dayParameter('to', toText, window);
  if (!to.ok) return to;
  const fromText = found.value.get('from');
  const oldest = dayNumber(window.now) - window.retentionDays + 1;
  const from = fromText === undefined ? { ok: true as const, value: Math.max(oldest, to.value - EXPORT_DEFAULT_DAYS + 1) } : dayParameter('from', fromText, window);
  if (!from.ok) return from;
  if (from.value > to.value) return refuse('from', 'from must not be after to');
  if (to.value - from.value + 1 > EXPORT_MAX_DAYS) return refuse('to', `an export spans at most ${EXPORT_MAX_DAYS} days (from ${dayText(from.value)})`);
  return { ok: true, value: { format: format as ExportFormat, from: dayText(from.value), to: dayText(to.value) } };
}
