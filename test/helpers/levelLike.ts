// A real LevelDB seen through a Proxy on each sublevel, for tests that watch or break one of its calls.
import type { Level } from 'level';
import type { LevelLike } from '../../src/stores/level/levelLike.js';

export type SublevelMethod = (...args: any[]) => unknown;

/**
 * `db` as the store sees it, every sublevel's methods bound to that sublevel; `replace` is asked for each method
 * read (`bound` is the real one): what to call instead, or undefined to call the real one.
 */
export function interceptSublevels(db: Level<string, string>, replace: (property: string | symbol, bound: SublevelMethod) => SublevelMethod | undefined): LevelLike {
  return {
    get status() {
      return db.status;
    },
    open: () => db.open(),
    close: () => db.close(),
    sublevel(name, options) {
      const sub = db.sublevel<string, string>(name, options) as unknown as Record<string | symbol, unknown>;
      return new Proxy(sub, {
        get(target, property) {
          const value = target[property];
          if (typeof value !== 'function') return value;
          const bound = (value as SublevelMethod).bind(target);
          return replace(property, bound) ?? bound;
        },
      });
    },
  };
}
