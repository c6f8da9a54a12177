// Settings: CLI flags, TELEMETRY_* variables and their Prefect aliases, validated into one plain object.
//
// Rules kept here so the CLI, the server and the docs agree:
// - Precedence is flag > TELEMETRY_* > alias > default, but every layer that is set is validated, even when a
//   higher one overrides it: a typo should stop start-up rather than lurk until the flag is dropped.
// - A variable set to the empty string (or blanks) is a mistake, not "unset", and fails like any bad value.
//   The one exception is DO_NOT_TRACK, which by its convention is never an error.
// - Telemetry is on only if no layer turns it off; `disabledBy` names the highest layer that did.
import os from 'node:os';
import path from 'node:path';
import { isIP, isIPv6 } from 'node:net';
import { ACCEPT, DEFAULT_INSPECT_PORT, LOG_LEVELS, MAX_SECONDS, OPT_OUT_WORDS } from './settingsTable.js';

export { LOG_LEVELS, SETTINGS_TABLE, type SettingRow } from './settingsTable.js';

export type OptOutLayer = '--no-telemetry' | 'TELEMETRY_ENABLED' | 'PREFECT_SERVER_ANALYTICS_ENABLED' | 'DO_NOT_TRACK';

/** Parsed command-line flags, as strings (the CLI does no validation of its own). */
export interface CliFlags {
  host?: string;
  port?: string;
  /** false for --no-telemetry; true never overrides an opt-out. */
  telemetry?: boolean;
  /** true for a bare --inspect, the text for --inspect=URL. */
  inspect?: string | true;
  inspectPort?: string;
}

export type InspectSetting = { mode: 'off' } | { mode: 'bridge'; port: number } | { mode: 'connect'; url: string };

export interface Settings {
  enabled: boolean;
  /** The layer that turned telemetry off; null when on. */
  disabledBy: OptOutLayer | null;
  /** TELEMETRY_ENDPOINT, else this server's own collector (see collectorEndpoint). */
  endpoint: string;
  endpointIsOwnCollector: boolean;
  environment: string;
  loopSeconds: number;
  timeoutSeconds: number;
  retries: number;
  debug: boolean;
  /** Absolute, `~` expanded; the LevelDB lives in dbPath = <home>/db. */
  home: string;
  dbPath: string;
  /** Without brackets, as `server.listen` wants it (`::1`, not `[::1]`). */
  host: string;
  port: number;
  logLevel: string;
  /** Whether this server serves POST /api/collector. */
  collector: boolean;
  inspect: InspectSetting;
}


/** A bad setting: start-up stops with exit code 2 and this one-line message. */
export class SettingsError extends Error {
  readonly variable: string;
  readonly value: string;
  readonly accepted: string;
  readonly exitCode = 2;

  constructor(variable: string, value: string, accepted: string) {
    // JSON quotes make empty and blank values visible and keep a stray newline from splitting the line.
    super(`${variable}=${JSON.stringify(value)} is not valid: expected ${accepted}`);
    this.name = 'SettingsError';
    this.variable = variable;
    this.value = value;
    this.accepted = accepted;
  }
}

type Parser<T> = (name: string, value: string) => T;
type Layer = readonly [name: string, value: string | undefined];

/** true/false/1/0/yes/no/on/off in any case, blanks around ignored; anything else throws SettingsError. */
export function parseBoolean(name: string, value: string): boolean {
  const word = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(word)) return true;
  if (['false', '0', 'no', 'off'].includes(word)) return false;
  throw new SettingsError(name, value, ACCEPT.boolean);
}

function parseSeconds(name: string, value: string): number {
  const text = value.trim();
  const seconds = /^\+?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_SECONDS) throw new SettingsError(name, value, ACCEPT.seconds);
  return seconds;
}

function integerIn(min: number, max: number, accepted: string): Parser<number> {
  return (name, value) => {
    const text = value.trim();
    const n = /^\+?\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new SettingsError(name, value, accepted);
    return n;
  };
}

const parseRetries = integerIn(0, Number.MAX_SAFE_INTEGER, ACCEPT.retries);
const parsePort = integerIn(0, 65535, ACCEPT.port);
const parseInspectPort = integerIn(1, 65535, ACCEPT.inspectPort);

function urlWithProtocol(value: string, protocols: readonly string[]): string | undefined {
  const text = value.trim();
  try {
    return protocols.includes(new URL(text).protocol) ? text : undefined;
  } catch {
    return undefined;
  }
}

