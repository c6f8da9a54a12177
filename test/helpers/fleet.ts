// A made-up fleet over 40 days (seeded, so every run sends the same heartbeats) and the brute-force answers the
// collector must give for it: active installations, new ones, adoption and the export rows, after the privacy floor.
import { v4 as uuidv4 } from 'uuid';
import { DIMENSIONS, OTHER_KEY, type Dimension } from '../../src/stores/counting.js';
import type { ActiveCounts, ExportRow } from '../../src/stores/stats.js';
import { seededRandom } from './random.js';

export const FLEET_DAYS = 40;
/** The bucket that must never be seen: 4 sessions on a platform of their own (and 4 on a pre-release). */
export const HIDDEN_PLATFORM = 'FreeBSD';
export const HIDDEN_VERSION = '1.3.0-rc.1';
/** The bucket that must be seen: exactly 5 sessions, all active on the same days. */
export const SHOWN_PLATFORM = 'SunOS';

/** One session's heartbeats of one day: `copies` heartbeats with the same values. */
export interface Sent {
  session: string;
  day: number;
  values: Record<Dimension, string>;
  copies: number;
}

/** Releases and the day each came out: every regular session upgrades some days after a release. */
const RELEASES: Array<[version: string, day: number]> = [['1.0.0', 0], ['1.1.0', 10], ['1.2.0', 25]];

/** The fleet's heartbeats, day by day (day 0 .. FLEET_DAYS - 1). */
export function makeFleet(seed = 23): Sent[] {
  const rnd = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const sent: Sent[] = [];
  const session = (values: Omit<Record<Dimension, string>, 'server_version'>, days: (day: number) => boolean, version: (day: number) => string) => {
    const id = uuidv4();
    for (let day = 0; day < FLEET_DAYS; day += 1) {
      if (days(day)) sent.push({ session: id, day, values: { ...values, server_version: version(day) }, copies: rnd() < 0.3 ? 2 : 1 });
    }
  };
  const regular = () => ({ platform: pick(['Linux', 'Linux', 'Darwin', 'Windows']), environment: pick(['production', 'staging']), architecture: pick(['x86_64', 'arm64']), node_version: pick(['20.20.2', '22.12.0']) });
  for (let i = 0; i < 45; i += 1) {
    const [start, end] = [Math.floor(rnd() * 32), 8 + Math.floor(rnd() * 40)];
    const lags = RELEASES.map(() => Math.floor(rnd() * 9));
    const version = (day: number) => RELEASES.filter(([, released], r) => released + (r === 0 ? 0 : lags[r]!) <= day).at(-1)![0];
    const active = rnd() * 0.5 + 0.45;
    session(regular(), (day) => day >= start && day <= end && rnd() < active, version);
  }
  for (let i = 0; i < 4; i += 1) session({ ...regular(), platform: HIDDEN_PLATFORM }, (day) => day >= 5, () => '1.1.0');
  for (let i = 0; i < 5; i += 1) session({ ...regular(), platform: SHOWN_PLATFORM }, (day) => day >= 20, () => '1.2.0');
  for (let i = 0; i < 4; i += 1) session({ ...regular(), platform: 'Linux' }, (day) => day >= 30, () => HIDDEN_VERSION);
  return sent;
}

/** Distinct sessions seen in the `window` days ending `day` (optionally with one value of one breakdown). */
export function distinct(sent: readonly Sent[], day: number, window: number, dimension?: Dimension, value?: string): number {
  const ids = new Set<string>();
  for (const s of sent) if (s.day <= day && s.day > day - window && (dimension === undefined || s.values[dimension] === value)) ids.add(s.session);
  return ids.size;
}

export function activeOn(sent: readonly Sent[], day: number): ActiveCounts {
  return { day: distinct(sent, day, 1), week: distinct(sent, day, 7), month: distinct(sent, day, 30) };
}

/** Sessions per day of their first heartbeat. */
export function newByDay(sent: readonly Sent[]): Map<number, number> {
  const first = new Map<string, number>();
  for (const s of sent) first.set(s.session, Math.min(first.get(s.session) ?? Infinity, s.day));
  const counts = new Map<number, number>();
  for (const day of first.values()) counts.set(day, (counts.get(day) ?? 0) + 1);
  return counts;
}

/** Per value of a breakdown on one day: [heartbeats, distinct sessions]. */
function perValue(sent: readonly Sent[], day: number, dimension: Dimension): Map<string, [number, number]> {
  const sessions = new Map<string, Set<string>>();
  const heartbeats = new Map<string, number>();
  for (const s of sent.filter((x) => x.day === day)) {
    const value = s.values[dimension];
    sessions.set(value, (sessions.get(value) ?? new Set()).add(s.session));
    heartbeats.set(value, (heartbeats.get(value) ?? 0) + s.copies);
  }
  return new Map([...sessions].map(([value, ids]) => [value, [heartbeats.get(value)!, ids.size]]));
}

/** Values with fewer sessions than the floor summed into `other` (heartbeats and sessions alike). */
function floored(values: Map<string, [number, number]>, floor: number): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  let other: [number, number] | undefined;
  for (const [value, [h, s]] of values) {
    if (s >= floor) out.set(value, [h, s]);
    else other = [(other?.[0] ?? 0) + h, (other?.[1] ?? 0) + s];
  }
  if (other !== undefined) out.set(OTHER_KEY, other);
  return out;
}

/** Each server_version's share of the day's active sessions, after the floor, rounded to 4 places. */
export function adoptionOn(sent: readonly Sent[], day: number, floor: number): Record<string, number> {
  const dau = distinct(sent, day, 1);
  const shares = [...floored(perValue(sent, day, 'server_version'), floor)].map(([v, [, s]]) => [v, Math.round((s / dau) * 10_000) / 10_000]);
  return Object.fromEntries(shares);
}

/** The export rows for [from, to], as a set of `day|breakdown|value|heartbeats|sessions` lines (order aside). */
export function exportLines(sent: readonly Sent[], from: number, to: number, dayText: (day: number) => string, floor: number): string[] {
  const lines: string[] = [];
  for (let day = from; day <= to; day += 1) {
    const today = sent.filter((s) => s.day === day);
    if (today.length === 0) continue;
    lines.push([dayText(day), 'total', '', today.reduce((n, s) => n + s.copies, 0), distinct(sent, day, 1)].join('|'));
    for (const dimension of DIMENSIONS) {
      for (const [value, [h, s]] of floored(perValue(sent, day, dimension), floor)) lines.push([dayText(day), dimension, value, h, s].join('|'));
    }
  }
  return lines.sort();
}

/** Export rows in the same form. */
export const rowLines = (rows: readonly ExportRow[]): string[] => rows.map((r) => [r.day, r.breakdown, r.value, r.heartbeats, r.sessions].join('|')).sort();
