// Seeded fault schedules for property tests (STYLE.md rule 19). Each seam (one actor's replies, the store's writes,
// the lease's claims) draws from a stream of its own, so its n-th decision depends only on the seed and n, whatever
// order the seams happen to be consulted in; a failing seed replays the same decisions at every seam.
import { seededRandom } from './random.js';

/** A number from a seam's name, to derive its stream from the seed (FNV-1a). */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** One seam's decisions: `next()` draws the next one, `drawn` counts what was drawn so far. */
export interface Seam<T extends string> {
  next(): T;
  readonly drawn: Readonly<Record<T, number>>;
  /** From now on every draw is `calm` (the faults stop; the stream is not consumed). */
  calm(): void;
}

/** Faults drawn for a whole run, one stream per seam, from one seed. */
export interface FaultSchedule {
  readonly seed: number;
  /**
   * The seam named `name`, drawing among `weights` (relative; need not sum to 1); the first key is the calm one.
   * `fixed` sets the choice of some draws (1-based) instead of drawing it, so a fault happens however few draws a
   * busy machine makes; those draws do not consume the stream.
   */
  seam<T extends string>(name: string, weights: Readonly<Record<T, number>>, fixed?: Readonly<Record<number, NoInfer<T>>>): Seam<T>;
  /** `count` moments in [from, to), in order, drawn from the stream named `name`. */
  moments(name: string, count: number, from: number, to: number): number[];
  /** Stops the faults of every seam made so far. */
  calm(): void;
  /** How often `choice` was drawn, over the seams whose name starts with `prefix`. */
  count(prefix: string, choice: string): number;
}

/** The choice whose share of the total weight `at` falls in (the last one for rounding at the very end). */
function pick<T>(choices: ReadonlyArray<readonly [T, number]>, at: number): T {
  let left = at;
  for (const [choice, weight] of choices) if ((left -= weight) < 0) return choice;
  return choices[choices.length - 1]![0];
}

export function createFaultSchedule(seed: number): FaultSchedule {
  const seams: Array<{ name: string; seam: Seam<string> }> = [];
  const stream = (name: string) => seededRandom((seed ^ hash(name)) >>> 0);
  return {
    seed,
    seam<T extends string>(name: string, weights: Readonly<Record<T, number>>, fixed: Readonly<Record<number, NoInfer<T>>> = {}): Seam<T> {
      const rnd = stream(name);
      const choices = Object.entries(weights) as Array<[T, number]>;
      const total = choices.reduce((sum, [, w]) => sum + w, 0);
      const drawn = Object.fromEntries(choices.map(([choice]) => [choice, 0])) as Record<T, number>;
      let calm = false;
      let draws = 0;
      const seam: Seam<T> = {
        drawn,
        next() {
          draws += 1;
          const choice = calm ? choices[0]![0] : (fixed[draws] ?? pick(choices, rnd() * total));
          drawn[choice] += 1;
          return choice;
        },
        calm: () => void (calm = true),
      };
      seams.push({ name, seam: seam as unknown as Seam<string> });
      return seam;
    },
    moments(name, count, from, to) {
      const rnd = stream(name);
      return Array.from({ length: count }, () => from + rnd() * (to - from)).sort((a, b) => a - b);
    },
    calm: () => seams.forEach(({ seam }) => seam.calm()),
    count: (prefix, choice) => seams.filter(({ name }) => name.startsWith(prefix)).reduce((n, { seam }) => n + (seam.drawn[choice] ?? 0), 0),
  };
}
