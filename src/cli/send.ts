// `telemetry-actor send`: one heartbeat now; exit 0 on 2xx, 1 with the reason otherwise. Honours every opt-out.
import { connect } from 'node:net';
import { createDefaultDispatcher, createSender, HeartbeatError } from '../actor/sender.js';
import { errorCode } from '../errors.js';
import { redactUrl } from '../redact.js';
import { resolveEndpoint } from '../server/endpoint.js';
import { PROXY_VARIABLES, type Settings } from '../settings/index.js';
import { heartbeatFields } from './fields.js';
import { owner, withHomeStorage } from './home.js';
import type { Io } from './io.js';

/** How long the reachability check waits for the endpoint before saying nothing answers. */
const PROBE_TIMEOUT_MS = 2_000;

const START_HINT = 'start a server with `telemetry-actor server`, or set TELEMETRY_ENDPOINT to a collector URL';
const ENDPOINT_HINT = 'check that TELEMETRY_ENDPOINT points to a running collector';

export async function sendCommand(settings: Settings, io: Io): Promise<number> {
  if (!settings.enabled) {
    io.err(`Telemetry is off (turned off by ${settings.disabledBy}); nothing sent`);
    return 1;
  }
  const server = await owner(settings);
  const endpoint = resolveEndpoint(settings, server?.url);
  // When nothing listens where the heartbeat would go, the send cannot succeed: say what to do before a session
  // is written for a heartbeat that never leaves. Through a proxy only the proxy could tell, so no check there.
  if (server === undefined && !PROXY_VARIABLES.some((name) => (process.env[name] ?? '') !== '')) {
    const refused = await unreachable(endpoint);
    if (refused !== undefined) {
      const next = settings.endpoint === undefined ? START_HINT : ENDPOINT_HINT;
      io.err(`Failed to send telemetry: nothing answers at ${redactUrl(endpoint)} (${refused}); ${next}`);
      return 1;
    }
  }
  const session =
    server !== undefined
      ? await server.getOrCreateSession()
      : await withHomeStorage(settings, (storage) => storage.sessions.getOrCreate());
  const dispatcher = createDefaultDispatcher();
  try {
    const sent = await createSender({ dispatcher })({ ...heartbeatFields(settings, session), endpoint, timeoutSeconds: settings.timeoutSeconds });
    io.out(`Sent heartbeat to ${redactUrl(endpoint)}: HTTP ${sent.statusCode} in ${sent.finishedAt - sent.startedAt} ms`);
    return 0;
  } catch (error) {
    io.err(`Failed to send telemetry: ${error instanceof HeartbeatError ? error.reason : String(error)}${hintFor(error, settings)}`);
    return 1;
  } finally {
    await dispatcher.destroy();
  }
}

/** A next step when nothing listened at the endpoint. */
function hintFor(error: unknown, settings: Settings): string {
  if (!(error instanceof HeartbeatError) || error.code !== 'ECONNREFUSED') return '';
  return `; ${settings.endpoint === undefined ? START_HINT : ENDPOINT_HINT}`;
}

/** Undefined when a TCP connection to the URL's host and port opens; else why not (an error code). */
function unreachable(url: string): Promise<string | undefined> {
  const { hostname, port } = new URL(url);
  const host = hostname.replace(/^\[(.*)\]$/, '$1');
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port || (url.startsWith('https:') ? 443 : 80)), timeout: PROBE_TIMEOUT_MS });
    socket.once('connect', () => (socket.destroy(), resolve(undefined)));
    socket.once('timeout', () => (socket.destroy(), resolve('ETIMEDOUT')));
    socket.once('error', (error) => resolve(errorCode(error) ?? error.message));
  });
}
