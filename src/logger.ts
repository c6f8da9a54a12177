// One pino root logger for the whole process; components take child loggers.
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** pino level; default info. */
  level?: string;
  /** Where lines go; default stdout. */
  destination?: DestinationStream;
}

/** Creates the root logger: JSON lines, ISO time, no pid or hostname (nothing to leak into shared logs). */
export function createLogger(options: LoggerOptions = {}): Logger {
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
  return pino({ level: 'silent' });
}
