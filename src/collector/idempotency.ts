// The collector's memory of idempotency keys: a heartbeat resent under the same `idempotency-key` header
// (a retry after a 2xx that came too late) is answered 202 again but counted once.

/** Keys remembered at most; the least recently accepted are forgotten first. Retries come within minutes. */
const MAX_KEYS = 10_000;
const MAX_KEY_LENGTH = 200;

/** A key the header may carry: 1 to 200 visible ASCII characters. */
export function isValidKey(key: unknown): key is string {
  return typeof key === 'string' && key.length > 0 && key.length <= MAX_KEY_LENGTH && /^[\x21-\x7e]+$/.test(key);
}

export const INVALID_KEY_MESSAGE = `idempotency-key must be 1 to ${MAX_KEY_LENGTH} visible ASCII characters`;

/** Runs a write once per key: a repeat of an accepted key, or one arriving while it is written, is not written again. */
export function createIdempotency() {
  const accepted = new Set<string>();
  const writing = new Map<string, Promise<void>>();

  /** Resolves true when `write` ran (and succeeded), false when the key had already been accepted. */
  async function once(key: string, write: () => Promise<void>): Promise<boolean> {
    const earlier = writing.get(key);
    // A failed earlier attempt leaves the key free: this one then writes.
    if (earlier !== undefined) await earlier.catch(() => undefined);
    if (accepted.has(key)) return false;
    const pending = write();
    writing.set(key, pending);
    try {
      await pending;
    } finally {
      writing.delete(key);
    }
    accepted.add(key);
    if (accepted.size > MAX_KEYS) accepted.delete(accepted.values().next().value as string);
    return true;
  }

  return { once };
}
