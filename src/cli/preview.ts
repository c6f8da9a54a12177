// `telemetry-actor preview`: the exact heartbeat body that would be sent. Sends nothing, writes nothing.
import { buildHeartbeat } from '../heartbeat.js';
import { redactUrl } from '../redact.js';
import { resolveEndpoint } from '../server/endpoint.js';
import type { Settings } from '../settings/index.js';
import { newSession } from '../stores/session.js';
import { heartbeatFields } from './fields.js';
import { owner, readSession, type Io } from './io.js';

export async function previewCommand(settings: Settings, io: Io): Promise<number> {
  const server = await owner(settings);
  let session = await readSession(settings, server);
  if (session === undefined) {
    io.err('No session is stored yet: the first start creates one. This preview shows a made-up one.');
    session = await newSession();
  }
  const where = settings.enabled
    ? `Would POST to ${redactUrl(resolveEndpoint(settings, server?.url))}`
    : `Telemetry is off (turned off by ${settings.disabledBy}): nothing is sent`;
  io.err(`${where}, every ${settings.loopSeconds} s, this body:`);
  io.out(JSON.stringify(buildHeartbeat(heartbeatFields(settings, session)), null, 2));
  return 0;
}
