// After a failed write, a LevelDB store refuses until it has recovered: LevelDB's write-ahead log is left
// misaligned by a failed append, and records written after it are dropped when the log is next read.
import { StoreUnavailableError } from '../../errors.js';
import type { Logger } from '../../logger.js';

/** First wait before a recovery attempt; each failed attempt doubles it, up to MAX_RETRY_MS. */
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 10_000;

export interface RecoveryOptions {
  /** Closes and reopens the database, reloads and verifies what it keeps; throws while it cannot. */
  recover: () => Promise<void>;
  logger?: Logger;
  /** What the log lines name, e.g. `collector`. */
  store: string;
}

/** The refusing state of one store: `assertWritable` throws while a failed write is not yet recovered. */
export interface RecoveryGuard {
  /** Throws StoreUnavailableError while recovering. */
  assertWritable(): void;
  /** Enters the refusing state (once per episode: one error line) and starts recovering in the background. */
  failed(error: unknown): void;
}

/** Creates the guard; recovery attempts run on unref'd timers, so they never hold a process open. */
export function createRecoveryGuard(options: RecoveryOptions): RecoveryGuard {
  let failure: { error: unknown; since: number; attempts: number } | undefined;

  async function attempt(waitMs: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, waitMs).unref());
    const episode = failure;
    if (episode === undefined) return;
    episode.attempts += 1;
    try {
      await options.recover();
    } catch (error) {
      options.logger?.debug({ err: error, store: options.store, attempts: episode.attempts }, 'Store not recovered yet; retrying');
      return attempt(Math.min(MAX_RETRY_MS, waitMs * 2));
    }
    failure = undefined;
    options.logger?.info(
      { store: options.store, attempts: episode.attempts, downMs: Date.now() - episode.since },
      'Store recovered from a failed write; accepting writes again',
    );
  }

  return {
    assertWritable() {
      if (failure !== undefined) throw new StoreUnavailableError(undefined, { cause: failure.error });
    },
    failed(error) {
      if (failure !== undefined) return;
      failure = { error, since: Date.now(), attempts: 0 };
      options.logger?.error({ err: error, store: options.store }, 'Store write failed; refusing writes until it has recovered');
      void attempt(FIRST_RETRY_MS);
    },
  };
}
