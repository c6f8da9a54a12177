// The settings table: every setting once, with its variable, alias, flag, default, parser and meaning.
// Loading, validation messages, `--help`, `status --json` and the docs table are all derived from it.
import {
  ACCEPT,
  parseAllowedHosts,
  parseBoolean,
  parseBurst,
  parseCollector,
  parseDatabaseUrl,
  parseDoNotTrack,
  parseEndpoint,
  parseHome,
  parseHours,
  parseHost,
  parseInspect,
  parseInspectPort,
  parseLogLevel,
  parseLoopSeconds,
  parseMinSessions,
  parseName,
  parsePort,
  parseRatePerMinute,
  parseRetentionDays,
  parseRetries,
  parseSeconds,
  parseToken,
  type Parser,
} from './parse.js';

/** A command-line flag of the server command, as node:util parseArgs declares it. */
export interface FlagSpec {
  /** Without dashes: `port` for `--port`. */
  name: string;
  type: 'string' | 'boolean';
  /** How the flag reads in help and docs: `--port N`. */
  usage: string;
  /** Its help line, when the flag means other than the setting (`--no-telemetry` turns off what TELEMETRY_ENABLED turns on). */
  help?: string;
}

/** One row of the settings table. */
export interface SettingSpec<T> {
  /** The variable, e.g. TELEMETRY_PORT. */
  env: string;
  /** The Prefect name honoured below it. */
  alias?: string;
  flag?: FlagSpec;
  parse: Parser<T>;
  /** The value when no layer is set. */
  fallback: T;
  /** The default as the docs and help show it, when String(fallback) would not say it well. */
  shown?: string;
  accepted: string;
  meaning: string;
  /** A secret: `status --json` says only whether it is set, and a bad value is never echoed. */
  secret?: true;
}

function setting<T>(spec: SettingSpec<T>): SettingSpec<T> {
  return spec;
}

