// The heartbeat fields a CLI command sends or shows, from settings and a session.
import type { HeartbeatFields } from '../heartbeat.js';
import type { Settings } from '../settings/index.js';
import type { StoredSession } from '../stores/index.js';
import { API_VERSION, SOURCE, VERSION } from '../version.js';

export function heartbeatFields(settings: Settings, session: StoredSession): HeartbeatFields {
  return {
    source: SOURCE,
    environment: settings.environment,
    apiVersion: API_VERSION,
    serverVersion: VERSION,
    sessionId: session.session_id,
    sessionStartTimestamp: session.session_start_timestamp,
  };
}
