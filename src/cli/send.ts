// `telemetry-actor send`: one heartbeat now; exit 0 on 2xx, 1 with the reason otherwise. Honours every opt-out.
import { createDefaultDispatcher, createSender, HeartbeatError } from '../actor/sender.js';
import { redactUrl } from '../redact.js';
import { resolveEndpoint } from '../server/endpoint.js';
import type { Settings } from '../settings/index.js';
import { heartbeatFields } from './fields.js';
import { owner, withHomeStorage, type Io } from './io.js';

export async function sendCommand(settings: Settings, io: Io): Promise<number> {
  if (!settings.enabled) {
    io.err(`Telemetry is off (turned off by ${settings.disabledBy}); nothing sent`);
    return 1;
  }
  const server = await owner(settings);
  const session =
    server !== undefined
      ? await server.getOrCreateSession()
      : await withHomeStorage(settings, (storage) => storage.sessions.getOrCreate());
  const endpoint = resolveEndpoint(settings, server?.url);
  const dispatcher = createDefaultDispatcher();
  try {
    const sent = await createSender({ dispatcher })({ ...heartbeatFields(settings, session), endpoint, timeoutSeconds: settings.timeoutSeconds });
    io.out(`Sent heartbeat to ${redactUrl(endpoint)}: HTTP ${sent.statusCode} in ${sent.finishedAt - sent.startedAt} ms`);
    return 0;
  } catch (error) {
    io.err(`Failed to send telemetry: ${error instanceof HeartbeatError ? error.reason : String(error)}`);
    return 1;
  } finally {
    await dispatcher.destroy();
  }
}
