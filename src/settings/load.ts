// Loading settings: flag > TELEMETRY_* > alias > default, every set layer validated, any opt-out wins.
//
// Rules kept here so the CLI, the server and the docs agree:
// - Every layer that is set is validated, even when a higher one overrides it: a typo should stop
//   start-up rather than lurk until the flag is dropped.
// - A variable set to the empty string (or blanks) is a mistake, not "unset", and fails like any bad value.
//   The one exception is DO_NOT_TRACK, which by its convention is never an error.
// - Telemetry is on only if no layer turns it off; `disabledBy` names the highest layer that did.
import os from 'node:os';
import path from 'node:path';
import { redactingReplacer, redactUrl } from '../redact.js';
import { parseBoolean, parseDoNotTrack, parseProxy } from './parse.js';
import { SETTINGS, type SettingKey, type SettingSpec } from './table.js';

/** Parsed command-line flags by flag name (`port`, `no-telemetry`), as strings or booleans. */
export type CliFlags = Partial<Record<string, string | boolean>>;

/** The layers that can turn telemetry off, highest first. */
export type OptOutLayer = '--no-telemetry' | 'TELEMETRY_ENABLED' | 'PREFECT_SERVER_ANALYTICS_ENABLED' | 'DO_NOT_TRACK' | (string & {});

export type InspectSetting = { mode: 'off' } | { mode: 'bridge'; port: number } | { mode: 'connect'; url: string };

export type Value<K extends SettingKey> = (typeof SETTINGS)[K] extends SettingSpec<infer T> ? T : never;

/** The rows whose Settings fields are computed from them (and others); every other row is read as it is. */
const COMPUTED = ['enabled', 'doNotTrack', 'collector', 'home', 'inspect', 'inspectPort'] as const;
type PlainKey = Exclude<SettingKey, (typeof COMPUTED)[number]>;

/**
 * The validated settings. Every row of the settings table that is not COMPUTED becomes a field of its own
 * name and parsed type (so a new row needs nothing here): `endpoint` is TELEMETRY_ENDPOINT as configured
 * (undefined: this server's own collector, see resolveEndpoint), `host` is without brackets, as
 * `server.listen` wants it (`::1`, not `[::1]`).
 */
export type Settings = { [K in PlainKey]: Value<K> } & {
  enabled: boolean;
  /** The layer that turned telemetry off; null when on. */
  disabledBy: OptOutLayer | null;
  /** Absolute, `~` expanded; the LevelDB lives in dbPath = <home>/db. */
  home: string;
  dbPath: string;
  /** Whether this server serves POST /api/collector. */
  collector: boolean;
  inspect: InspectSetting;
};

/** The layers of one setting that are set, highest first: [name shown in errors, text]. */
function layersOf(spec: SettingSpec<unknown>, env: NodeJS.ProcessEnv, flags: CliFlags): Array<[string, string]> {
  const flag = spec.flag === undefined ? undefined : flags[spec.flag.name];
  const layers: Array<[string, string | undefined]> = [
    [spec.flag === undefined ? '' : `--${spec.flag.name}`, typeof flag === 'string' ? flag : undefined],
    [spec.env, env[spec.env]],
    [spec.alias ?? '', spec.alias === undefined ? undefined : env[spec.alias]],
  ];
  return layers.filter((layer): layer is [string, string] => layer[1] !== undefined);
}

/** Parses every set layer (so a typo never hides behind a higher one) and returns the highest one's value. */
export function read<K extends SettingKey>(key: K, env: NodeJS.ProcessEnv, flags: CliFlags = {}): Value<K> {
  const spec = SETTINGS[key] as SettingSpec<Value<K>>;
  const values = layersOf(spec, env, flags).map(([name, text]) => spec.parse(name, text));
  return values.length > 0 ? (values[0] as Value<K>) : spec.fallback;
}

/** The switches a host reads for its opt-out, highest first: a flag, then variables. */
export interface OptOutSources {
  env: NodeJS.ProcessEnv;
  /** True when the host's own "no telemetry" flag was given. */
  flag?: boolean;
  /** The flag's name as shown in the status (default --no-telemetry). */
  flagName?: string;
  /** Extra variables of the host (e.g. MYAPP_TELEMETRY), read as booleans above the standard ones. */
  variables?: readonly string[];
}

