// The short CLI commands: status, preview, send, reset. Each returns its exit code.
import { v4 as uuidv4 } from 'uuid';
import { buildHeartbeat } from './payload.js';
import { askRunningServer, databaseExists, withDatabase } from './localServer.js';
import { createDefaultDispatcher, createSender, HeartbeatError, redactUrl } from './sender.js';
import { deleteSession, getOrCreateSession, readSession, type StoredSession } from './sessionStore.js';
import type { Settings } from './settings.js';
import { storedStatus, type TelemetryStatus } from './status.js';
import { API_VERSION, SOURCE, VERSION } from './version.js';

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** `status [--json]`: the live state from a running server, else what the database holds. */
export async function statusCommand(settings: Settings, json: boolean, io: Io): Promise<number> {
  const live = await askRunningServer(settings);
  const status: TelemetryStatus & { server: string | null } = live
    ? { ...live.status, server: live.url }
    : { ...storedStatus(settings, databaseExists(settings) ? await withDatabase(settings, readSession) : undefined), server: null };
  if (json) {
    io.out(JSON.stringify(status, null, 2));
    return 0;
  }
  io.out(`Telemetry:  ${status.enabled ? 'on' : `off (turned off by ${status.disabled_by})`}`);
  io.out(`State:      ${status.state}${status.server === null ? '' : ` (server at ${status.server})`}`);
  io.out(`Session:    ${status.session_id ?? 'none yet'}${status.session_start_timestamp ? ` (since ${status.session_start_timestamp})` : ''}`);
  io.out(`Endpoint:   ${status.endpoint}`);
  if (status.server !== null) {
    io.out(`Heartbeats: ${status.heartbeats_sent} sent, last ${status.last_sent_at ?? 'never'}, next ${status.next_run_at ?? '-'}`);
  }
  if (status.last_error !== null) io.out(`Last error: ${status.last_error}`);
  return 0;
}

type LiveServer = Awaited<ReturnType<typeof askRunningServer>>;

/** The session of the server running on this home, if one answered with it. */
function liveSession(live: LiveServer): StoredSession | undefined {
  const status = live?.status;
  return status?.session_id && status.session_start_timestamp
    ? { session_id: status.session_id, session_start_timestamp: status.session_start_timestamp }
    : undefined;
}

/** The session a command should use without creating one: the live server's, else the stored one. */
async function existingSession(settings: Settings, live: LiveServer): Promise<StoredSession | undefined> {
  return liveSession(live) ?? (databaseExists(settings) ? withDatabase(settings, readSession) : undefined);
}

/**
 * Where a heartbeat goes: TELEMETRY_ENDPOINT, else the own collector of the server running on this home
 * (its real port, which the settings cannot know with --port or TELEMETRY_PORT=0), else the default address.
 */
function endpointOf(settings: Settings, live: LiveServer): string {
  return settings.endpointIsOwnCollector && live !== undefined ? `${live.url}/api/collector` : settings.endpoint;
}

function fieldsOf(settings: Settings, session: StoredSession) {
  return {
    source: SOURCE,
    environment: settings.environment,
    apiVersion: API_VERSION,
    serverVersion: VERSION,
    sessionId: session.session_id,
    sessionStartTimestamp: session.session_start_timestamp,
  };
}

/** `preview`: prints the exact heartbeat body; sends nothing and writes no session. */
export async function previewCommand(settings: Settings, io: Io): Promise<number> {
  const live = await askRunningServer(settings);
  let session = await existingSession(settings, live);
  if (session === undefined) {
    io.err('No session is stored yet: the first start creates one. This preview shows a made-up one.');
    session = { session_id: uuidv4(), session_start_timestamp: new Date().toISOString() };
  }
  const where = settings.enabled ? `Would POST to ${redactUrl(endpointOf(settings, live))}` : `Telemetry is off (turned off by ${settings.disabledBy}): nothing is sent`;
  io.err(`${where}, every ${settings.loopSeconds} s, this body:`);
  io.out(JSON.stringify(buildHeartbeat(fieldsOf(settings, session)), null, 2));
  return 0;
}

/** `send`: one heartbeat now; 0 on 2xx, 1 with the reason otherwise. Honours every opt-out. */
export async function sendCommand(settings: Settings, io: Io): Promise<number> {
  if (!settings.enabled) {
    io.err(`Telemetry is off (turned off by ${settings.disabledBy}); nothing sent`);
    return 1;
  }
  const live = await askRunningServer(settings);
  // With no server answering, one open of the database reads the stored session or makes one.
  const session = liveSession(live) ?? (await withDatabase(settings, (db) => getOrCreateSession(db)));
  const endpoint = endpointOf(settings, live);
  const dispatcher = createDefaultDispatcher();
  try {
    const sent = await createSender({ dispatcher })({ ...fieldsOf(settings, session), endpoint, timeoutSeconds: settings.timeoutSeconds });
    io.out(`Sent heartbeat to ${redactUrl(endpoint)}: HTTP ${sent.statusCode} in ${sent.finishedAt - sent.startedAt} ms`);
    return 0;
  } catch (error) {
    io.err(`Failed to send telemetry: ${error instanceof HeartbeatError ? error.reason : String(error)}`);
    return 1;
  } finally {
    await dispatcher.destroy();
  }
}

/** `reset`: forgets the session; the next start creates a new one. */
export async function resetCommand(settings: Settings, io: Io): Promise<number> {
  const existed = databaseExists(settings) ? await withDatabase(settings, deleteSession) : false;
  io.out(existed ? 'Session forgotten: the next start creates a new one.' : 'No session was stored; nothing to reset.');
  return 0;
}
