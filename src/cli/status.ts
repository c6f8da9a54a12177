// `telemetry-actor status [--json]`: on or off and why, the session, the endpoint, the live state.
import { describeSettings, type Settings } from '../settings/index.js';
import { resolveEndpoint } from '../server/endpoint.js';
import { storedStatus, type TelemetryStatus } from '../server/status.js';
import { owner, readSession, type Io } from './io.js';
import type { LocalServer } from './localServer.js';

type Status = TelemetryStatus & { server: string | null };

/**
 * The live state from the server that owns this home, else what its storage holds. A live server whose actor
 * holds no session (telemetry off: never spawned; or still loading) is asked for the stored one, so a stored
 * session is never shown as none.
 */
async function currentStatus(settings: Settings, server: LocalServer | undefined): Promise<Status> {
  if (server === undefined) {
    return { ...storedStatus({ ...settings, endpoint: resolveEndpoint(settings) }, await readSession(settings, undefined)), server: null };
  }
  const live = await server.status();
  if (live.session_id !== null) return { ...live, server: server.url };
  const stored = await server.readSession();
  return { ...live, session_id: stored?.session_id ?? null, session_start_timestamp: stored?.session_start_timestamp ?? null, server: server.url };
}

/** The session line: a stored session (in use or not) told apart from none. */
function sessionLine(status: Status): string {
  if (status.session_id === null) return status.enabled ? 'none yet' : 'none stored';
  const since = status.session_start_timestamp ? ` (since ${status.session_start_timestamp})` : '';
  return `${status.session_id}${since}${status.enabled ? '' : ', stored; not used while telemetry is off'}`;
}

/** How the heartbeat line names who sent the deployment's last heartbeat. */
const SENT_BY_TEXT = {
  self: ' by this server',
  peer: ' by a peer replica',
  unknown: ' (this server skipped the last interval: it could not tell whether it should send)',
} as const;

/** Prints the status for humans, or as JSON with `--json`. */
export async function statusCommand(settings: Settings, json: boolean, io: Io): Promise<number> {
  const status = await currentStatus(settings, await owner(settings));
  if (json) {
    io.out(JSON.stringify({ ...status, settings: describeSettings(settings) }, null, 2));
    return 0;
  }
  io.out(`Telemetry:  ${status.enabled ? 'on' : `off (turned off by ${status.disabled_by})`}`);
  io.out(`State:      ${status.state}${status.server === null ? '' : ` (server at ${status.server})`}`);
  io.out(`Session:    ${sessionLine(status)}`);
  io.out(`Endpoint:   ${status.endpoint}`);
  if (status.server !== null) {
    const by = status.last_sent_by === null ? '' : SENT_BY_TEXT[status.last_sent_by];
    io.out(`Heartbeats: ${status.heartbeats_sent} sent, last ${status.last_sent_at ?? 'never'}${by}, next ${status.next_run_at ?? '-'}`);
  }
  if (status.last_error !== null) io.out(`Last error: ${status.last_error}`);
  return 0;
}
