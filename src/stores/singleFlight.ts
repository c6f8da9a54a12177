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

/**
 * singleFlight per key (a day, a range): concurrent callers with the same key share reads as above. At most
 * `maxKeys` keys are remembered; past that the oldest are forgotten (a flight in progress still completes).
 */
export function singleFlightBy<K, T>(read: (key: K) => Promise<T>, maxKeys: number): (key: K, id?: string) => Promise<T> {
  const flights = new Map<string, () => Promise<T>>();
  return (key, id = JSON.stringify(key)) => {
    let flight = flights.get(id);
    if (flight === undefined) {
      if (flights.size >= maxKeys) flights.delete(flights.keys().next().value as string);
      flights.set(id, (flight = singleFlight(() => read(key))));
    }
    return flight();
  };
}
