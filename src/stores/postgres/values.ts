// The cap on PostgreSQL: the values each breakdown admitted (table collector_values), cached in the process. A
// value not yet admitted is admitted in a short transaction, one breakdown at a time under an advisory lock, so
// processes racing for the last slots agree; once a breakdown is full, no round trip is ever made for it.
import { createCap } from '../admission.js';
import { DIMENSIONS, MAX_VALUES, OTHER_KEY, type CountedHeartbeat, type Dimension } from '../counting.js';
import { transaction, type Pool } from './pool.js';

/** The advisory lock class for admissions ("tval"); the second key is the breakdown's index. */
const ADMISSION_LOCK = 0x7476616c;

export function createValueCache(main: Pool) {
  const admitted = new Map<Dimension, Set<string>>(DIMENSIONS.map((d) => [d, new Set<string>()]));
  const full = (dimension: Dimension) => (admitted.get(dimension) as Set<string>).size >= MAX_VALUES - 1;

  /** The group's values not admitted yet, per breakdown not yet full, in group order. */
  function unknown(group: readonly CountedHeartbeat[]): Map<Dimension, string[]> {
    const wanted = new Map<Dimension, string[]>();
    for (const dimension of DIMENSIONS) {
      if (full(dimension)) continue;
      const set = admitted.get(dimension) as Set<string>;
      const values = new Set(group.map((h) => h.values[dimension]).filter((v) => v !== OTHER_KEY && !set.has(v)));
      if (values.size > 0) wanted.set(dimension, [...values]);
    }
    return wanted;
  }

  let loaded = false;
  async function load(): Promise<void> {
    const { rows } = await main.query<{ scope: string; value: string }>('SELECT scope, value FROM collector_values');
    for (const { scope, value } of rows) admitted.get(scope as Dimension)?.add(value);
    loaded = true;
  }

  return {
    /** Admits the group's new values while there is room (first come, first served, across processes). */
    async admit(group: readonly CountedHeartbeat[]): Promise<void> {
      if (!loaded) await load();
      const wanted = unknown(group);
      if (wanted.size === 0) return;
      const added = await transaction(main, async (client) => {
        const out = new Map<Dimension, string[]>();
        // Breakdowns in one order in every process: the locks are never taken crosswise.
        for (const [dimension, values] of [...wanted].sort((a, b) => DIMENSIONS.indexOf(a[0]) - DIMENSIONS.indexOf(b[0]))) {
          await client.query('SELECT pg_advisory_xact_lock($1, $2)', [ADMISSION_LOCK, DIMENSIONS.indexOf(dimension)]);
          const { rows } = await client.query<{ value: string }>('SELECT value FROM collector_values WHERE scope = $1', [dimension]);
          const stored = new Set(rows.map((r) => r.value));
          admitted.set(dimension, stored);
          const cap = createCap(() => stored);
          for (const value of values) cap.cap(dimension, value);
          const mine = [...(cap.added.get(dimension) ?? [])];
          if (mine.length > 0) await client.query('INSERT INTO collector_values (scope, value) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING', [dimension, mine]);
          out.set(dimension, mine);
        }
        return out;
      });
      for (const [dimension, values] of added) for (const value of values) admitted.get(dimension)?.add(value);
    },
    /** A value as counted: itself when admitted, else OTHER_KEY (call admit first). */
    cap: (dimension: Dimension, value: string): string => (value === OTHER_KEY || admitted.get(dimension)?.has(value) === true ? value : OTHER_KEY),
  };
}

export type ValueCache = ReturnType<typeof createValueCache>;
