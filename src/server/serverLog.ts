// The server machine's log lines: its logging actions given a pino logger, each with constant text.
import type { Logger } from '../logger.js';
import { VERSION } from '../version.js';

/** The implementations of serverMachine's `log*` actions, on `logger.child({ component: 'server' })`. */
export function serverLogActions(log: Logger) {
  const serverLog = log.child({ component: 'server' });
  return {
    logListening: ({ context }: { context: { url: string | null } }) =>
      serverLog.info({ url: context.url, version: VERSION }, 'Server listening'),
    logTelemetryOff: ({ context }: { context: { disabledBy: string | null } }) =>
      serverLog.info({ disabledBy: context.disabledBy }, 'Telemetry is off; no heartbeat will be sent'),
    logTelemetryCrash: (_: unknown, failure: { error: unknown }) =>
      serverLog.error({ err: failure.error }, 'Telemetry service crashed; the server keeps serving'),
    logStartFailure: ({ context }: { context: { error: string | null } }) =>
      // Constant text: the reason is a field, so a terminal shows it once and log searches find every failure.
      serverLog.error({ reason: context.error }, 'Start-up failed'),
    logShutdown: () => serverLog.info('Shutting down'),
    logCloseFailure: (_: unknown, failure: { error: unknown }) =>
      serverLog.error({ err: failure.error }, 'Failed to close cleanly'),
  };
}

/** The root actor's error observer's line: the machine itself failed (a bug path; the exit code is 1). */
export function logMachineFailure(log: Logger, error: unknown): void {
  log.child({ component: 'server' }).fatal({ err: error }, 'Server machine failed');
}
