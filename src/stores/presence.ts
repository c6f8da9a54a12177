// Which days a session was seen on, kept small (a 64-day bit mask per value), and what one more sighting adds
// to the distinct-session counts over 1, 7 and 30 days: exact, whatever order the days arrive in.

/** The windows distinct sessions are counted over: a day (DAU), a week (WAU), 30 days (MAU). */
export const WINDOWS = [1, 7, 30] as const;
export type Window = (typeof WINDOWS)[number];

/** Days a presence remembers: the latest day seen and the 63 before it. */
export const PRESENCE_DAYS = 64;
/**
 * How far before a session's latest day a sighting may arrive and still be counted exactly: its 30-day window
 * reaches 29 days further back, and the mask must cover it. Only collectors whose clocks disagree by a month
 * could see one later than this; it is then counted as a heartbeat but adds no session counts.
 */
export const LATE_LIMIT_DAYS = PRESENCE_DAYS - 30;

const DAY_MS = 86_400_000;
const MASK = (1n << BigInt(PRESENCE_DAYS)) - 1n;

/** The UTC day number of a time: whole days since 1970-01-01. */
export function dayNumber(at: Date | number): number {
  return Math.floor((typeof at === 'number' ? at : at.getTime()) / DAY_MS);
}

let lastDay = NaN;
let lastDayText = '';
/** A day number as `YYYY-MM-DD` (the last one is cached: heartbeats of a group share their day). */
export function dayText(day: number): string {
  if (day !== lastDay) {
    lastDayText = new Date(day * DAY_MS).toISOString().slice(0, 10);
    lastDay = day;
  }
  return lastDayText;
}

/** The day number of `YYYY-MM-DD`; NaN when it is not a real date. */
export function parseDay(text: string): number {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return NaN;
  const at = Date.parse(`${text}T00:00:00Z`);
  return Number.isNaN(at) || dayText(dayNumber(at)) !== text ? NaN : dayNumber(at);
}

/** Where one session (or one of its values) was seen: the latest day, and bit i set when seen on day `last - i`. */
export interface Presence {
  last: number;
  mask: bigint;
}

/** Consecutive days, first and last included. */
export type DayRun = readonly [from: number, to: number];

/**
 * Days, per window, whose distinct-session count goes up by one, as runs of consecutive days (oldest first): a
 * new session adds one run per window, so counting it allocates three pairs, not 38 day numbers.
 */
export type WindowDays = Record<Window, DayRun[]>;

/** What one sighting changed: `first` when the presence is new (a new session, or a value new to it). */
export interface Sighting {
  next: Presence;
  first: boolean;
  added: WindowDays;
}

/** True when the presence holds `day`. */
export function wasSeen(p: Presence, day: number): boolean {
  const back = p.last - day;
  return back >= 0 && back < PRESENCE_DAYS && ((p.mask >> BigInt(back)) & 1n) === 1n;
}

/** A window ending on day x counts the session when any of its days was seen: x is new if none of them was. */
function uncovered(p: Presence, day: number, window: number): DayRun[] {
  // The usual case, a day after every day seen: a closed form, no scan.
  if (day > p.last) {
    const from = Math.max(day, p.last + window);
    return from <= day + window - 1 ? [[from, day + window - 1]] : [];
  }
  const runs: Array<[number, number]> = [];
  for (let x = day; x <= day + window - 1; x += 1) {
    let covered = false;
    for (let s = x - window + 1; s <= x && !covered; s += 1) covered = s !== day && wasSeen(p, s);
    if (covered) continue;
    const last = runs[runs.length - 1];
    if (last !== undefined && last[1] === x - 1) last[1] = x;
    else runs.push([x, x]);
  }
  return runs;
}

/**
 * Records a sighting on `day`. Undefined when it changes nothing: the day was already seen, or it is more
 * than LATE_LIMIT_DAYS before the latest day (see there).
 */
export function sight(p: Presence | undefined, day: number): Sighting | undefined {
  if (p === undefined) {
    return { next: { last: day, mask: 1n }, first: true, added: { 1: [[day, day]], 7: [[day, day + 6]], 30: [[day, day + 29]] } };
  }
  if (wasSeen(p, day) || day < p.last - LATE_LIMIT_DAYS) return undefined;
  const added: WindowDays = { 1: uncovered(p, day, 1), 7: uncovered(p, day, 7), 30: uncovered(p, day, 30) };
  const shift = day - p.last;
  const next =
    shift > 0
      ? { last: day, mask: shift >= PRESENCE_DAYS ? 1n : ((p.mask << BigInt(shift)) | 1n) & MASK }
      : { last: p.last, mask: p.mask | (1n << BigInt(-shift)) };
  return { next, first: false, added };
}
