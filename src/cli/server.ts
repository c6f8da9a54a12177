// `telemetry-actor server`: hosts the server machine in this process until SIGINT, SIGTERM, SIGHUP or SIGUSR2.
import { createLogger, type Logger } from '../logger.js';
import { importOptional, isMissingPackage } from '../optionalPackages.js';
import type { RunningInspector } from '../server/inspect/inspect.js';
import { checkExposure } from '../server/security/exposure.js';
import { startServer, type RunningServer } from '../server/server.js';
import { removeOwnServerInfoSync } from '../server/serverInfo.js';
import type { Settings } from '../settings/index.js';
import { SHUTDOWN_SIGNALS } from './signals.js';

/**
 * Pretty lines for a person at a terminal, pino JSON for everything else (a pipe, a file, a log shipper).
 * pino-pretty is an optional peer dependency, imported only in a terminal so piped start-up does not pay for
 * it; where it is not installed the terminal gets JSON and one line saying how to get pretty lines.
 */
async function processLogger(settings: Settings, terminal: boolean): Promise<Logger> {
  if (!terminal) return createLogger({ level: settings.logLevel });
  try {
    const { default: pretty } = await import('pino-pretty');
    return createLogger({ level: settings.logLevel, destination: pretty({ colorize: true, sync: true }) });
  } catch (error) {
    if (!isMissingPackage(error, ['pino-pretty'])) throw error;
    process.stderr.write('telemetry-actor: logs are JSON lines: readable ones need the package pino-pretty (npm install pino-pretty)\n');
    return createLogger({ level: settings.logLevel });
  }
}

// Loaded only when asked for: @statelyai/inspect and its socket code add ~80 ms to every start-up, and both are
// optional peer dependencies.
async function startInspectorIfOn(settings: Settings, logger: Logger): Promise<RunningInspector | undefined> {
  if (settings.inspect.mode === 'off') return undefined;
  const start = async () => (await import('../server/inspect/inspect.js')).startInspector(settings.inspect, logger);
  return importOptional(start, '--inspect (TELEMETRY_INSPECT)', ['@statelyai/inspect', 'ws']);
}

/**
 * One Ctrl-C can arrive twice: the terminal signals the whole foreground group, and `npm start` passes its own
 * copy on to the server. The same signal this soon after the first is that copy; a person pressing again because
 * shutdown hangs comes later (a clean shutdown takes well under this).
 */
const ECHO_WINDOW_MS = 1_000;

function isEcho(first: { signal: NodeJS.Signals; at: number }, signal: NodeJS.Signals): boolean {
  return signal === first.signal && performance.now() - first.at < ECHO_WINDOW_MS;
}

/** Runs the server; resolves to the exit code once it has stopped. */
export async function serverCommand(settings: Settings): Promise<number> {
  // Before anything starts (the inspector bridge would hold the process open): a refusal is one line, exit 2.
  checkExposure(settings);
  const terminal = process.stdout.isTTY === true;
  const logger = await processLogger(settings, terminal);
  const serverLog = logger.child({ component: 'server' });
  let server: RunningServer | undefined;
  let signals = 0;
  let first: { signal: NodeJS.Signals; at: number } | undefined;
  // Installed first: a signal during inspector start-up must still mean a clean exit, not Node's default.
  const onSignal = (signal: NodeJS.Signals) => {
    if (first !== undefined && isEcho(first, signal)) return;
    signals += 1;
    if (signals > 1) {
      serverLog.warn({ signal }, 'Second signal: exiting at once');
      // No promise runs after process.exit: the runtime file goes now, or a stale one names a dead server.
      removeOwnServerInfoSync(settings.home);
      process.exit(1);
    }
    first = { signal, at: performance.now() };
    serverLog.info({ signal }, 'Signal received');
    server?.shutdown();
  };
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, onSignal);
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
  // The error line already told a person at a terminal (unless the level hides it); piped JSON logs go to
  // machines, so stderr tells people.
  const toldInTerminal = terminal && logger.isLevelEnabled('error');
  if (output.error !== null && !toldInTerminal) process.stderr.write(`telemetry-actor: ${output.error}\n`);
  return output.exitCode;
}
