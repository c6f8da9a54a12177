// One pino root logger for the whole process; components take child loggers.
// pino (with its transport, worker and stream modules) is required when the first logger is made, not at
// import: a host that embeds the actor with its own logger never loads it (see docs/benchmarks.md, H4).
import { createRequire } from 'node:module';
import type { Logger, DestinationStream, pino as Pino } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** pino level; default info. */
  level?: string;
  /** Where lines go; default stdout. */
  destination?: DestinationStream;
}

let pinoModule: typeof Pino | undefined;

/** pino, required once on first use (it is CommonJS, so this stays synchronous). */
function loadPino(): typeof Pino {
  pinoModule ??= (createRequire(import.meta.url)('pino') as { pino: typeof Pino }).pino;
  return pinoModule;
}

/** Creates the root logger: JSON lines, ISO time, no pid or hostname (nothing to leak into shared logs). */
export function createLogger(options: LoggerOptions = {}): Logger {
  const pino = loadPino();
  return pino(
    {
      level: options.level ?? 'info',
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** A logger that drops everything, for embedding without logs. */
export function silentLogger(): Logger {
  return loadPino()({ level: 'silent' });
}
