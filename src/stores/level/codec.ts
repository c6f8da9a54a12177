// The collector's LevelDB values: counters and committed groups as JSON arrays. Values are array members,
// never object keys, so no breakdown value (`__proto__` included) is special; anything else reads as corrupt.
import { SCOPES, type Scope } from '../counting.js';
import type { DayCounts, DayDelta, LifetimeCounts, LifetimeRow } from '../groupCounts.js';

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isInteger = (v: unknown): v is number => Number.isSafeInteger(v);

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const encodeLifetime = (c: LifetimeCounts): string => `[${c.heartbeats},${c.sessions}]`;

/** A lifetime counter's value; undefined when it is not one. */
export function decodeLifetime(text: string): LifetimeCounts | undefined {
  const v = parse(text);
  if (!Array.isArray(v) || v.length !== 2 || !v.every(isCount)) return undefined;
  const [heartbeats, sessions] = v as [number, number];
  return { heartbeats, sessions };
}

export const encodeDay = (c: DayCounts): string => `[${c.heartbeats},${c.sessions1d},${c.sessions7d},${c.sessions30d},${c.installs}]`;

/** A day counter's value; undefined when it is not one. */
export function decodeDay(text: string): DayCounts | undefined {
  const v = parse(text);
  if (!Array.isArray(v) || v.length !== 5 || !v.every(isCount)) return undefined;
  const [heartbeats, sessions1d, sessions7d, sessions30d, installs] = v as [number, number, number, number, number];
  return { heartbeats, sessions1d, sessions7d, sessions30d, installs };
}

/** A committed group as stored until it is folded into the counters: its latest time and its counter deltas. */
export interface GroupRecord {
  /** The group's latest heartbeat time, in ms. */
  lastAt: number;
  lifetime: LifetimeRow[];
  deltas: DayDelta[];
}

/** [lastAt, [[scope, value, heartbeats, sessions]...], [[day, scope, value, heartbeats, s1, s7, s30, installs]...]] */
export function encodeGroup(record: GroupRecord): string {
  const scope = (s: Scope) => SCOPES.indexOf(s);
  return JSON.stringify([
    record.lastAt,
    record.lifetime.map((r) => [scope(r.scope), r.value, r.heartbeats, r.sessions]),
    record.deltas.map((d) => [d.day, scope(d.scope), d.value, d.heartbeats, d.sessions1d, d.sessions7d, d.sessions30d, d.installs]),
  ]);
}

function lifetimeRow(item: unknown): LifetimeRow | undefined {
  if (!Array.isArray(item) || item.length !== 4 || typeof item[1] !== 'string' || !isCount(item[2]) || !isCount(item[3])) return undefined;
  const scope = SCOPES[item[0] as number];
  return scope === undefined ? undefined : { scope, value: item[1], heartbeats: item[2], sessions: item[3] };
}

function deltaRow(item: unknown): DayDelta | undefined {
  if (!Array.isArray(item) || item.length !== 8 || typeof item[2] !== 'string' || !isCount(item[0])) return undefined;
  const scope = SCOPES[item[1] as number];
  const n = item.slice(3) as unknown[];
  if (scope === undefined || !n.every(isInteger)) return undefined;
  const [heartbeats, sessions1d, sessions7d, sessions30d, installs] = n as number[];
  return { day: item[0], scope, value: item[2], heartbeats: heartbeats!, sessions1d: sessions1d!, sessions7d: sessions7d!, sessions30d: sessions30d!, installs: installs! };
}

/** A committed group's record; undefined when it is not one. */
export function decodeGroup(text: string): GroupRecord | undefined {
  const v = parse(text);
  if (!Array.isArray(v) || v.length !== 3 || !isCount(v[0]) || !Array.isArray(v[1]) || !Array.isArray(v[2])) return undefined;
  const lifetime = (v[1] as unknown[]).map(lifetimeRow);
  const deltas = (v[2] as unknown[]).map(deltaRow);
  if (lifetime.includes(undefined) || deltas.includes(undefined)) return undefined;
  return { lastAt: v[0], lifetime: lifetime as LifetimeRow[], deltas: deltas as DayDelta[] };
}
