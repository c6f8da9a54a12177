// `telemetry-actor server`: hosts the server machine in this process until SIGINT or SIGTERM.
import { createLogger, type Logger } from '../logger.js';
import type { RunningInspector } from '../server/inspect/inspect.js';
import { startServer, type RunningServer } from '../server/server.js';
import type { Settings } from '../settings/index.js';

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

// Loaded only when asked for: @statelyai/inspect and its socket code add ~80 ms to every start-up.
async function startInspectorIfOn(settings: Settings, logger: Logger): Promise<RunningInspector | undefined> {
  if (settings.inspect.mode === 'off') return undefined;
  const { startInspector } = await import('../server/inspect/inspect.js');
  return startInspector(settings.inspect, logger);
}

/** Runs the server; resolves to the exit code once it has stopped. */
export async function serverCommand(settings: Settings): Promise<number> {
  const logger = await processLogger(settings);
  let server: RunningServer | undefined;
  let signals = 0;
  // Installed first: a signal during inspector start-up must still mean a clean exit, not Node's default.
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'Second signal: exiting at once');
      process.exit(1);
    }
    logger.info({ signal }, 'Signal received');
    server?.shutdown();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Before the actor starts, so the inspector sees it from its first snapshot; undefined when off.
  const inspector = await startInspectorIfOn(settings, logger);
  server = await startServer({ settings, logger, inspect: inspector?.inspect });
  if (inspector !== undefined) {
    // The bridge page links to the console once the server knows its address (port 0 included).
    server.actor.subscribe((snapshot) => snapshot.context.url !== null && inspector.setConsoleUrl(snapshot.context.url));
  }
  if (signals > 0) server.shutdown();
  const output = await server.done;
  await inspector?.close();
  if (output.error !== null) process.stderr.write(`telemetry-actor: ${output.error}\n`);
  return output.exitCode;
}
