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

// A group record lists each scope and value once: [lastAt, baseDay, [[scope, value, heartbeats, sessions, ...days]]],
// each day [day - baseDay, heartbeats, sessions1d, sessions7d, sessions30d, installs] with trailing zeros left out
// (a new session's window ends are [1, 0, -1], [7, 0, 0, -1], [30, 0, 0, 0, -1]): half the text of a row per day.
type Entry = { scope: Scope; value: string; life: LifetimeRow | undefined; days: DayDelta[] };

function trimmed(numbers: number[]): number[] {
  let end = numbers.length;
  while (end > 1 && numbers[end - 1] === 0) end -= 1;
  return numbers.slice(0, end);
}

export function encodeGroup(record: GroupRecord): string {
  const entries = new Map<Scope, Map<string, Entry>>();
  const entry = (scope: Scope, value: string): Entry => {
    let byValue = entries.get(scope);
    if (byValue === undefined) entries.set(scope, (byValue = new Map()));
    let e = byValue.get(value);
    if (e === undefined) byValue.set(value, (e = { scope, value, life: undefined, days: [] }));
    return e;
  };
  for (const row of record.lifetime) entry(row.scope, row.value).life = row;
  for (const d of record.deltas) entry(d.scope, d.value).days.push(d);
  const baseDay = record.deltas.reduce((min, d) => Math.min(min, d.day), record.deltas[0]?.day ?? 0);
  const list: unknown[] = [];
  for (const byValue of entries.values()) {
    for (const e of byValue.values()) {
      const days = e.days.map((d) => trimmed([d.day - baseDay, d.heartbeats, d.sessions1d, d.sessions7d, d.sessions30d, d.installs]));
      list.push([SCOPES.indexOf(e.scope), e.value, e.life?.heartbeats ?? 0, e.life?.sessions ?? 0, ...days]);
    }
  }
  return JSON.stringify([record.lastAt, baseDay, list]);
}

/** One scope and value of a group record, into `out`; false when it is not one. */
function readEntry(item: unknown, baseDay: number, out: GroupRecord): boolean {
  if (!Array.isArray(item) || item.length < 4 || typeof item[1] !== 'string' || !isCount(item[2]) || !isCount(item[3])) return false;
  const scope = SCOPES[item[0] as number];
  if (scope === undefined) return false;
  const value = item[1];
  if (item[2] > 0 || item[3] > 0) out.lifetime.push({ scope, value, heartbeats: item[2], sessions: item[3] });
  for (const day of item.slice(4) as unknown[]) {
    if (!Array.isArray(day) || day.length < 1 || day.length > 6 || !isCount(day[0]) || !day.every(isInteger)) return false;
    const [offset, heartbeats = 0, sessions1d = 0, sessions7d = 0, sessions30d = 0, installs = 0] = day as number[];
    out.deltas.push({ day: baseDay + offset!, scope, value, heartbeats, sessions1d, sessions7d, sessions30d, installs });
  }
  return true;
}

/** A committed group's record; undefined when it is not one. */
export function decodeGroup(text: string): GroupRecord | undefined {
  const v = parse(text);
  if (!Array.isArray(v) || v.length !== 3 || !isCount(v[0]) || !isCount(v[1]) || !Array.isArray(v[2])) return undefined;
  const record: GroupRecord = { lastAt: v[0], lifetime: [], deltas: [] };
  return (v[2] as unknown[]).every((item) => readEntry(item, v[1] as number, record)) ? record : undefined;
}
