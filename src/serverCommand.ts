// `telemetry-actor server`: hosts the server machine in this process until SIGINT or SIGTERM.
import { createLogger, type Logger } from './logger.js';
import { startServer } from './server.js';
import type { Settings } from './settings.js';

/** Pretty logs in a terminal when pino-pretty is installed; JSON otherwise (and always when piped). */
async function processLogger(settings: Settings): Promise<Logger> {
  if (process.stdout.isTTY === true) {
    try {
      const { default: pretty } = await import('pino-pretty');
      return createLogger({ level: settings.logLevel, destination: pretty({ colorize: true, sync: true }) });
    } catch {
      // pino-pretty is a dev dependency: without it, JSON it is.
    }
  }
  return createLogger({ level: settings.logLevel });
}

/** Runs the server; resolves to the exit code once it has stopped. */
export async function serverCommand(settings: Settings): Promise<number> {
  const logger = await processLogger(settings);
  const server = startServer({ settings, logger });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'Second signal: exiting at once');
      process.exit(1);
    }
    logger.info({ signal }, 'Signal received');
    server.shutdown();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const output = await server.done;
  if (output.error !== null) process.stderr.write(`telemetry-actor: ${output.error}\n`);
  return output.exitCode;
}