function parseEndpoint(name: string, value: string): string {
  const url = urlWithProtocol(value, ['http:', 'https:']);
  if (url === undefined) throw new SettingsError(name, value, ACCEPT.endpoint);
  return url;
}

function parseLogLevel(name: string, value: string): string {
  const level = value.trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new SettingsError(name, value, ACCEPT.logLevel);
  return level;
}

function parseCollector(name: string, value: string): 'on' | 'off' | 'auto' {
  if (value.trim().toLowerCase() === 'auto') return 'auto';
  try {
    return parseBoolean(name, value) ? 'on' : 'off';
  } catch {
    throw new SettingsError(name, value, ACCEPT.collector);
  }
}

function parseInspect(name: string, value: string): 'bridge' | 'off' | { url: string } {
  const url = urlWithProtocol(value, ['ws:', 'wss:']);
  if (url !== undefined) return { url };
  try {
    return parseBoolean(name, value) ? 'bridge' : 'off';
  } catch {
    throw new SettingsError(name, value, ACCEPT.inspect);
  }
}

function nonBlank(accepted: string): Parser<string> {
  return (name, value) => {
    if (value.trim() === '') throw new SettingsError(name, value, accepted);
    return value.trim();
  };
}

function parseHome(name: string, value: string): string {
  const text = nonBlank(ACCEPT.path)(name, value);
  const expanded = text === '~' ? os.homedir() : /^~[/\\]/.test(text) ? path.join(os.homedir(), text.slice(2)) : text;
  return path.resolve(expanded);
}

function parseHost(name: string, value: string): string {
  const text = value.trim();
  const host = /^\[.*\]$/.test(text) ? text.slice(1, -1) : text;
  const hostname = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*\.?$/i;
  if (isIP(host) === 0 && !hostname.test(host)) throw new SettingsError(name, value, ACCEPT.host);
  return host;
}

/** The proxy variables undici's EnvHttpProxyAgent reads (empty counts as unset there). */
const PROXY_VARIABLES = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'] as const;

// undici builds its proxy agents from these when the sender starts and throws a bare "Invalid URL" on a bad one.
function checkProxies(env: NodeJS.ProcessEnv): void {
  for (const name of PROXY_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value !== '' && urlWithProtocol(value, ['http:', 'https:']) === undefined) {
      throw new SettingsError(name, value, ACCEPT.proxy);
    }
  }
}

/** DO_NOT_TRACK (consoledonottrack.com): set to anything but an opt-out word means "do not track". */
function doNotTrack(value: string | undefined): boolean {
  return value !== undefined && !OPT_OUT_WORDS.includes(value.trim().toLowerCase());
}

/** Parses every set layer (so a typo never hides behind a higher one) and returns the highest one's value. */
function layered<T>(layers: readonly Layer[], parse: Parser<T>, fallback: T): T {
  const values = layers.flatMap(([name, value]) => (value === undefined ? [] : [parse(name, value)]));
  return values.length > 0 ? (values[0] as T) : fallback;
}

function resolveOptOut(env: NodeJS.ProcessEnv, flags: CliFlags): OptOutLayer | null {
  const off = (name: string) => layered([[name, env[name]]], parseBoolean, true) === false;
  const layers: Array<[OptOutLayer, boolean]> = [
    ['--no-telemetry', flags.telemetry === false],
    ['TELEMETRY_ENABLED', off('TELEMETRY_ENABLED')],
    ['PREFECT_SERVER_ANALYTICS_ENABLED', off('PREFECT_SERVER_ANALYTICS_ENABLED')],
    ['DO_NOT_TRACK', doNotTrack(env.DO_NOT_TRACK)],
  ];
  return layers.find(([, isOff]) => isOff)?.[0] ?? null;
}

function resolveInspect(env: NodeJS.ProcessEnv, flags: CliFlags): InspectSetting {
  const flag = flags.inspect === true ? 'true' : flags.inspect;
  const choice = layered([['--inspect', flag], ['TELEMETRY_INSPECT', env.TELEMETRY_INSPECT]], parseInspect, 'off');
  const port = layered(
    [['--inspect-port', flags.inspectPort], ['TELEMETRY_INSPECT_PORT', env.TELEMETRY_INSPECT_PORT]],
    parseInspectPort,
    DEFAULT_INSPECT_PORT,
  );
  if (choice === 'off') return { mode: 'off' };
  return choice === 'bridge' ? { mode: 'bridge', port } : { mode: 'connect', url: choice.url };
}

