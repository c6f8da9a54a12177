// "Did you mean ...?": the nearest known word to a mistyped command, flag or variable name.

/** Edits (insert, delete, substitute) that turn `a` into `b`: the Levenshtein distance. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitute = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitute));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** Beyond two edits a suggestion is more often wrong than helpful. */
const MAX_DISTANCE = 2;

/** The known word nearest to `word`, if it is at most two edits away (the first of equals wins). */
export function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = MAX_DISTANCE + 1;
  for (const candidate of known) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/** `; did you mean X?` when something is near, else an empty string: appended to a usage error. */
export function didYouMean(word: string, known: readonly string[], prefix = ''): string {
  const match = closest(word, known);
  return match === undefined ? '' : `; did you mean ${prefix}${match}?`;
}
