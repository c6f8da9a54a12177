// The stores' bounded caches: exactly least-recently-set eviction, whatever the order of sets and deletes.
import { describe, expect, it } from 'vitest';
import { createLru } from '../src/stores/lru.js';

/** The obvious implementation, as the reference: the first entry of an insertion-ordered Map is the oldest. */
function referenceLru(limit: number, evicted: string[]) {
  const map = new Map<string, number>();
  return {
    set(key: string, value: number) {
      map.delete(key);
      map.set(key, value);
      if (map.size <= limit) return;
      const [oldest] = map.keys();
      map.delete(oldest!);
      evicted.push(oldest!);
    },
    delete: (key: string) => map.delete(key),
    entries: () => [...map.entries()],
  };
}

/** Deterministic pseudo-random numbers (mulberry32), so a failing seed can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('createLru', () => {
  it.each([1, 2, 7, 50])('evicts exactly as the reference under random sets, refreshes and deletes (limit %i)', (limit) => {
    for (let seed = 1; seed <= 20; seed += 1) {
      const next = random(seed * 1000 + limit);
      const expected: string[] = [];
      const actual: string[] = [];
      const reference = referenceLru(limit, expected);
      const lru = createLru<string, number>(limit, (key) => actual.push(key));
      for (let step = 0; step < 2_000; step += 1) {
        const key = `k${Math.floor(next() * limit * 3)}`;
        if (next() < 0.15) expect(lru.delete(key)).toBe(reference.delete(key));
        else {
          lru.set(key, step);
          reference.set(key, step);
        }
      }
      expect(actual).toEqual(expected);
      expect([...lru.entries()]).toEqual(reference.entries());
      expect(lru.size).toBe(reference.entries().length);
    }
  });

  it('tells onEvict each evicted key with the value it held', () => {
    const evicted: Array<[string, number]> = [];
    const lru = createLru<string, number>(2, (key, value) => evicted.push([key, value]));
    for (const [key, value] of [['a', 1], ['b', 2], ['a', 3], ['c', 4], ['d', 5]] as const) lru.set(key, value);
    expect(evicted).toEqual([['b', 2], ['a', 3]]);
    expect([...lru.entries()]).toEqual([['c', 4], ['d', 5]]);
  });
});
