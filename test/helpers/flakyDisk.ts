// A fake disk in front of a real LevelDB, for the collector store's failed-write paths: a synced batch (what a 202
// waits for) can be refused before it is written, or written and then reported failed, as a failed fsync after the
// append is (LevelDB "may or may not" replay such a record at the next open: here the worse case, it does).
import type { Level } from 'level';
import type { LevelLike } from '../../src/stores/level/levelLike.js';
import { interceptSublevels } from './levelLike.js';

/** How a synced batch fails: `before` it reaches the database, or `after` it was written. */
export type WriteFault = 'before' | 'after';

export interface FlakyDisk {
  /** The database as the store should see it: every sublevel's synced `batch` goes through the disk. */
  wrap(db: Level<string, string>): LevelLike;
  /** Makes the next synced batch fail this way (one-shot), whatever `decide` says. */
  arm(fault: WriteFault): void;
  /** True from a failed write until a synced batch has succeeded again (the store's recovery wrote its undo). */
  recovering(): boolean;
  /** Failed writes so far, by kind. */
  readonly failures: Record<WriteFault, number>;
}

/**
 * The disk; `decide` is asked for each synced batch while the store is not recovering (the recovery's own write
 * always succeeds, so a store is never left refusing for long): a fault, or undefined to write normally.
 */
export function createFlakyDisk(decide: () => WriteFault | undefined = () => undefined): FlakyDisk {
  let armed: WriteFault | undefined;
  let recovering = false;
  const failures: Record<WriteFault, number> = { before: 0, after: 0 };

  async function batch(write: () => Promise<void>, sync: boolean): Promise<void> {
    const fault = !sync || recovering ? undefined : (armed ?? decide());
    if (sync) armed = undefined;
    if (fault === 'after') await write();
    if (fault !== undefined) {
      failures[fault] += 1;
      recovering = true;
      throw new Error(`the disk refused a synced write (${fault} the append; test)`);
    }
    await write();
    if (sync) recovering = false;
  }

  const wrap = (db: Level<string, string>): LevelLike =>
    interceptSublevels(db, (property, bound) =>
      property === 'batch'
        ? (operations: unknown, options?: { sync?: boolean }) => batch(() => bound(operations, options) as Promise<void>, options?.sync === true)
        : undefined,
    );

  return { wrap, arm: (fault) => void (armed = fault), recovering: () => recovering, failures };
}
