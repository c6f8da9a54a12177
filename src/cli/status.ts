// `telemetry-actor status [--json]`: on or off and why, the session, the endpoint, the live state.
import { describeSettings, type Settings } from '../settings/index.js';
import { resolveEndpoint } from '../server/endpoint.js';
import { storedStatus, type TelemetryStatus } from '../server/status.js';
import { owner, readSession, type Io } from './io.js';

/** How the heartbeat line names who sent the deployment's last heartbeat. */
const SENT_BY_TEXT = {
  self: ' by this server',
  peer: ' by a peer replica',
  unknown: ' (this server skipped the last interval: it could not tell whether it should send)',
} as const;

/** The live state from the server that owns this home, else what its storage holds. */
export async function statusCommand(settings: Settings, json: boolean, io: Io): Promise<number> {
  const server = await owner(settings);
  const status: TelemetryStatus & { server: string | null } =
    server !== undefined
      ? { ...(await server.status()), server: server.url }
      : { ...storedStatus({ ...settings, endpoint: resolveEndpoint(settings) }, await readSession(settings, undefined)), server: null };
  if (json) {
    io.out(JSON.stringify({ ...status, settings: describeSettings(settings) }, null, 2));
    return 0;
  }
  io.out(`Telemetry:  ${status.enabled ? 'on' : `off (turned off by ${status.disabled_by})`}`);
  io.out(`State:      ${status.state}${status.server === null ? '' : ` (server at ${status.server})`}`);
  io.out(`Session:    ${status.session_id ?? 'none yet'}${status.session_start_timestamp ? ` (since ${status.session_start_timestamp})` : ''}`);
  io.out(`Endpoint:   ${status.endpoint}`);
  if (status.server !== null) {
    const by = status.last_sent_by === null ? '' : SENT_BY_TEXT[status.last_sent_by];
    io.out(`Heartbeats: ${status.heartbeats_sent} sent, last ${status.last_sent_at ?? 'never'}${by}, next ${status.next_run_at ?? '-'}`);
  }
  if (status.last_error !== null) io.out(`Last error: ${status.last_error}`);
  return 0;
}
