// A bounded map that forgets its least recently set entries first: the stores' in-memory caches, and their sizes.

/** Sightings (session, day, values) known to be counted: a session's repeat heartbeats need no record read. */
export const SIGHTINGS_CACHE = 100_000;
/** Idempotency keys remembered with their fingerprint: a retry, minutes later, is told without a lookup. */
export const RECENT_KEYS_CACHE = 100_000;

/** A Map of at most `limit` entries; setting past the limit evicts the oldest (and tells `onEvict`). */
export function createLru<K, V>(limit: number, onEvict?: (key: K, value: V) => void) {
  const map = new Map<K, V>();
  // A Map iterates in insertion order, so the least recently set entry is the first live one. One iterator is
  // kept across evictions: a fresh one per eviction starts at the front and walks every entry deleted there
  // since the table was last compacted (20-70 µs a set once 100k keys had turned over: "The caches" in
  // docs/benchmarks.md), where this one passes each deleted entry once. Every entry it has passed was evicted
  // or deleted, and new entries go after it, so its next entry is always the oldest live one.
  let oldest = map.keys();
  return {
    get: (key: K): V | undefined => map.get(key),
    has: (key: K): boolean => map.has(key),
    /** Sets (or refreshes) an entry: it becomes the newest. */
    set(key: K, value: V): void {
      map.delete(key);
      map.set(key, value);
      if (map.size <= limit) return;
      let next = oldest.next();
      // Only an iterator that once ran dry stays done; a fresh one starts at the (then) oldest entry.
      if (next.done === true) next = (oldest = map.keys()).next();
      const key0 = next.value as K;
      const old = map.get(key0) as V;
      map.delete(key0);
      onEvict?.(key0, old);
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
