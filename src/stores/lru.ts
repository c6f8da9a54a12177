// A bounded map that forgets its least recently set entries first: the stores' in-memory caches, and their sizes.

/** Sightings (session, day, values) known to be counted: a session's repeat heartbeats need no record read. */
export const SIGHTINGS_CACHE = 100_000;
/** Idempotency keys remembered with their fingerprint: a retry, minutes later, is told without a lookup. */
export const RECENT_KEYS_CACHE = 100_000;

/** A Map of at most `limit` entries; setting past the limit evicts the oldest (and tells `onEvict`). */
export function createLru<K, V>(limit: number, onEvict?: (key: K, value: V) => void) {
  const map = new Map<K, V>();
  return {
    get: (key: K): V | undefined => map.get(key),
    has: (key: K): boolean => map.has(key),
    /** Sets (or refreshes) an entry: it becomes the newest. */
    set(key: K, value: V): void {
      map.delete(key);
      map.set(key, value);
      if (map.size <= limit) return;
      // A Map iterates in insertion order: the first entry is the least recently set.
      const [oldest, old] = map.entries().next().value as [K, V];
      map.delete(oldest);
      onEvict?.(oldest, old);
    },
    delete: (key: K): boolean => map.delete(key),
    get size(): number {
      return map.size;
    },
    /** Oldest first. */
    entries: (): IterableIterator<[K, V]> => map.entries(),
  };
}

export type Lru<K, V> = ReturnType<typeof createLru<K, V>>;
