// A cap on repeating warning and error lines: a fault that repeats (a full disk, a slow endpoint) logs a
// few lines a minute and then one summary, not a line (and a stack) per occurrence.
import type { Logger } from './logger.js';

export interface LogLimitOptions {
  /** Lines of one message written per window; later ones are counted, then summarised. Default 10. */
  perWindow?: number;
  /** Default one minute. */
  windowMs?: number;
}

/** warn and error that keep to the cap, per message text (messages are constant, so the text is the key). */
export interface LimitedLog {
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

type Level = 'warn' | 'error';

interface Window {
  written: number;
  suppressed: number;
  timer?: NodeJS.Timeout;
}

/**
 * Wraps `logger` so that each message is written at most `perWindow` times per window. The window opens
 * at the first line; when it closes with lines held back, one line says how many:
 * `<msg> … N more in the last minute` with `{ suppressed: N }`.
 */
export function limitRepeats(logger: Logger, options: LogLimitOptions = {}): LimitedLog {
  const perWindow = options.perWindow ?? 10;
  const windowMs = options.windowMs ?? 60_000;
  const windows = new Map<string, Window>();
  const span = windowMs === 60_000 ? 'minute' : `${windowMs / 1000} s`;

  function close(key: string, level: Level, msg: string): void {
    const window = windows.get(key);
    windows.delete(key);
    if (window !== undefined && window.suppressed > 0) {
      logger[level]({ suppressed: window.suppressed, windowMs }, `${msg} … ${window.suppressed} more in the last ${span}`);
    }
  }

  function write(level: Level, fields: object, msg: string): void {
    const key = `${level}\0${msg}`;
    let window = windows.get(key);
    if (window === undefined) {
      window = { written: 0, suppressed: 0 };
      windows.set(key, window);
      // Unref'd: a pending summary never holds the process open (a summary lost at exit is acceptable).
      window.timer = setTimeout(() => close(key, level, msg), windowMs);
      window.timer.unref();
    }
    if (window.written < perWindow) {
      window.written += 1;
      logger[level](fields, msg);
    } else {
      window.suppressed += 1;
    }
  }

  return {
    warn: (fields, msg) => write('warn', fields, msg),
    error: (fields, msg) => write('error', fields, msg),
  };
}
