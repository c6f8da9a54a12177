// The settings reference: every variable with its alias, flag, default, accepted values and meaning.

/** One row of the settings reference, for docs and `--help`. */
export interface SettingRow { name: string; alias?: string; flag?: string; default: string; accepted: string; meaning: string }

/** pino's levels, in its order. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

// Node fires a longer setTimeout after 1 ms instead (TimeoutOverflowWarning), which would turn a huge
// interval into a tight heartbeat loop, so intervals are capped at what a timer can hold.
export const MAX_SECONDS = 2_147_483;
export const DEFAULT_INSPECT_PORT = 4242;
export const OPT_OUT_WORDS = ['', '0', 'false', 'no', 'off'];

/** What each kind of setting accepts: the text of every SettingsError and of the docs' table. */
export const ACCEPT = {
  boolean: 'true, false, 1, 0, yes, no, on or off',
  seconds: `a number of seconds greater than 0 and at most ${MAX_SECONDS}`,
  retries: 'an integer 0 or greater',
  port: 'an integer port from 0 to 65535',
  inspectPort: 'an integer port from 1 to 65535',
  endpoint: 'an http:// or https:// URL',
  logLevel: `one of ${LOG_LEVELS.join(', ')}`,
  collector: 'on, off or auto',
  inspect: 'true, false or a ws:// or wss:// URL',
  name: 'a non-empty name',
  path: 'a non-empty path',
  host: 'a host name or IP address',
  doNotTrack: 'anything; unset, empty, 0, false, no or off keep telemetry on',
  proxy: 'an http:// or https:// proxy URL, or empty',
} as const;

/** Every setting with its alias, flag, default and meaning, in the order the docs list them. */
export const SETTINGS_TABLE: readonly SettingRow[] = [
  { name: 'TELEMETRY_ENABLED', alias: 'PREFECT_SERVER_ANALYTICS_ENABLED', flag: '--no-telemetry', default: 'true', accepted: ACCEPT.boolean, meaning: 'send heartbeats; any layer set to false turns telemetry off' },
  { name: 'DO_NOT_TRACK', default: 'unset', accepted: ACCEPT.doNotTrack, meaning: 'any value but empty/0/false/no/off turns telemetry off (never an error)' },
  { name: 'TELEMETRY_ENVIRONMENT', alias: 'PREFECT_API_TELEMETRY_ENVIRONMENT', default: 'production', accepted: ACCEPT.name, meaning: '`environment` field of the heartbeat' },
  { name: 'TELEMETRY_ENDPOINT', default: "this server's own collector", accepted: ACCEPT.endpoint, meaning: 'where heartbeats go' },
  { name: 'TELEMETRY_LOOP_SECONDS', default: '600', accepted: ACCEPT.seconds, meaning: 'seconds between heartbeats' },
  { name: 'TELEMETRY_TIMEOUT_SECONDS', default: '10', accepted: ACCEPT.seconds, meaning: 'limit per heartbeat request' },
  { name: 'TELEMETRY_RETRIES', default: '0', accepted: ACCEPT.retries, meaning: 'retries before the telemetry service stops' },
  { name: 'TELEMETRY_DEBUG', alias: 'PREFECT_DEBUG_MODE', default: 'false', accepted: ACCEPT.boolean, meaning: 'stack traces in failure logs' },
  { name: 'TELEMETRY_HOME', default: '~/.telemetry-actor', accepted: ACCEPT.path, meaning: 'data folder (LevelDB in db/)' },
  { name: 'TELEMETRY_HOST', flag: '--host', default: '127.0.0.1', accepted: ACCEPT.host, meaning: 'address the server listens on' },
  { name: 'TELEMETRY_PORT', flag: '--port', default: '4200', accepted: ACCEPT.port, meaning: 'port the server listens on (0: any free port)' },
  { name: 'TELEMETRY_LOG_LEVEL', default: 'info', accepted: ACCEPT.logLevel, meaning: 'pino level' },
  { name: 'TELEMETRY_COLLECTOR', default: 'auto', accepted: ACCEPT.collector, meaning: 'serve /api/collector (auto: on when TELEMETRY_ENDPOINT is not set)' },
  { name: 'TELEMETRY_INSPECT', flag: '--inspect[=URL]', default: 'unset', accepted: ACCEPT.inspect, meaning: 'true: start a local inspector bridge; a ws:// URL: connect to it' },
  { name: 'TELEMETRY_INSPECT_PORT', flag: '--inspect-port', default: String(DEFAULT_INSPECT_PORT), accepted: ACCEPT.inspectPort, meaning: 'port of the local inspector bridge' },
  { name: 'HTTPS_PROXY / HTTP_PROXY / NO_PROXY', default: 'unset', accepted: 'proxy URLs / host list', meaning: 'honoured for the heartbeat request' },
];
