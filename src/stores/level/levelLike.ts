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

/** An explicit snapshot: reads given it see the database as it was when it was taken. */
export interface LevelSnapshot {
  close(): Promise<void>;
}

/** Where a read looks: a key range, at most `limit` entries, from a snapshot when given one. */
export interface ReadOptions {
  gt?: string;
  gte?: string;
  lt?: string;
  limit?: number;
  snapshot?: LevelSnapshot;
}

export type BatchOperation = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

/** The utf8 key-value calls the stores use on a sublevel. */
export interface Utf8Sublevel {
  /** `open` while usable; a sublevel is closed for good once its database closes. */
  readonly status: string;
  readonly supports?: { explicitSnapshots?: boolean };
  get(key: string, options?: { snapshot?: LevelSnapshot }): Promise<string | undefined>;
  getMany(keys: string[], options?: { snapshot?: LevelSnapshot }): Promise<Array<string | undefined>>;
  put(key: string, value: string, options?: WriteOptions): Promise<void>;
  del(key: string): Promise<void>;
  hasMany(keys: string[]): Promise<boolean[]>;
  batch(operations: BatchOperation[], options?: WriteOptions): Promise<void>;
  keys(options: ReadOptions): AsyncIterable<string>;
  iterator(options: ReadOptions): AsyncIterable<[string, string]>;
  snapshot?(): LevelSnapshot;
}

/** The named sublevel with utf8 keys and values. */
export function utf8Sublevel(db: LevelLike, name: string): Utf8Sublevel {
  return db.sublevel(name, { valueEncoding: 'utf8' }) as Utf8Sublevel;
}
