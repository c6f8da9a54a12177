// What the generated heartbeat validator calls at run time: the `date-time` format and JSON Schema's string
// length. Here rather than in ajv's runtime modules, so the collector runs without ajv installed.

/** Length in Unicode code points, as JSON Schema's minLength/maxLength count (a surrogate pair is one). */
export function codePointLength(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i += 1) {
    const unit = text.charCodeAt(i);
    // A high surrogate followed by a low one is one character.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i += 1;
    length += 1;
  }
  return length;
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:Z|([+-])(\d{2}):(\d{2}))$/;

const daysIn = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

/**
 * RFC 3339 `date-time` with an offset (`T` and `Z` upper case): a real calendar day (no 2026-02-30), hours
 * 0-23, minutes 0-59, seconds 0-59, or 60 for a leap second at 23:59 UTC (as RFC 3339 and ajv-formats allow).
 */
export function isIsoDateTime(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = DATE_TIME.exec(value);
  if (m === null) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const [offsetHour, offsetMinute] = [Number(m[8] ?? 0), Number(m[9] ?? 0)];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return false;
  if (hour > 23 || minute > 59 || offsetHour > 23 || offsetMinute > 59 || second > 60) return false;
  if (second < 60) return true;
  const sign = m[7] === '-' ? -1 : 1;
  const utcMinutes = (((hour - sign * offsetHour) * 60 + minute - sign * offsetMinute) % 1440 + 1440) % 1440;
  return utcMinutes === 23 * 60 + 59;
}

/** The formats the schema names, as the generated validator looks them up. */
export const heartbeatFormats = { 'date-time': { type: 'string', validate: isIsoDateTime } } as const;
