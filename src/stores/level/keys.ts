// The collector's LevelDB key layout (sublevel `collector`), in one place: every key the store writes or reads
// is made and parsed here, today's layout and the two older ones it migrates from at open.
//
// A key is a kind (one letter and ':'), then fixed-width fields, then at most one free-text part, always last.
// No part is ever split out of a key at a separator, so any string (':' or '\u0000' included) is one value
// and no two values share a key.
import { SCOPES, type Scope } from '../counting.js';

export const COLLECTOR_SUBLEVEL = 'collector';

/** Six digits of UTC day number reach the year 4707; fixed width keeps keys in day order. */
const DAY_WIDTH = 6;
/** Group sequence numbers: a trillion groups, in order. */
const SEQ_WIDTH = 12;

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const digits = (text: string): number => (/^\d+$/.test(text) ? Number(text) : NaN);

/** [gte, lt) of every key that starts with `prefix` (its last character + 1 ends the range). */
export function prefixRange(prefix: string): { gte: string; lt: string } {
  return { gte: prefix, lt: prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1) };
}

/** Lifetime counters `c:<scope digit>:<value>` -> [heartbeats, sessions]. */
export const LIFETIME = 'c:';
/** Day counters `d:<day>:<scope digit>:<value>` -> [heartbeats, sessions1d, sessions7d, sessions30d, installs]. */
export const DAY = 'd:';
/** Committed groups not yet folded into the counters `g:<seq>` -> the group's deltas (see codec.ts). */
export const GROUP = 'g:';
/** Idempotency keys by the UTC day they were counted on `k:<day>:<key>` -> the body's fingerprint. */
export const IDEMPOTENCY = 'k:';
/** One record per session `s:<session id>` -> the encoded SessionState. */
export const SESSION = 's:';
/** The latest heartbeat time folded into the counters (ISO). */
export const LAST_KEY = 'm:last';
/** The layout version: absent in the older layouts, LAYOUT_VERSION once migrated. */
export const LAYOUT_KEY = 'm:layout';
export const LAYOUT_VERSION = '2';

const scopeDigit = (scope: Scope): string => String(SCOPES.indexOf(scope));

export const lifetimeKey = (scope: Scope, value: string): string => `${LIFETIME}${scopeDigit(scope)}:${value}`;

export function parseLifetimeKey(key: string): { scope: Scope; value: string } | undefined {
  const scope = SCOPES[digits(key.slice(2, 3))];
  return key.startsWith(LIFETIME) && key[3] === ':' && scope !== undefined ? { scope, value: key.slice(4) } : undefined;
}

export const dayKey = (day: number, scope: Scope, value: string): string => `${DAY}${pad(day, DAY_WIDTH)}:${scopeDigit(scope)}:${value}`;

export function parseDayKey(key: string): { day: number; scope: Scope; value: string } | undefined {
  const day = digits(key.slice(2, 2 + DAY_WIDTH));
  const scope = SCOPES[digits(key.slice(3 + DAY_WIDTH, 4 + DAY_WIDTH))];
  const ok = key.startsWith(DAY) && key[2 + DAY_WIDTH] === ':' && key[4 + DAY_WIDTH] === ':' && Number.isSafeInteger(day);
  return ok && scope !== undefined ? { day, scope, value: key.slice(5 + DAY_WIDTH) } : undefined;
}

/** [gte, lt) of the day counters of days from..to (inclusive). */
export const dayRange = (from: number, to: number) => ({ gte: `${DAY}${pad(Math.max(0, from), DAY_WIDTH)}`, lt: `${DAY}${pad(Math.max(0, to + 1), DAY_WIDTH)}` });

export const groupKey = (seq: number): string => `${GROUP}${pad(seq, SEQ_WIDTH)}`;
export const parseGroupKey = (key: string): number => (key.startsWith(GROUP) ? digits(key.slice(2)) : NaN);

export const idempotencyKey = (day: number, key: string): string => `${IDEMPOTENCY}${pad(day, DAY_WIDTH)}:${key}`;
/** [gte, lt) of the idempotency keys counted on days before `day`. */
export const idempotencyBefore = (day: number) => ({ gte: IDEMPOTENCY, lt: `${IDEMPOTENCY}${pad(Math.max(0, day), DAY_WIDTH)}` });
/** [gte, lt) of the idempotency keys counted on `day`. */
export const idempotencyDay = (day: number) => prefixRange(`${IDEMPOTENCY}${pad(day, DAY_WIDTH)}:`);

export const sessionKey = (sessionId: string): string => `${SESSION}${sessionId}`;
export const sessionIdOf = (key: string): string => key.slice(SESSION.length);

/**
 * The layouts before this one, read only to migrate them. They joined parts with ':', but each had at most one
 * free-text part, last, after a field from a fixed set, so they parse without ambiguity.
 */
export const LEGACY = {
  /** The first layout: one JSON summary of everything. */
  aggregate: 'aggregate',
  /** The second: one key per counter and per session marker. */
  heartbeats: 'count:total:heartbeats',
  sessions: 'count:total:sessions',
  last: 'last',
  count: 'count:',
  day: 'day:',
  session: 'session:',
  daySession: 'daysession:',
  countKey: (field: string, value: string): string => `count:${field}:${value}`,
} as const;

/** A legacy `count:<field>:<value>` key (total counters excluded). */
export function parseLegacyCount(key: string, fields: readonly string[]): { field: string; value: string } | undefined {
  const field = fields.find((f) => key.startsWith(`${LEGACY.count}${f}:`));
  return field === undefined ? undefined : { field, value: key.slice(LEGACY.count.length + field.length + 1) };
}

/** A legacy `day:<YYYY-MM-DD>:<heartbeats|sessions|server_version>:<value>` key. */
export function parseLegacyDay(key: string): { date: string; kind: string; value: string } | undefined {
  const date = key.slice(LEGACY.day.length, LEGACY.day.length + 10);
  const rest = key.slice(LEGACY.day.length + 11);
  const kind = ['heartbeats', 'sessions', 'server_version'].find((k) => rest.startsWith(`${k}:`));
  return kind === undefined ? undefined : { date, kind, value: rest.slice(kind.length + 1) };
}

/** A legacy `daysession:<YYYY-MM-DD>:<id>` marker. */
export const parseLegacyDaySession = (key: string): { date: string; id: string } => ({
  date: key.slice(LEGACY.daySession.length, LEGACY.daySession.length + 10),
  id: key.slice(LEGACY.daySession.length + 11),
});
