// GET /api/collector/export's two formats: JSON (the rows with the range and the privacy floor) and CSV (RFC 4180,
// one header line, formula-looking values defused for spreadsheets).
import type { ExportRow } from '../stores/stats.js';
import type { ExportQuery } from './query.js';

export const CSV_COLUMNS = ['day', 'breakdown', 'value', 'heartbeats', 'sessions'] as const;
export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8; header=present';

// A spreadsheet runs a cell that starts like this as a formula; values come from any client (OWASP "CSV injection").
const FORMULA_START = /^[=+\-@]/;

/** One CSV field: quoted when it holds a comma, a quote or starts like a formula (then prefixed with '). */
function csvField(text: string): string {
  const safe = FORMULA_START.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) || safe !== text ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** The rows as CSV: a header line, then one line per row, CRLF line ends (RFC 4180). */
export function exportCsv(rows: readonly ExportRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const row of rows) lines.push([row.day, row.breakdown, csvField(row.value), row.heartbeats, row.sessions].join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** The rows as the JSON answer: what was asked, the floor they were folded with, and the rows. */
export function exportJson(rows: readonly ExportRow[], query: ExportQuery, privacyMinSessions: number): string {
  return JSON.stringify({ from: query.from, to: query.to, privacy_min_sessions: privacyMinSessions, rows });
}

/** The file name a browser saves the CSV as. */
export function exportFileName(query: ExportQuery): string {
  return `telemetry-export-${query.from}-${query.to}.csv`;
}
