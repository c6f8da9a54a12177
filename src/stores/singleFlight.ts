// Coalesces concurrent reads: a burst of stats requests costs one or two queries, not one each.

/**
 * Runs at most one `read` at a time. Callers arriving while one runs share the next read, which starts
 * after it: each gets a result read after it asked (never an older one), however many ask at once.
 */
export function singleFlight<T>(read: () => Promise<T>): () => Promise<T> {
  let running: Promise<void> | undefined;
  let next: Promise<T> | undefined;
  const start = (): Promise<T> => {
    const current = read();
    // Settles either way, so a failed read never leaves a rejection nobody handles.
    running = current.then(
      () => undefined,
      () => undefined,
    ).then(() => {
      running = undefined;
    });
    return current;
  };
  return () => {
    if (running === undefined) return start();
    next ??= running.then(() => {
      next = undefined;
      return start();
    });
    return next;
  };
}
