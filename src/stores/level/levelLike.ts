// The few abstract-level calls the stores make, typed structurally so that any abstract-level version's
// `Level` or `MemoryLevel` is accepted without a cast (their class types differ from one release to the next).

/** Any abstract-level database: `new Level(path)`, `new MemoryLevel()`, or a sublevel of one. */
export interface LevelLike {
  readonly status: string;
  /** Present on every abstract-level database; used to reopen one after a failed write. */
  open?(): Promise<void>;
  close?(): Promise<void>;
  sublevel(name: string, options: { valueEncoding: 'utf8' }): unknown;
}

/** `sync: true` returns only once the write is on disk (LevelDB fsyncs its log): what a 202 promises. */
export interface WriteOptions {
  sync?: boolean;
}

/** The utf8 key-value calls the stores use on a sublevel. */
export interface Utf8Sublevel {
  /** `open` while usable; a sublevel is closed for good once its database closes. */
  readonly status: string;
  get(key: string): Promise<string | undefined>;
  put(key: string, value: string, options?: WriteOptions): Promise<void>;
  del(key: string): Promise<void>;
  hasMany(keys: string[]): Promise<boolean[]>;
  batch(operations: Array<{ type: 'put'; key: string; value: string } | { type: 'del'; key: string }>, options?: WriteOptions): Promise<void>;
  keys(options: { gte?: string; lt?: string }): AsyncIterable<string>;
}

/** The named sublevel with utf8 keys and values. */
export function utf8Sublevel(db: LevelLike, name: string): Utf8Sublevel {
  return db.sublevel(name, { valueEncoding: 'utf8' }) as Utf8Sublevel;
}