/** Every setting, in the order the docs list them. Adding a setting is one row here plus its consumer. */
export const SETTINGS = {
  enabled: setting({
    env: 'TELEMETRY_ENABLED', alias: 'PREFECT_SERVER_ANALYTICS_ENABLED',
    flag: { name: 'no-telemetry', type: 'boolean', usage: '--no-telemetry', help: 'turn telemetry off, whatever the variables say (as TELEMETRY_ENABLED=false or DO_NOT_TRACK=1 do)' },
    parse: parseBoolean, fallback: true, accepted: ACCEPT.boolean,
    meaning: 'send heartbeats; any layer set to false turns telemetry off',
  }),
  doNotTrack: setting({
    env: 'DO_NOT_TRACK', parse: parseDoNotTrack, fallback: false, shown: 'unset', accepted: ACCEPT.doNotTrack,
    meaning: 'any value but empty/0/false/no/off turns telemetry off (never an error)',
  }),
  environment: setting({
    env: 'TELEMETRY_ENVIRONMENT', alias: 'PREFECT_API_TELEMETRY_ENVIRONMENT',
    parse: parseName, fallback: 'production', accepted: ACCEPT.name, meaning: 'the heartbeat\'s `environment` field',
  }),
  endpoint: setting<string | undefined>({
    env: 'TELEMETRY_ENDPOINT', parse: parseEndpoint, fallback: undefined, shown: "this server's own collector",
    accepted: ACCEPT.endpoint, meaning: 'where heartbeats go',
  }),
  loopSeconds: setting({
    env: 'TELEMETRY_LOOP_SECONDS', parse: parseLoopSeconds, fallback: 600, accepted: ACCEPT.loopSeconds,
    meaning: 'seconds between the starts of two heartbeats; the floor keeps a typo from making a busy loop',
  }),
  timeoutSeconds: setting({
    env: 'TELEMETRY_TIMEOUT_SECONDS', parse: parseSeconds, fallback: 10, accepted: ACCEPT.seconds,
    meaning: 'limit for one request: connect, headers and body together',
  }),
  retries: setting({
    env: 'TELEMETRY_RETRIES', parse: parseRetries, fallback: 0, accepted: ACCEPT.retries,
    meaning: 'retries before the telemetry service stops',
  }),
  debug: setting({
    env: 'TELEMETRY_DEBUG', alias: 'PREFECT_DEBUG_MODE', parse: parseBoolean, fallback: false, accepted: ACCEPT.boolean,
    meaning: 'stack traces in failure log lines',
  }),
  home: setting<string | undefined>({
    env: 'TELEMETRY_HOME', parse: parseHome, fallback: undefined, shown: '~/.telemetry-actor', accepted: ACCEPT.path,
    meaning: 'data folder, made at start on every backend (server.json); the LevelDB database is in `db/`',
  }),
  databaseUrl: setting<string | undefined>({
    env: 'TELEMETRY_DATABASE_URL', flag: { name: 'database-url', type: 'string', usage: '--database-url URL' },
    parse: parseDatabaseUrl, fallback: undefined, shown: 'unset (LevelDB under TELEMETRY_HOME)', accepted: ACCEPT.databaseUrl,
    meaning: 'PostgreSQL for both stores (session and collector), shared by replicas; unset keeps LevelDB',
  }),
  host: setting({
    env: 'TELEMETRY_HOST', flag: { name: 'host', type: 'string', usage: '--host H' },
    parse: parseHost, fallback: '127.0.0.1', accepted: ACCEPT.host, meaning: 'address the server listens on',
  }),
  port: setting({
    env: 'TELEMETRY_PORT', flag: { name: 'port', type: 'string', usage: '--port N' },
    parse: parsePort, fallback: 4200, accepted: ACCEPT.port, meaning: 'port the server listens on (0: any free port)',
  }),
  logLevel: setting({
    env: 'TELEMETRY_LOG_LEVEL', parse: parseLogLevel, fallback: 'info', accepted: ACCEPT.logLevel, meaning: 'pino log level',
  }),
  collector: setting<'on' | 'off' | 'auto'>({
    env: 'TELEMETRY_COLLECTOR', parse: parseCollector, fallback: 'auto', accepted: ACCEPT.collector,
    meaning: 'serve `/api/collector`; auto: on when `TELEMETRY_ENDPOINT` is not set',
  }),
  idempotencyHours: setting({
    env: 'TELEMETRY_IDEMPOTENCY_HOURS', parse: parseHours, fallback: 24, accepted: ACCEPT.hours,
    meaning: 'the collector counts a heartbeat resent under the same `idempotency-key` once for at least this long (across processes and restarts), then forgets the key',
  }),
  retentionDays: setting({
    env: 'TELEMETRY_RETENTION_DAYS', parse: parseRetentionDays, fallback: 400, accepted: ACCEPT.retentionDays,
    meaning: "the collector's per-day counts and session records older than this are deleted (lifetime totals stay)",
  }),
  privacyMinSessions: setting({
    env: 'TELEMETRY_PRIVACY_MIN_SESSIONS', parse: parseMinSessions, fallback: 5, accepted: ACCEPT.minSessions,
    meaning: 'any breakdown bucket with fewer distinct sessions than this is shown as `other` (stats, export, console)',
  }),
  inspect: setting<'bridge' | 'off' | { url: string }>({
    env: 'TELEMETRY_INSPECT', flag: { name: 'inspect', type: 'string', usage: '--inspect[=HOST:PORT]' },
    parse: parseInspect, fallback: 'off', shown: 'unset', accepted: ACCEPT.inspect,
    meaning: 'true (or a bare --inspect): start a local Stately inspector bridge; host:port or a ws:// URL: connect to that bridge',
  }),
  inspectPort: setting({
    env: 'TELEMETRY_INSPECT_PORT', flag: { name: 'inspect-port', type: 'string', usage: '--inspect-port N' },
    parse: parseInspectPort, fallback: 4242, accepted: ACCEPT.inspectPort, meaning: 'port of the local inspector bridge',
  }),
  allowedHosts: setting<readonly string[] | '*'>({
    env: 'TELEMETRY_ALLOWED_HOSTS', parse: parseAllowedHosts, fallback: [],
    shown: 'unset (`localhost`, `127.0.0.1`, `[::1]` and the `--host` when it is a name or a specific address)',
    accepted: ACCEPT.allowedHosts,
    meaning: 'Host names the API answers besides the defaults; any other Host gets 403 (DNS rebinding); `*` answers every Host, with one warning at start',
  }),
  trustProxy: setting({
    env: 'TELEMETRY_TRUST_PROXY', parse: parseBoolean, fallback: false, accepted: ACCEPT.boolean,
    meaning: 'behind a proxy that sets X-Forwarded-For: its first hop is the client the rate limit counts; also makes the server count as reachable from beyond loopback',
  }),
  readToken: setting<string | undefined>({
    env: 'TELEMETRY_READ_TOKEN', parse: parseToken, fallback: undefined, shown: 'unset', accepted: ACCEPT.token, secret: true,
    meaning: 'when set, every read (status, stats, session, the console\'s event stream) needs `Authorization: Bearer <token>`; required to serve the collector beyond loopback',
  }),
  publicStats: setting({
    env: 'TELEMETRY_PUBLIC_STATS', parse: parseBoolean, fallback: false, accepted: ACCEPT.boolean,
    meaning: 'true: serve the collector beyond loopback with no `TELEMETRY_READ_TOKEN`, every read open to anyone (otherwise start-up is refused)',
  }),
  rateLimit: setting({
    env: 'TELEMETRY_RATE_LIMIT', parse: parseRatePerMinute, fallback: 6, accepted: ACCEPT.ratePerMinute,
    meaning: 'heartbeats a minute one client may post to a collector reachable beyond loopback (429 with Retry-After past it); 0: no limit',
  }),
  rateBurst: setting({
    env: 'TELEMETRY_RATE_BURST', parse: parseBurst, fallback: 20, accepted: ACCEPT.burst,
    meaning: 'heartbeats one client may post at once before `TELEMETRY_RATE_LIMIT` applies (the token bucket\'s size)',
  }),
} as const;

