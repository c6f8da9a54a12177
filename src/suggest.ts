// "Did you mean ...?": the nearest known word to a mistyped command, flag or variable name.

/**
 * Edits (insert, delete, substitute) that turn `a` into `b`: the Levenshtein distance, exact when it is at most
 * `max`; beyond, some number greater than `max` (the work stops at the first row that is all past it). The CLI
 * checks every variable of the environment against the settings table at start, so this stays cheap.
 */
export function editDistance(a: string, b: string, max = Number.POSITIVE_INFINITY): number {
  let previous = Int32Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Int32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const substitute = previous[j - 1]! + (a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1);
      const cell = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitute);
      current[j] = cell;
      if (cell < rowMin) rowMin = cell;
    }
    // No later row has a smaller cell than this one's smallest: the words are already too far apart.
    if (rowMin > max) return rowMin;
    [previous, current] = [current, previous];
  }
  return previous[b.length]!;
}

/** Beyond two edits a suggestion is more often wrong than helpful. */
const MAX_DISTANCE = 2;

/** The known word nearest to `word`, if it is at most two edits away (the first of equals wins). */
export function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = MAX_DISTANCE + 1;
  for (const candidate of known) {
    // The distance is at least the difference in length: skip the table for words too long or short to be near.
    if (Math.abs(word.length - candidate.length) >= bestDistance) continue;
    const distance = editDistance(word, candidate, bestDistance - 1);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/** `; did you mean X?` when something is near, else an empty string: appended to a usage error. */
export function didYouMean(word: string, known: readonly string[], prefix = ''): string {
  const match = closest(word, known);
  return match === undefined ? '' : `; did you mean ${prefix}${match}?`;
}
