// resolveTelemetry: the embedder's one call that honours every opt-out and builds the actor's input.
// Turned off by the host's own variable (e.g. MYAPP_TELEMETRY=false), TELEMETRY_ENABLED=false,
// PREFECT_SERVER_ANALYTICS_ENABLED=false or DO_NOT_TRACK=1, exactly as the reference server is.
import type { TelemetryInput } from '../../machines/telemetryTypes.js';
import { UserError } from '../errors.js';
import { PROXY_VARIABLES, read, resolveOptOut, type OptOutLayer, type Value } from './load.js';
import { ACCEPT, parseEndpoint, parseName, parseProxy, parseRetries, parseSeconds } from './parse.js';
import { SETTINGS } from './table.js';

/** What the host says about itself and its defaults; the standard TELEMETRY_* variables override the defaults. */
export interface ResolveTelemetryOptions {
  /** Variables to read; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The host's own switch, read as a boolean above the standard ones: `MYAPP_TELEMETRY=false` turns telemetry off. */
  name?: string;
  /** True when the host's own "no telemetry" flag was given; it wins over every variable. */
  flag?: boolean;
  /** That flag as the notice and `disabledBy` show it, e.g. `--no-telemetry`. */
  flagName?: string;
  /** The heartbeat's `source`, e.g. `my_server`. */
  source: string;
  serverVersion: string;
  /** Default: serverVersion. */
  apiVersion?: string;
  /** Where heartbeats go (your collector); TELEMETRY_ENDPOINT overrides it. One of the two is required. */
  endpoint?: string;
  /** Defaults, each overridden by its TELEMETRY_* variable: 600, 10, 'production', 0. */
  loopSeconds?: number;
  timeoutSeconds?: number;
  environment?: string;
  retries?: number;
  maxLoops?: number;
}

/** On, with the actor's input; or off, naming the switch that turned it off. */
export type ResolvedTelemetry =
  | { enabled: true; disabledBy: null; input: TelemetryInput }
  | { enabled: false; disabledBy: OptOutLayer; input?: undefined };

/** The switches that turn telemetry off for this host, as the first-start notice names them. */
export function optOutHint(options: { name?: string; flagName?: string } = {}): string {
  const switches = [
    ...(options.name === undefined ? [] : [`${options.name}=false`]),
    `${SETTINGS.enabled.env}=false`,
    `${SETTINGS.doNotTrack.env}=1`,
    ...(options.flagName === undefined ? [] : [options.flagName]),
  ];
  return `${switches.slice(0, -1).join(', ')} or ${switches.at(-1)}`;
}

/**
 * Reads the opt-outs (the host's `name` variable and flag, TELEMETRY_ENABLED, PREFECT_SERVER_ANALYTICS_ENABLED,
 * DO_NOT_TRACK): any one turns telemetry off, and then nothing else is read, so a stray setting never stops a
 * host whose telemetry is off. When on, returns the input for `createTelemetryMachine`'s actor.
 * @throws SettingsError for a bad value: an opt-out variable that is not a boolean word (TELEMETRY_ENABLED=maybe),
 *   a bad TELEMETRY_* value (TELEMETRY_LOOP_SECONDS=abc) or option (`loopSeconds: 0`). Its `message` is one line
 *   naming the variable, the value and what is accepted (`variable`, `value`, `accepted` hold the parts). The
 *   host decides: catch it and run on without telemetry (the recipes in docs/embedding.md and the README do),
 *   or let it stop start-up as `telemetry-actor server` does (exit code 2). Uncaught, it ends the host with a stack.
 * @throws UserError when telemetry is on and neither `endpoint` nor TELEMETRY_ENDPOINT says where to send.
 */
export function resolveTelemetry(options: ResolveTelemetryOptions): ResolvedTelemetry {
  const env = options.env ?? process.env;
  const variables = options.name === undefined ? [] : [options.name];
  const disabledBy = resolveOptOut({ env, flag: options.flag, flagName: options.flagName, variables });
  if (disabledBy !== null) return { enabled: false, disabledBy };
  // Only telemetry uses the proxy, so the proxy variables are checked only now (as the server does).
  for (const proxy of PROXY_VARIABLES) if (env[proxy] !== undefined) parseProxy(proxy, env[proxy]);
  return { enabled: true, disabledBy: null, input: buildInput(options, env) };
}

type Tunable = 'loopSeconds' | 'timeoutSeconds' | 'environment' | 'retries';
type Check = (name: string, text: string) => unknown;

// A host value is validated like a variable, so `loopSeconds: 0` fails at once rather than spinning.
function checked<T>(value: T | undefined, check: Check, name: string): T | undefined {
  if (value !== undefined) check(name, String(value));
  return value;
}

/** The variable's (or its alias's) value when one is set, else undefined so that the host's value applies. */
function layered<K extends Tunable>(key: K, env: NodeJS.ProcessEnv): Value<K> | undefined {
  const spec: { env: string; alias?: string } = SETTINGS[key];
  const set = env[spec.env] !== undefined || (spec.alias !== undefined && env[spec.alias] !== undefined);
  return set ? read(key, env) : undefined;
}

function buildInput(options: ResolveTelemetryOptions, env: NodeJS.ProcessEnv): TelemetryInput {
  const endpoint = read('endpoint', env) ?? checked(options.endpoint, parseEndpoint, 'endpoint');
  if (endpoint === undefined) {
    throw new UserError(`Telemetry is on but has no endpoint: pass \`endpoint\` or set TELEMETRY_ENDPOINT (${ACCEPT.endpoint})`, { exitCode: 2 });
  }
  const pick = <K extends Tunable>(key: K, check: Check): Value<K> =>
    layered(key, env) ?? checked(options[key] as Value<K> | undefined, check, key) ?? (SETTINGS[key].fallback as Value<K>);
  return {
    endpoint,
    loopSeconds: pick('loopSeconds', parseSeconds),
    timeoutSeconds: pick('timeoutSeconds', parseSeconds),
    environment: pick('environment', parseName),
    retries: pick('retries', parseRetries),
    source: options.source,
    serverVersion: options.serverVersion,
    apiVersion: options.apiVersion ?? options.serverVersion,
    ...(options.maxLoops === undefined ? {} : { maxLoops: checked(options.maxLoops, parseRetries, 'maxLoops') }),
    optOutHint: optOutHint(options),
  };
}
