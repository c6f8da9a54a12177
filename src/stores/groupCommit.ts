// Group commit for a collector store: one writer; heartbeats that arrive while a write is in flight go
// together in the next one, and each is answered only once its own write has committed. The queue is
// bounded in count, bytes and waiting time, so a slow or stalled store answers 503 instead of piling up.
import { StoreUnavailableError } from '../errors.js';

/** Heartbeats written in one group at most, so one write stays small. */
const MAX_GROUP = 1000;

/** Default of QueueBounds.maxQueued: heartbeats waiting for a write. */
export const MAX_QUEUED = 5_000;
/** Default of QueueBounds.maxQueuedBytes: 8 MiB of waiting heartbeats, as estimated by approximateBytes(). */
export const MAX_QUEUED_BYTES = 8 * 1024 * 1024;
/** Default of QueueBounds.maxWaitMs: how long a heartbeat may wait for its write to start. */
export const MAX_QUEUE_WAIT_MS = 5_000;
// What an entry holds besides its strings: its objects, the pending promise and its callbacks.
const ENTRY_OVERHEAD_BYTES = 256;

/** Past any of these, a heartbeat is refused with StoreUnavailableError (503 + Retry-After) at once. */
export interface QueueBounds {
  /** Heartbeats waiting for a write, at most (default MAX_QUEUED). */
  maxQueued: number;
  /** Their estimated memory, at most (default MAX_QUEUED_BYTES). */
  maxQueuedBytes: number;
  /** Milliseconds a heartbeat may wait for its write to start (default MAX_QUEUE_WAIT_MS); the write itself is bounded by the store's own timeouts. */
  maxWaitMs: number;
}

/** One entry's outcome of a committed write: what it resolves with, or an Error it alone is rejected with (e.g. an idempotency key reused with another body). */
export type EntryResult<R> = R | Error;

export interface GroupCommitOptions<E, R> {
  /**
   * Writes one group durably, all or nothing; throws when it could not. Returns each entry's result, in order,
   * or nothing when every entry simply resolves (with undefined).
   */
  commit(group: readonly E[]): Promise<readonly EntryResult<R>[] | void>;
  /**
   * Classifies a failed write. An error returned means the store cannot write at all now (unreachable, a
   * failed disk): the group and everything queued are refused with it. Undefined means the failure may be
   * the group's own (a value the database rejects): the group is split and written again in halves, so the
   * good entries commit and only one that fails alone is rejected, with its own error.
   */
  unavailable(error: unknown): Error | undefined;
  bounds?: Partial<QueueBounds>;
}

interface Queued<E, R> {
  entry: E;
  resolve(value: R): void;
  reject(error: unknown): void;
  bytes: number;
  /** performance.now() after which it is refused if still queued. */
  deadline: number;
}

/** The memory an entry is counted for: two bytes per character of its strings (two levels deep), plus the entry. */
export function approximateBytes(entry: object): number {
  let bytes = ENTRY_OVERHEAD_BYTES;
  const add = (value: unknown, depth: number): void => {
    if (typeof value === 'string') bytes += 2 * value.length;
    else if (value !== null && typeof value === 'object' && depth < 3 && !(value instanceof Date)) {
      for (const key in value) {
        bytes += 2 * key.length + 8;
        add((value as Record<string, unknown>)[key], depth + 1);
      }
    } else bytes += 8;
  };
  add(entry, 0);
  return bytes;
}

/** Returns `record`: queues one entry and resolves (with its result) once the group holding it is written. */
export function createGroupCommit<E extends object, R = void>(options: GroupCommitOptions<E, R>): (entry: E) => Promise<R> {
  const bounds: QueueBounds = { maxQueued: MAX_QUEUED, maxQueuedBytes: MAX_QUEUED_BYTES, maxWaitMs: MAX_QUEUE_WAIT_MS, ...options.bounds };
  const queue: Queued<E, R>[] = [];
  let bytes = 0;
  let writing = false;
  let timer: NodeJS.Timeout | undefined;

  function take(count: number): Queued<E, R>[] {
    const taken = queue.splice(0, count);
    for (const p of taken) bytes -= p.bytes;
    return taken;
  }

  // One timer, for the oldest entry: the queue is in arrival order, so the rest expire after it.
  function expire(): void {
    timer = undefined;
    const now = performance.now();
    let stale = 0;
    while (stale < queue.length && queue[stale]!.deadline <= now) stale += 1;
    const refusal = new StoreUnavailableError(`a heartbeat waited ${bounds.maxWaitMs} ms for the store; try again later`);
    for (const p of take(stale)) p.reject(refusal);
    arm();
  }

  function arm(): void {
    if (timer !== undefined || queue.length === 0) return;
    timer = setTimeout(expire, Math.max(0, queue[0]!.deadline - performance.now()));
    // A pending refusal never holds a process open: the write it waits on does, while it lasts.
    timer.unref();
  }

  function settle(part: Queued<E, R>[], results: readonly EntryResult<R>[] | void): void {
    part.forEach((p, i) => {
      const result = results?.[i];
      if (result instanceof Error) p.reject(result);
      else p.resolve(result as R);
    });
  }

  /**
   * Writes one group. A failure of its own splits it into halves written in turn, so only an entry that
   * fails alone is rejected; an unavailable store refuses what is left of the group and the whole queue.
   */
  async function write(group: Queued<E, R>[]): Promise<void> {
    const parts = [group];
    for (let part = parts.shift(); part !== undefined; part = parts.shift()) {
      try {
        settle(part, await options.commit(part.map((p) => p.entry)));
      } catch (err) {
        const refusal = options.unavailable(err);
        if (refusal !== undefined) {
          for (const p of [...part, ...parts.flat(), ...take(queue.length)]) p.reject(refusal);
          return;
        }
        const half = Math.ceil(part.length / 2);
        if (part.length === 1) part[0]!.reject(err);
        else parts.unshift(part.slice(0, half), part.slice(half));
      }
    }
  }

  async function drain(): Promise<void> {
    writing = true;
    while (queue.length > 0) await write(take(MAX_GROUP));
    writing = false;
  }

  return (entry) =>
    new Promise<R>((resolve, reject) => {
      const size = approximateBytes(entry);
      if (queue.length >= bounds.maxQueued || bytes + size > bounds.maxQueuedBytes) {
        return reject(new StoreUnavailableError('the collector has too many heartbeats waiting to be written; try again later'));
      }
      queue.push({ entry, resolve, reject, bytes: size, deadline: performance.now() + bounds.maxWaitMs });
      bytes += size;
      if (!writing) void drain();
      else arm();
    });
}
