// A pino logger whose lines land, parsed, in an array: assert on log output without touching stdout.
import { createLogger, type Logger } from '../../src/logger.js';

/** One parsed pino JSON line. */
export interface LogLine {
  level: number;
  msg: string;
  time?: string;
  component?: string;
  err?: { type?: string; message?: string; stack?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** pino's numeric levels, for filtering. */
export const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;

export interface LogCapture {
  logger: Logger;
  /** Every line so far, parsed, in order. */
  lines: LogLine[];
  /** Lines at exactly the given level. */
  at(level: keyof typeof LEVELS): LogLine[];
  /** Lines whose message contains `text`. */
  withMessage(text: string): LogLine[];
}

/** Creates a logger (via src/logger.ts createLogger) that records its lines in memory. */
export function captureLogs(level: keyof typeof LEVELS = 'debug'): LogCapture {
  const lines: LogLine[] = [];
  const destination = {
    write(line: string) {
      lines.push(JSON.parse(line) as LogLine);
    },
  };
  return {
    logger: createLogger({ level, destination }),
    lines,
    at: (name) => lines.filter((line) => line.level === LEVELS[name]),
    withMessage: (text) => lines.filter((line) => line.msg.includes(text)),
  };
}
