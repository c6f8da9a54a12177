// Group commit for a collector store: one writer; heartbeats that arrive while a write is in flight go
// together in the next one, and each is answered only once its own write has committed.
import type { Heartbeat } from '../heartbeat.js';
import type { PendingHeartbeat } from './types.js';

/** Heartbeats written in one group at most, so one write stays small. */
const MAX_GROUP = 1000;

export interface GroupCommitOptions {
  /** Writes one group durably; throws when it could not. */
  commit(group: PendingHeartbeat[]): Promise<void>;
  /**
   * What a failed group is rejected with (default: the error itself); with `refuseQueued`, every heartbeat
   * still queued is refused too (nothing after a failed write is acknowledged).
   */
  failed?(error: unknown): { error: unknown; refuseQueued: boolean };
}

/** Returns `record`: queues one heartbeat and resolves once the group holding it is written. */
export function createGroupCommit(options: GroupCommitOptions): (heartbeat: Heartbeat, receivedAt: Date) => Promise<void> {
  const queue: PendingHeartbeat[] = [];
  let writing = false;

  async function drain(): Promise<void> {
    writing = true;
    while (queue.length > 0) {
      const group = queue.splice(0, MAX_GROUP);
      try {
        await options.commit(group);
        for (const p of group) p.resolve();
      } catch (err) {
        const { error, refuseQueued } = options.failed?.(err) ?? { error: err, refuseQueued: false };
        for (const p of refuseQueued ? [...group, ...queue.splice(0)] : group) p.reject(error);
      }
    }
    writing = false;
  }

  return (heartbeat, receivedAt) =>
    new Promise<void>((resolve, reject) => {
      queue.push({ heartbeat, receivedAt, resolve, reject });
      if (!writing) void drain();
    });
}