/**
 * The opt-out resolver: the highest layer that turns telemetry off, or null when on. A host variable or
 * TELEMETRY_ENABLED / PREFECT_SERVER_ANALYTICS_ENABLED set to a false word, or DO_NOT_TRACK set to anything
 * but empty/0/false/no/off, turns it off. A set boolean variable that is not a boolean word throws SettingsError.
 */
export function resolveOptOut(sources: OptOutSources): OptOutLayer | null {
  const { env } = sources;
  const spec = SETTINGS.enabled;
  const booleans = [...(sources.variables ?? []), spec.env, ...(spec.alias === undefined ? [] : [spec.alias])];
  const off = (name: string) => {
    const value = env[name];
    return value !== undefined && !parseBoolean(name, value);
  };
  const layers: Array<[OptOutLayer, () => boolean]> = [
    [sources.flagName ?? '--no-telemetry', () => sources.flag === true],
    ...booleans.map((name): [OptOutLayer, () => boolean] => [name, () => off(name)]),
    [SETTINGS.doNotTrack.env, () => env.DO_NOT_TRACK !== undefined && parseDoNotTrack('DO_NOT_TRACK', env.DO_NOT_TRACK)],
  ];
  // Every boolean layer is parsed, so a typo in a lower one stops start-up even when a higher one decided.
  const decided = layers.map(([name, isOff]) => [name, isOff()] as const);
  return decided.find(([, isOff]) => isOff)?.[0] ?? null;
}

/** The proxy variables undici's EnvHttpProxyAgent reads (empty counts as unset there). */
export const PROXY_VARIABLES = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'] as const;

/** Every row that is not COMPUTED, in table order, under its own key. */
function readPlain(env: NodeJS.ProcessEnv, flags: CliFlags): { [K in PlainKey]: Value<K> } {
  const computed: readonly SettingKey[] = COMPUTED;
  const plain: Partial<Record<SettingKey, unknown>> = {};
  for (const key of Object.keys(SETTINGS) as SettingKey[]) if (!computed.includes(key)) plain[key] = read(key, env, flags);
  return plain as { [K in PlainKey]: Value<K> };
}

function resolveInspect(env: NodeJS.ProcessEnv, flags: CliFlags): InspectSetting {
  const choice = read('inspect', env, flags);
  const port = read('inspectPort', env, flags);
  if (choice === 'off') return { mode: 'off' };
  return choice === 'bridge' ? { mode: 'bridge', port } : { mode: 'connect', url: choice.url };
}

/**
 * Reads and validates all settings. Pure apart from os.homedir() and path resolution of TELEMETRY_HOME.
 * @throws SettingsError (exit code 2) naming the first bad variable or flag.
 */
export function loadSettings(env: NodeJS.ProcessEnv = process.env, flags: CliFlags = {}): Settings {
  const disabledBy = resolveOptOut({ env, flag: flags['no-telemetry'] === true });
  // Only telemetry uses the proxy: with it off, a proxy other tools accept (host:port) must not stop the server.
  if (disabledBy === null) for (const name of PROXY_VARIABLES) if (env[name] !== undefined) parseProxy(name, env[name]);
  const plain = readPlain(env, flags);
  const collector = read('collector', env, flags);
  const home = read('home', env, flags) ?? path.join(os.homedir(), '.telemetry-actor');
  return {
    ...plain,
    enabled: disabledBy === null,
    disabledBy,
    home,
    dbPath: path.join(home, 'db'),
    collector: collector === 'auto' ? plain.endpoint === undefined : collector === 'on',
    inspect: resolveInspect(env, flags),
  };
}

/** The resolved value of every table setting the Settings hold, keyed by its variable, for `status --json`. */
export function describeSettings(s: Settings): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(SETTINGS)) {
    if (!(key in s)) continue;
    const value = s[key as keyof Settings];
    if ((spec as SettingSpec<unknown>).secret === true) out[spec.env] = value === undefined ? null : '<redacted>';
    else if (typeof value === 'string') out[spec.env] = /^[a-z]+:\/\//i.test(value) ? redactUrl(value) : value;
    // TELEMETRY_INSPECT is an object that may hold a ws:// URL.
    else out[spec.env] = value === undefined ? null : (JSON.parse(JSON.stringify(value, redactingReplacer)) as unknown);
  }
  return out;
}
