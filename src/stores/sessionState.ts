// One session as the collector remembers it: when it was first seen, and where it was seen (as a whole and
// under each breakdown value) over the last 64 days. One small record per session, on every backend.
import { DIMENSIONS, type Dimension, type Scope } from './counting.js';
import { LATE_LIMIT_DAYS, PRESENCE_DAYS, sight, type Presence, type WindowDays } from './presence.js';

/** Values a session keeps per breakdown; an honest one has one or two (an upgrade), so more is noise. */
export const MAX_VALUES_PER_SESSION = 16;

export interface ValuePresence {
  dimension: Dimension;
  value: string;
  presence: Presence;
}

export interface SessionState {
  /** The first day seen (UTC day number): the day it counts as a new installation. */
  first: number;
  total: Presence;
  values: ValuePresence[];
}

/** One counter change a sighting makes, for the whole fleet (`total`, value '') or one breakdown value. */
export interface SessionCount {
  scope: Scope;
  value: string;
  /** True the first time this session is counted here: lifetime distinct sessions + 1. */
  first: boolean;
  added: WindowDays;
}

/** What a heartbeat changed in its session; undefined when nothing (that day and those values were known). */
export interface SessionChange {
  next: SessionState;
  counts: SessionCount[];
  /** New-installation moves: +1 on the day first seen (and -1 on the old one when a late heartbeat moves it back). */
  installs: Array<[day: number, n: number]>;
}

/** Keeps at most MAX_VALUES_PER_SESSION values per breakdown, dropping the least recently seen. */
function bounded(values: ValuePresence[], dimension: Dimension): ValuePresence[] {
  const mine = values.filter((v) => v.dimension === dimension);
  if (mine.length <= MAX_VALUES_PER_SESSION) return values;
  const oldest = mine.reduce((a, b) => (b.presence.last < a.presence.last ? b : a));
  return values.filter((v) => v !== oldest);
}

/** A session's first sighting: every window and value new, one presence shared by all (the common case, made cheap). */
function newSession(values: Readonly<Record<Dimension, string>>, day: number): SessionChange {
  const seen = sight(undefined, day) as NonNullable<ReturnType<typeof sight>>;
  const counts: SessionCount[] = [{ scope: 'total', value: '', first: true, added: seen.added }];
  const list: ValuePresence[] = [];
  for (const dimension of DIMENSIONS) {
    counts.push({ scope: dimension, value: values[dimension], first: true, added: seen.added });
    list.push({ dimension, value: values[dimension], presence: seen.next });
  }
  return { next: { first: day, total: seen.next, values: list }, counts, installs: [[day, 1]] };
}

/**
 * Sights a session on `day` with these (capped) values. Pure: the caller reads the state (undefined for a
 * session never seen or purged), writes `next` back and adds `counts` and `installs` to its counters.
 */
export function observeSession(state: SessionState | undefined, values: Readonly<Record<Dimension, string>>, day: number): SessionChange | undefined {
  if (state === undefined) return newSession(values, day);
  // A month late (see LATE_LIMIT_DAYS): counted as a heartbeat, never as a session.
  if (day < state.total.last - LATE_LIMIT_DAYS) return undefined;
  const counts: SessionCount[] = [];
  const total = sight(state.total, day);
  if (total !== undefined) counts.push({ scope: 'total', value: '', first: total.first, added: total.added });
  let list = state.values;
  for (const dimension of DIMENSIONS) {
    const value = values[dimension];
    const index = list.findIndex((v) => v.dimension === dimension && v.value === value);
    const seen = sight(list[index]?.presence, day);
    if (seen === undefined) continue;
    counts.push({ scope: dimension, value, first: seen.first, added: seen.added });
    const entry = { dimension, value, presence: seen.next };
    list = index === -1 ? bounded([...list, entry], dimension) : list.map((v, i) => (i === index ? entry : v));
  }
  if (counts.length === 0) return undefined;
  const installs: Array<[number, number]> = [];
  let first = state.first;
  if (day < state.first) {
    installs.push([state.first, -1], [day, 1]);
    first = day;
  }
  return { next: { first, total: total?.next ?? state.total, values: list }, counts, installs };
}

// Stored as JSON arrays: [first, last, mask (hex), [[dimension index, value, last, mask], ...]], a value seen on
// exactly the session's days as [dimension index, value] (the usual case: a third shorter). Values are array
// members, never object keys, so no value (`__proto__` included) is special.
type Encoded = [number, number, string, Array<[number, string, number, string] | [number, string]>];

/** The state as stored text. */
export function encodeSessionState(state: SessionState): string {
  const { total } = state;
  const encoded: Encoded = [
    state.first,
    total.last,
    total.mask.toString(16),
    state.values.map((v) => {
      const same = v.presence.last === total.last && v.presence.mask === total.mask;
      return same ? [DIMENSIONS.indexOf(v.dimension), v.value] : [DIMENSIONS.indexOf(v.dimension), v.value, v.presence.last, v.presence.mask.toString(16)];
    }),
  ];
  return JSON.stringify(encoded);
}

const HEX = /^[0-9a-f]{1,16}$/;
const isDay = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function presenceOf(last: unknown, mask: unknown): Presence | undefined {
  if (!isDay(last) || typeof mask !== 'string' || !HEX.test(mask)) return undefined;
  const bits = BigInt(`0x${mask}`);
  return (bits & 1n) === 1n && bits < 1n << BigInt(PRESENCE_DAYS) ? { last, mask: bits } : undefined;
}

/** The state stored as `text`; undefined when it is not one (the caller treats the session as new, and says so). */
export function decodeSessionState(text: string): SessionState | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(raw) || raw.length !== 4 || !isDay(raw[0]) || !Array.isArray(raw[3])) return undefined;
  const total = presenceOf(raw[1], raw[2]);
  if (total === undefined) return undefined;
  const values: ValuePresence[] = [];
  for (const item of raw[3] as unknown[]) {
    if (!Array.isArray(item) || (item.length !== 4 && item.length !== 2) || typeof item[1] !== 'string') return undefined;
    const dimension = DIMENSIONS[item[0] as number];
    const presence = item.length === 2 ? total : presenceOf(item[2], item[3]);
    if (dimension === undefined || presence === undefined) return undefined;
    values.push({ dimension, value: item[1], presence });
  }
  return { first: raw[0], total, values };
}
