// The server host: runs serverMachine with real resources (LevelDB or PostgreSQL, node:http, collector) and the
// telemetry child. Telemetry is the TELEMETRY_ENABLED / DO_NOT_TRACK / --no-telemetry controlled child; the
// server never depends on it: a telemetry failure leaves the API serving.
import { createActor, fromPromise, type InspectionEvent } from 'xstate';
import { serverMachine, type ServerOutput } from '../../machines/serverMachine.js';
import { createTelemetryMachine } from '../actor/createTelemetryMachine.js';
import { errorMessage } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import type { Settings } from '../settings/index.js';
import { createStorage } from '../stores/index.js';
import { createResources } from './resources.js';
import { checkExposure } from './security/exposure.js';
import { serverInput } from './serverInput.js';
import { logMachineFailure, serverLogActions } from './serverLog.js';
import type { TelemetryStatus } from './status.js';
import { trackTelemetryChild } from './telemetryChild.js';

export interface ServerOptions {
  settings: Settings;
  /** Root logger; default a pino logger at settings.logLevel on stdout. */
  logger?: Logger;
  /** Inspection observer (the Stately inspector), passed to createActor. */
  inspect?: (event: InspectionEvent) => void;
}

/** A started server: the root actor, its output once stopped, and the live telemetry status. */
export interface RunningServer {
  actor: ReturnType<typeof createActor<typeof serverMachine>>;
  /** Resolves once the machine reaches `stopped`. */
  done: Promise<ServerOutput>;
  /** Sends `server.shutdown`. */
  shutdown(): void;
  telemetryStatus(): TelemetryStatus;
}

/** Starts the server machine; resolve `done` for its exit code. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { settings } = options;
  checkExposure(settings);
  const log = options.logger ?? createLogger({ level: settings.logLevel });
  const telemetry = trackTelemetryChild(settings);
  const storage = await createStorage({ ...settings, logger: log.child({ component: 'storage' }) });
  const resources = createResources({ settings, storage, telemetry, logger: log });

  const machine = serverMachine.provide({
    actors: {
      openDatabase: fromPromise(() => resources.open()),
      startListener: fromPromise(() => resources.listen()),
      closeResources: fromPromise(() => resources.close()),
      telemetry: createTelemetryMachine({
        sessions: storage.sessions,
        lease: storage.lease,
        replicaId: resources.instance,
        logger: log,
        debug: settings.debug,
      }),
    },
    actions: serverLogActions(log),
  });
  const actor = createActor(machine, { input: serverInput(settings), inspect: options.inspect });
  const done = new Promise<ServerOutput>((resolve) => {
    actor.subscribe({
      next: (snapshot) => {
        // The console follows the child's every step, not only the server's.
        telemetry.observe(snapshot, resources.changed);
        resources.changed();
        if (snapshot.status === 'done') resolve(snapshot.output);
      },
      // The root's error observer: no actor error ever escapes as an uncaught exception.
      error: (error) => {
        logMachineFailure(log, error);
        resolve({ exitCode: 1, error: errorMessage(error) });
      },
    });
  });
  actor.start();
  return { actor, done, shutdown: () => actor.send({ type: 'server.shutdown' }), telemetryStatus: telemetry.status };
}
