// The settings table: every setting once, with its variable, alias, flag, default, parser and meaning.
// Loading, validation messages, `--help`, `status --json` and the docs table are all derived from it.
import {
  ACCEPT,
  parseBoolean,
  parseCollector,
  parseDatabaseUrl,
  parseDoNotTrack,
  parseEndpoint,
  parseHome,
  parseHost,
  parseInspect,
  parseInspectPort,
  parseLogLevel,
  parseLoopSeconds,
  parseName,
  parsePort,
  parseRetries,
  parseSeconds,
  type Parser,
} from './parse.js';

/** A command-line flag of the server command, as node:util parseArgs declares it. */
export interface FlagSpec {
  /** Without dashes: `port` for `--port`. */
  name: string;
  type: 'string' | 'boolean';
  /** How the flag reads in help and docs: `--port N`. */
  usage: string;
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
}

function setting<T>(spec: SettingSpec<T>): SettingSpec<T> {
  return spec;
}

/** Every setting, in the order the docs list them. Adding a setting is one row here plus its consumer. */
export const SETTINGS = {
  enabled: setting({
    env: 'TELEMETRY_ENABLED', alias: 'PREFECT_SERVER_ANALYTICS_ENABLED',
    flag: { name: 'no-telemetry', type: 'boolean', usage: '--no-telemetry' },
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
  inspect: setting<'bridge' | 'off' | { url: string }>({
    env: 'TELEMETRY_INSPECT', flag: { name: 'inspect', type: 'string', usage: '--inspect[=HOST:PORT]' },
    parse: parseInspect, fallback: 'off', shown: 'unset', accepted: ACCEPT.inspect,
    meaning: 'true (or a bare --inspect): start a local Stately inspector bridge; host:port or a ws:// URL: connect to that bridge',
  }),
  inspectPort: setting({
    env: 'TELEMETRY_INSPECT_PORT', flag: { name: 'inspect-port', type: 'string', usage: '--inspect-port N' },
    parse: parseInspectPort, fallback: 4242, accepted: ACCEPT.inspectPort, meaning: 'port of the local inspector bridge',
  }),
} as const;

export type SettingKey = keyof typeof SETTINGS;

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

/** The flags of the server command, for parseArgs. */
export function serverFlagOptions(): Record<string, { type: 'string' | 'boolean' }> {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const s of Object.values(SETTINGS) as SettingSpec<unknown>[]) if (s.flag) options[s.flag.name] = { type: s.flag.type };
  return options;
}

/** The options section of `telemetry-actor server --help`. */
export function serverFlagHelp(): string {
  const flagged = (Object.values(SETTINGS) as SettingSpec<unknown>[]).filter((s) => s.flag !== undefined);
  const width = Math.max(...flagged.map((s) => s.flag!.usage.length)) + 2;
  return flagged
    .map((s) => `  ${s.flag!.usage.padEnd(width)}${s.meaning} (${s.env}, default ${shownDefault(s)})`)
    .join('\n');
}
