// The counting rule every collector backend shares (src/stores/groupCounts.ts, sessionState.ts, presence.ts,
// fold.ts), checked against a brute-force count of the same heartbeats over seeded random schedules.
import { describe, expect, it } from 'vitest';
import { DIMENSIONS, OTHER_KEY, type CountedHeartbeat, type Dimension } from '../src/stores/counting.js';
import { buildExport, buildStats, type CounterSnapshot } from '../src/stores/fold.js';
import { countGroup, type DayRow, type LifetimeRow } from '../src/stores/groupCounts.js';
import { dayNumber, dayText, LATE_LIMIT_DAYS, parseDay, sight } from '../src/stores/presence.js';
import { decodeSessionState, encodeSessionState, type SessionState } from '../src/stores/sessionState.js';
import { seededRandom as random } from './helpers/random.js';

const DAY_MS = 86_400_000;
const START = Date.UTC(2026, 0, 1);

/** An in-memory backend for the pure rule: counters summed, session records kept encoded (as stored). */
function memoryBackend() {
  const states = new Map<string, string>();
  const days = new Map<string, DayRow>();
  const lifetime = new Map<string, LifetimeRow>();
  const addInto = <T extends object>(map: Map<string, T>, key: string, row: T) => {
    const old = map.get(key) as Record<string, unknown> | undefined;
    if (old === undefined) return void map.set(key, { ...row });
    for (const [k, v] of Object.entries(row)) if (typeof v === 'number' && k !== 'day') old[k] = (old[k] as number) + v;
  };
  return {
    async write(group: CountedHeartbeat[]) {
      const counted = await countGroup(group, {
        cap: (_d, v) => v,
        readStates: async (ids) => new Map(ids.map((id) => [id, states.has(id) ? decodeSessionState(states.get(id) as string) : undefined])),
      });
      for (const [id, state] of counted.states) states.set(id, encodeSessionState(state));
      for (const row of counted.counts.dayRows()) addInto(days, JSON.stringify([row.day, row.scope, row.value]), row);
      for (const row of counted.counts.lifetimeRows()) addInto(lifetime, JSON.stringify([row.scope, row.value]), row);
    },
    snapshot: (): CounterSnapshot => ({ days: [...days.values()], lifetime: [...lifetime.values()], lastHeartbeatAt: null }),
  };
}

type Sent = { session: string; day: number; values: Record<Dimension, string> };

function heartbeat(s: Sent): CountedHeartbeat {
  return { sessionId: s.session, values: s.values, receivedAt: new Date(s.day * DAY_MS + 3_600_000) };
}

/** Brute force: distinct sessions seen (optionally with one value) on some day in [day - window + 1, day]. */
function distinct(sent: Sent[], day: number, window: number, dimension?: Dimension, value?: string): number {
  const ids = new Set<string>();
  for (const s of sent) if (s.day <= day && s.day > day - window && (dimension === undefined || s.values[dimension] === value)) ids.add(s.session);
  return ids.size;
}

