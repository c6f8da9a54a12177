// Group commit for a collector store: one writer; heartbeats that arrive while a write is in flight go
// together in the next one, and each is answered only once its own write has committed.
import type { RecordOutcome } from './collectorStore.js';
import type { CountedHeartbeat } from './counting.js';

/** Heartbeats written in one group at most, so one write stays small. */
const MAX_GROUP = 1000;

/** A heartbeat waiting in a collector store's queue for the next group write, and its caller's promise. */
export interface PendingRecord {
  heartbeat: CountedHeartbeat;
  resolve: (outcome: RecordOutcome) => void;
  reject: (err: unknown) => void;
}

/** What one heartbeat of a committed group came to: its outcome, or the error it alone is refused with (a 422). */
export type RecordResult = RecordOutcome | Error;

export interface GroupCommitOptions {
  /** Writes one group durably and says what each heartbeat came to (same order); throws when it could not write. */
  commit(group: PendingRecord[]): Promise<RecordResult[]>;
  /**
   * What a failed group is rejected with (default: the error itself); with `refuseQueued`, every heartbeat
   * still queued is refused too (nothing after a failed write is acknowledged).
   */
  failed?(error: unknown): { error: unknown; refuseQueued: boolean };
}

/** Returns `record`: queues one heartbeat and resolves with its outcome once the group holding it is written. */
export function createGroupCommit(options: GroupCommitOptions): (heartbeat: CountedHeartbeat) => Promise<RecordOutcome> {
  const queue: PendingRecord[] = [];
  let writing = false;

  async function drain(): Promise<void> {
    writing = true;
    while (queue.length > 0) {
      const group = queue.splice(0, MAX_GROUP);
      try {
        const results = await options.commit(group);
        group.forEach((p, i) => {
          const result = results[i] as RecordResult;
          if (result instanceof Error) p.reject(result);
          else p.resolve(result);
        });
      } catch (err) {
        const { error, refuseQueued } = options.failed?.(err) ?? { error: err, refuseQueued: false };
        for (const p of refuseQueued ? [...group, ...queue.splice(0)] : group) p.reject(error);
      }
    }
    writing = false;
  }

  return (heartbeat) =>
    new Promise<RecordOutcome>((resolve, reject) => {
      queue.push({ heartbeat, resolve, reject });
      if (!writing) void drain();
    });
}