export type SettingKey = keyof typeof SETTINGS;

/** The proxy variables undici's EnvHttpProxyAgent reads for the heartbeat (empty counts as unset there). */
export const PROXY_VARIABLES = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'] as const;

/** Variables read by undici for the heartbeat, not by the table's loader; listed in the docs all the same. */
export const PROXY_ROW = {
  env: 'HTTPS_PROXY / HTTP_PROXY / NO_PROXY',
  shown: 'unset',
  accepted: 'proxy URLs / host list',
  meaning: "honoured for the heartbeat request (undici's `EnvHttpProxyAgent`)",
} as const;

function shownDefault(spec: SettingSpec<unknown>): string {
  return spec.shown ?? String(spec.fallback);
}

/** The docs' table of every setting (docs/settings.md holds it between markers; a test keeps it fresh). */
export function settingsMarkdown(): string {
  const code = (text: string | undefined) => (text === undefined ? '' : `\`${text}\``);
  const rows = Object.values(SETTINGS).map((s: SettingSpec<unknown>) =>
    `| ${code(s.env)} | ${code(s.alias)} | ${code(s.flag?.usage)} | ${shownDefault(s)} | ${s.accepted} | ${s.meaning} |`,
  );
  const proxy = `| ${PROXY_ROW.env.split(' / ').map(code).join(' / ')} | | | ${PROXY_ROW.shown} | ${PROXY_ROW.accepted} | ${PROXY_ROW.meaning} |`;
  return ['| variable | alias | flag | default | accepted | meaning |', '|---|---|---|---|---|---|', ...rows, proxy].join('\n');
}

/** A flag of the server command: its parseArgs type, how it reads, and its help line (meaning, variable, default). */
export interface ServerFlag {
  type: 'string' | 'boolean';
  usage: string;
  help: string;
}

/** The flags of the server command, by name (without dashes), in table order: its options, usage and help. */
export function serverFlags(): Record<string, ServerFlag> {
  const flags: Record<string, ServerFlag> = {};
  for (const s of Object.values(SETTINGS) as SettingSpec<unknown>[]) {
    if (s.flag) flags[s.flag.name] = { type: s.flag.type, usage: s.flag.usage, help: s.flag.help ?? `${s.meaning} (${s.env}, default ${shownDefault(s)})` };
  }
  return flags;
}