/** A schedule: sessions reporting on random days, mostly in order, some a few days late, some upgrading. */
function schedule(seed: number): Sent[] {
  const rnd = random(seed);
  const sessions = Array.from({ length: 12 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
  const version = new Map(sessions.map((s) => [s, `1.${Math.floor(rnd() * 3)}`]));
  const sent: Sent[] = [];
  const base = dayNumber(START);
  for (let day = 0; day < 60; day += 1) {
    for (const session of sessions) {
      if (rnd() < 0.55) continue;
      if (rnd() < 0.05) version.set(session, `1.${Math.floor(rnd() * 4)}`);
      const late = rnd() < 0.15 ? Math.floor(rnd() * 5) : 0;
      const values = { server_version: version.get(session) as string, platform: rnd() < 0.9 ? 'Linux' : 'Darwin', environment: 'production', architecture: 'x86_64', node_version: '20.20.2' };
      sent.push({ session, day: base + Math.max(0, day - late), values });
    }
  }
  return sent;
}

describe('fleet counts', () => {
  it.each([1, 2, 3, 4, 5, 6])('DAU/WAU/MAU, new installs, per-value sessions and lifetime sessions equal a brute-force count (seed %i)', async (seed) => {
    const sent = schedule(seed);
    const backend = memoryBackend();
    const rnd = random(seed * 7);
    for (let i = 0; i < sent.length; ) {
      const size = 1 + Math.floor(rnd() * 20);
      await backend.write(sent.slice(i, i + size).map(heartbeat));
      i += size;
    }
    const snapshot = backend.snapshot();
    const first = new Map<string, number>();
    for (const s of sent) first.set(s.session, Math.min(first.get(s.session) ?? Infinity, s.day));
    const lastDay = Math.max(...sent.map((s) => s.day));
    for (let day = lastDay - 40; day <= lastDay; day += 1) {
      const stats = buildStats(snapshot, { asOf: day, floor: 1 });
      expect(stats.active).toEqual({ day: distinct(sent, day, 1), week: distinct(sent, day, 7), month: distinct(sent, day, 30) });
      expect(stats.new_by_day[dayText(day)] ?? 0).toBe([...first.values()].filter((d) => d === day).length);
      for (const version of ['1.0', '1.1', '1.2', '1.3']) {
        expect(stats.installations.by_server_version[version] ?? 0).toBe(distinct(sent, day, 30, 'server_version', version));
      }
    }
    const stats = buildStats(snapshot, { asOf: lastDay, floor: 1 });
    expect(stats.heartbeats_total).toBe(sent.length);
    expect(stats.sessions_total).toBe(first.size);
    for (const [field, dimension] of [['by_server_version', 'server_version'], ['by_platform', 'platform']] as const) {
      expect(Object.values(stats[field]).reduce((a, b) => a + b, 0)).toBe(sent.length);
      for (const [value, n] of Object.entries(stats[field])) expect(n).toBe(sent.filter((s) => s.values[dimension] === value).length);
    }
  });

  it('folds every bucket below the floor into other, keeping the sums; a bucket at the floor shows', async () => {
    const backend = memoryBackend();
    const day = dayNumber(START);
    const sent: Sent[] = [];
    const values = (platform: string) => ({ server_version: '1.0', platform, environment: 'production', architecture: 'x86_64', node_version: '20' });
    for (let i = 0; i < 4; i += 1) sent.push({ session: `a-${i}`, day, values: values('Rare') });
    for (let i = 0; i < 5; i += 1) sent.push({ session: `b-${i}`, day, values: values('Haiku') });
    for (let i = 0; i < 9; i += 1) sent.push({ session: `c-${i}`, day, values: values('Linux') });
    await backend.write(sent.map(heartbeat));
    const stats = buildStats(backend.snapshot(), { asOf: day, floor: 5 });
    const text = JSON.stringify(stats);
    expect(text).not.toContain('Rare');
    expect(stats.by_platform).toEqual({ Linux: 9, Haiku: 5, [OTHER_KEY]: 4 });
    expect(stats.installations.by_platform).toEqual({ Linux: 9, Haiku: 5, [OTHER_KEY]: 4 });
    const rows = buildExport(backend.snapshot(), { from: day, to: day, floor: 5 });
    expect(JSON.stringify(rows)).not.toContain('Rare');
    expect(rows.filter((r) => r.breakdown === 'platform')).toEqual([
      { day: dayText(day), breakdown: 'platform', value: 'Linux', heartbeats: 9, sessions: 9 },
      { day: dayText(day), breakdown: 'platform', value: 'Haiku', heartbeats: 5, sessions: 5 },
      { day: dayText(day), breakdown: 'platform', value: OTHER_KEY, heartbeats: 4, sessions: 4 },
    ]);
  });

  it('treats __proto__ and constructor as ordinary values', async () => {
    const backend = memoryBackend();
    const day = dayNumber(START);
    const sent = ['__proto__', 'constructor', '__proto__'].map((platform, i) => ({
      session: `s-${i}`,
      day,
      values: { server_version: '1', platform, environment: 'production', architecture: 'x', node_version: '20' },
    }));
    await backend.write(sent.map(heartbeat));
    const stats = buildStats(backend.snapshot(), { asOf: day, floor: 1 });
    expect(JSON.parse(JSON.stringify(stats.by_platform))).toEqual(JSON.parse('{"__proto__":2,"constructor":1}'));
    expect(Object.getPrototypeOf(stats.by_platform)).toBe(Object.prototype);
  });

  it('gives the same text for the same counters, whatever order the rows come in', async () => {
    const backend = memoryBackend();
    await backend.write(schedule(9).map(heartbeat));
    const snapshot = backend.snapshot();
    const asOf = Math.max(...snapshot.days.map((r) => r.day)) - 30;
    const reversed = { ...snapshot, days: [...snapshot.days].reverse(), lifetime: [...snapshot.lifetime].reverse() };
    expect(JSON.stringify(buildStats(reversed, { asOf, floor: 2 }))).toBe(JSON.stringify(buildStats(snapshot, { asOf, floor: 2 })));
  });
});

describe('presence', () => {
  it('changes nothing for a day already seen, and for a day more than LATE_LIMIT_DAYS before the latest', () => {
    const p = sight(undefined, 100)?.next;
    expect(p).toBeDefined();
    expect(sight(p, 100)).toBeUndefined();
    expect(sight(p, 100 - LATE_LIMIT_DAYS - 1)).toBeUndefined();
    // Still exact at the limit: none of the 30-day windows ending 66..95 reaches day 100.
    expect(sight(p, 100 - LATE_LIMIT_DAYS)?.added[30]).toEqual([[100 - LATE_LIMIT_DAYS, 100 - LATE_LIMIT_DAYS + 29]]);
  });

  it('round-trips a session record and refuses text that is not one', () => {
    const state: SessionState = { first: 20000, total: { last: 20010, mask: 0b1011n }, values: [{ dimension: 'platform', value: '__proto__', presence: { last: 20010, mask: 1n } }] };
    expect(decodeSessionState(encodeSessionState(state))).toEqual(state);
    for (const bad of ['', '{}', '[1,2,"0",[]]', '[1,2,"1ffffffffffffffff",[]]', '[-1,2,"1",[]]', '[1,2,"1",[[9,"x",2,"1"]]]', 'null']) expect(decodeSessionState(bad)).toBeUndefined();
  });

  it('parses only real dates', () => {
    expect(dayText(parseDay('2026-02-28'))).toBe('2026-02-28');
    for (const bad of ['2026-02-30', '2026-2-1', 'x', '2026-13-01']) expect(parseDay(bad)).toBeNaN();
  });

  it('names every breakdown the heartbeat carries', () => {
    expect(DIMENSIONS).toEqual(['server_version', 'platform', 'environment', 'architecture', 'node_version']);
  });
});
