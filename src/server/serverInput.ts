// The server machine's input, built from validated settings: the one place settings become machine data.
import type { ServerInput } from '../../machines/serverMachine.js';
import type { Settings } from '../settings/index.js';
import { optOutHint } from '../settings/resolveTelemetry.js';
import { API_VERSION, SOURCE, VERSION } from '../version.js';
import { resolveEndpoint } from './endpoint.js';

/** Builds the machine input from validated settings. */
export function serverInput(settings: Settings): ServerInput {
  return {
    telemetry: {
      // The configured address until the listener knows its real one (port 0): see the machine's recordUrl.
      endpoint: resolveEndpoint(settings),
      loopSeconds: settings.loopSeconds,
      timeoutSeconds: settings.timeoutSeconds,
      environment: settings.environment,
      source: SOURCE,
      serverVersion: VERSION,
      apiVersion: API_VERSION,
      retries: settings.retries,
      optOutHint: optOutHint({ flagName: '--no-telemetry' }),
    },
    telemetryEnabled: settings.enabled,
    disabledBy: settings.disabledBy,
  };
}
