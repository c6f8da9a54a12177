// A bounded cache that forgets its least recently used entries first: the stores' in-memory caches, and their sizes.

/** Sightings (session, day, values) known to be counted: a session's repeat heartbeats need no record read. */
export const SIGHTINGS_CACHE = 100_000;
/** Idempotency keys remembered with their fingerprint: a retry, minutes later, is told without a lookup. */
export const RECENT_KEYS_CACHE = 100_000;

/**
 * A cache of at most `limit` entries in two generations: new and refreshed entries go to the young one; when it
 * holds half the limit, the old generation is dropped whole (each dropped entry told to `onEvict`) and the young
 * one becomes old. Evicting one entry at a time from the head of a Map instead (`map.keys().next()`) costs
 * 30-100 us a call in V8 once the map is full, as its iterator steps over every entry deleted before.
 */
export function createLru<K, V>(limit: number, onEvict?: (key: K, value: V) => void) {
  const half = Math.max(1, Math.ceil(limit / 2));
  let young = new Map<K, V>();
  let old = new Map<K, V>();

  function set(key: K, value: V): void {
    old.delete(key);
    young.set(key, value);
    if (young.size < half) return;
    if (onEvict !== undefined) for (const [k, v] of old) onEvict(k, v);
    old = young;
    young = new Map();
  }

  return {
    get(key: K): V | undefined {
      const value = young.get(key);
      if (value !== undefined || !old.has(key)) return value;
      const kept = old.get(key) as V;
      set(key, kept);
      return kept;
    },
    has: (key: K): boolean => young.has(key) || old.has(key),
    /** Sets (or refreshes) an entry: it becomes the newest. */
    set,
    delete: (key: K): boolean => young.delete(key) || old.delete(key),
    get size(): number {
      return young.size + old.size;
    },
    /** Older generation first. */
    *entries(): IterableIterator<[K, V]> {
      yield* old;
      yield* young;
    },
  };
}

export type Lru<K, V> = ReturnType<typeof createLru<K, V>>;