/**
 * The URL of the collector served by a server listening on host:port. A wildcard host is replaced by
 * loopback of the same family, since a wildcard is not an address to send to. Call it again with the real
 * port after listening on port 0.
 */
export function collectorEndpoint(host: string, port: number): string {
  const bare = /^\[.*\]$/.test(host) ? host.slice(1, -1) : host;
  // Every IPv6 address has a colon: the check skips isIPv6, whose first call costs ~4 ms (it builds its regex).
  const v6 = (text: string) => text.includes(':') && isIPv6(text);
  const unspecifiedV6 = v6(bare) && /^[0:]+$/.test(bare);
  const target = bare === '0.0.0.0' ? '127.0.0.1' : unspecifiedV6 ? '::1' : bare;
  return `http://${v6(target) ? `[${target}]` : target}:${port}/api/collector`;
}

/**
 * Reads and validates all settings. Pure apart from os.homedir() and path resolution of TELEMETRY_HOME.
 * @throws SettingsError (exitCode 2) naming the first bad variable or flag.
 */
export function loadSettings(env: NodeJS.ProcessEnv = process.env, flags: CliFlags = {}): Settings {
  const disabledBy = resolveOptOut(env, flags);
  // Only telemetry uses the proxy: with it off, a proxy other tools accept (host:port) must not stop the server.
  if (disabledBy === null) checkProxies(env);
  const host = layered([['--host', flags.host], ['TELEMETRY_HOST', env.TELEMETRY_HOST]], parseHost, '127.0.0.1');
  const port = layered([['--port', flags.port], ['TELEMETRY_PORT', env.TELEMETRY_PORT]], parsePort, 4200);
  const configured = layered([['TELEMETRY_ENDPOINT', env.TELEMETRY_ENDPOINT]], parseEndpoint, undefined);
  const collector = layered([['TELEMETRY_COLLECTOR', env.TELEMETRY_COLLECTOR]], parseCollector, 'auto');
  const home = layered([['TELEMETRY_HOME', env.TELEMETRY_HOME]], parseHome, path.join(os.homedir(), '.telemetry-actor'));
  return {
    enabled: disabledBy === null,
    disabledBy,
    endpoint: configured ?? collectorEndpoint(host, port),
    endpointIsOwnCollector: configured === undefined,
    environment: layered(
      [['TELEMETRY_ENVIRONMENT', env.TELEMETRY_ENVIRONMENT], ['PREFECT_API_TELEMETRY_ENVIRONMENT', env.PREFECT_API_TELEMETRY_ENVIRONMENT]],
      nonBlank(ACCEPT.name),
      'production',
    ),
    loopSeconds: layered([['TELEMETRY_LOOP_SECONDS', env.TELEMETRY_LOOP_SECONDS]], parseSeconds, 600),
    timeoutSeconds: layered([['TELEMETRY_TIMEOUT_SECONDS', env.TELEMETRY_TIMEOUT_SECONDS]], parseSeconds, 10),
    retries: layered([['TELEMETRY_RETRIES', env.TELEMETRY_RETRIES]], parseRetries, 0),
    debug: layered([['TELEMETRY_DEBUG', env.TELEMETRY_DEBUG], ['PREFECT_DEBUG_MODE', env.PREFECT_DEBUG_MODE]], parseBoolean, false),
    home,
    dbPath: path.join(home, 'db'),
    host,
    port,
    logLevel: layered([['TELEMETRY_LOG_LEVEL', env.TELEMETRY_LOG_LEVEL]], parseLogLevel, 'info'),
    collector: collector === 'auto' ? configured === undefined : collector === 'on',
    inspect: resolveInspect(env, flags),
  };
}

/** The settings as plain snake_case JSON, in the style of the HTTP API, for `status --json`. */
export function describeSettings(s: Settings): Record<string, unknown> {
  return {
    enabled: s.enabled,
    disabled_by: s.disabledBy,
    endpoint: s.endpoint,
    endpoint_is_own_collector: s.endpointIsOwnCollector,
    environment: s.environment,
    loop_seconds: s.loopSeconds,
    timeout_seconds: s.timeoutSeconds,
    retries: s.retries,
    debug: s.debug,
    home: s.home,
    db_path: s.dbPath,
    host: s.host,
    port: s.port,
    log_level: s.logLevel,
    collector: s.collector,
    inspect: { ...s.inspect },
  };
}
