// How each kind of setting is read: one parser per kind, and the text of what each kind accepts.
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { SettingsError } from '../errors.js';
import { redactValue } from '../redact.js';

/** pino's levels, in its order. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

// Node fires a longer setTimeout after 1 ms instead (TimeoutOverflowWarning), which would turn a huge
// interval into a tight heartbeat loop, so intervals are capped at what a timer can hold.
export const MAX_SECONDS = 2_147_483;
/**
 * The floor of TELEMETRY_LOOP_SECONDS. Below it a tiny interval (5e-324 was accepted) turned the loop into
 * a busy one: a core at 99%, thousands of heartbeats a second. The library's machine input has no floor.
 */
export const MIN_LOOP_SECONDS = 1;
/** The shortest read token accepted: a guessable one would be worse than none, since it looks like protection. */
export const MIN_TOKEN_LENGTH = 16;
/** Longest TELEMETRY_IDEMPOTENCY_HOURS: a year (keys are kept that long, at one small row per heartbeat). */
export const MAX_HOURS = 8_784;
/**
 * Shortest TELEMETRY_RETENTION_DAYS: the collector's 30-day windows (MAU, installations) need 30 days of
 * per-day counts and session records behind the day they end on, plus today.
 */
export const MIN_RETENTION_DAYS = 31;
/** Longest TELEMETRY_RETENTION_DAYS: 100 years, so day arithmetic stays far from any limit. */
export const MAX_DAYS = 36_500;
/** Words that keep DO_NOT_TRACK from turning telemetry off. */
export const OPT_OUT_WORDS = ['', '0', 'false', 'no', 'off'];

/** What each kind of setting accepts: the text of every SettingsError, of `--help` and of the docs' table. */
export const ACCEPT = {
  boolean: 'true, false, 1, 0, yes, no, on or off',
  seconds: `a number of seconds greater than 0 and at most ${MAX_SECONDS}`,
  loopSeconds: `a number of seconds from ${MIN_LOOP_SECONDS} (the floor) to ${MAX_SECONDS}`,
  retries: 'an integer 0 or greater',
  port: 'an integer port from 0 to 65535',
  inspectPort: 'an integer port from 1 to 65535',
  endpoint: 'an http:// or https:// URL',
  logLevel: `one of ${LOG_LEVELS.join(', ')}`,
  collector: 'on, off or auto',
  inspect: 'true, false, host:port or a ws:// or wss:// URL',
  name: 'a non-empty name',
  path: 'a non-empty path',
  host: 'a host name or IP address',
  doNotTrack: 'anything; unset, empty, 0, false, no or off keep telemetry on',
  proxy: 'an http:// or https:// proxy URL, or empty',
  databaseUrl: 'a postgres:// or postgresql:// URL with a host',
  allowedHosts: 'a comma list of host names or IP addresses (a leading dot allows every subdomain: .example.com), or *',
  token: `at least ${MIN_TOKEN_LENGTH} visible ASCII characters, no spaces`,
  ratePerMinute: 'a number of heartbeats a minute, 0 (no limit) or greater',
  burst: 'an integer 1 or greater',
  hours: `a number of hours greater than 0 and at most ${MAX_HOURS}`,
  retentionDays: `an integer number of days from ${MIN_RETENTION_DAYS} to ${MAX_DAYS}`,
  minSessions: 'an integer 1 or greater',
} as const;

/** Reads one layer's text; throws SettingsError naming `name` when the text does not fit. */
export type Parser<T> = (name: string, value: string) => T;

/** A SettingsError whose echoed value has no secret in it (URL userinfo and query values redacted). */
function refuse(name: string, value: string, accepted: string): SettingsError {
  return new SettingsError(name, /[@?#]/.test(value) ? redactValue(value) : value, accepted);
}

/** true/false/1/0/yes/no/on/off in any case, blanks around ignored; anything else throws SettingsError. */
export function parseBoolean(name: string, value: string): boolean {
  const word = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(word)) return true;
  if (['false', '0', 'no', 'off'].includes(word)) return false;
  throw refuse(name, value, ACCEPT.boolean);
}

/** A plain decimal (0.5, 12, .25); with the exponent form (1e3) where `exponent` is set. */
const DECIMAL = /^\+?(?:\d+\.?\d*|\.\d+)$/;
const DECIMAL_OR_EXPONENT = /^\+?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** A decimal number above `min` (or from it, when `inclusive`) and at most `max`; anything else throws. */
function decimalIn(bounds: { min: number; inclusive: boolean; max: number; exponent?: boolean }, accepted: string): Parser<number> {
  const pattern = bounds.exponent === true ? DECIMAL_OR_EXPONENT : DECIMAL;
  return (name, value) => {
    const text = value.trim();
    const n = pattern.test(text) ? Number(text) : NaN;
    const tooSmall = bounds.inclusive ? n < bounds.min : n <= bounds.min;
    if (!Number.isFinite(n) || tooSmall || n > bounds.max) throw refuse(name, value, accepted);
    return n;
  };
}

export const parseSeconds = decimalIn({ min: 0, inclusive: false, max: MAX_SECONDS, exponent: true }, ACCEPT.seconds);
/** As parseSeconds, with the loop's floor: below MIN_LOOP_SECONDS the error names the floor. */
export const parseLoopSeconds = decimalIn({ min: MIN_LOOP_SECONDS, inclusive: true, max: MAX_SECONDS, exponent: true }, ACCEPT.loopSeconds);

function integerIn(min: number, max: number, accepted: string): Parser<number> {
  return (name, value) => {
    const text = value.trim();
    const n = /^\+?\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw refuse(name, value, accepted);
    return n;
  };
}

export const parseRetries = integerIn(0, Number.MAX_SAFE_INTEGER, ACCEPT.retries);
export const parseBurst = integerIn(1, Number.MAX_SAFE_INTEGER, ACCEPT.burst);
export const parseRetentionDays = integerIn(MIN_RETENTION_DAYS, MAX_DAYS, ACCEPT.retentionDays);
export const parseMinSessions = integerIn(1, Number.MAX_SAFE_INTEGER, ACCEPT.minSessions);

/** A number of hours greater than 0 (fractions allowed: 0.5 is half an hour), at most MAX_HOURS. */
export const parseHours = decimalIn({ min: 0, inclusive: false, max: MAX_HOURS }, ACCEPT.hours);
export const parsePort = integerIn(0, 65535, ACCEPT.port);
export const parseInspectPort = integerIn(1, 65535, ACCEPT.inspectPort);

/** The text if it parses as a URL with one of the protocols, else undefined. */
export function urlWithProtocol(value: string, protocols: readonly string[]): string | undefined {
  const text = value.trim();
  try {
    return protocols.includes(new URL(text).protocol) ? text : undefined;
  } catch {
    return undefined;
  }
}

export function parseEndpoint(name: string, value: string): string {
  const url = urlWithProtocol(value, ['http:', 'https:']);
  if (url === undefined) throw refuse(name, value, ACCEPT.endpoint);
  return url;
}

/** A PostgreSQL connection URL; the error echoes it without its password (see refuse). */
export function parseDatabaseUrl(name: string, value: string): string {
  const url = urlWithProtocol(value, ['postgres:', 'postgresql:']);
  if (url === undefined || new URL(url).hostname === '') throw refuse(name, value, ACCEPT.databaseUrl);
  return url;
}

export function parseProxy(name: string, value: string): string {
  if (value === '') return value;
  const url = urlWithProtocol(value, ['http:', 'https:']);
  if (url === undefined) throw refuse(name, value, ACCEPT.proxy);
  return url;
}

export function parseLogLevel(name: string, value: string): string {
  const level = value.trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw refuse(name, value, ACCEPT.logLevel);
  return level;
}

export function parseCollector(name: string, value: string): 'on' | 'off' | 'auto' {
  const word = value.trim().toLowerCase();
  if (word === 'on' || word === 'off' || word === 'auto') return word;
  throw refuse(name, value, ACCEPT.collector);
}

// host:port as people write it for a bridge (`127.0.0.1:4242`, `localhost:4242`, `[::1]:4242`).
const HOST_PORT = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):([1-9][0-9]{0,4})$/i;

/**
 * A bare `--inspect` or a true word: a local bridge; a ws:// URL, or host:port (meaning ws://host:port):
 * connect there; a false word: off.
 */
export function parseInspect(name: string, value: string): 'bridge' | 'off' | { url: string } {
  const url = urlWithProtocol(value, ['ws:', 'wss:']);
  if (url !== undefined) return { url };
  const hostPort = HOST_PORT.exec(value.trim());
  if (hostPort !== null && Number(hostPort[2]) <= 65535) return { url: `ws://${value.trim()}` };
  try {
    return parseBoolean(name, value) ? 'bridge' : 'off';
  } catch {
    throw refuse(name, value, ACCEPT.inspect);
  }
}

export function parseName(name: string, value: string): string {
  if (value.trim() === '') throw refuse(name, value, ACCEPT.name);
  return value.trim();
}

export function parseHome(name: string, value: string): string {
  const text = value.trim();
  if (text === '') throw refuse(name, value, ACCEPT.path);
  const expanded = text === '~' ? os.homedir() : /^~[/\\]/.test(text) ? path.join(os.homedir(), text.slice(2)) : text;
  return path.resolve(expanded);
}

// node:net (and the ~35 stream and socket modules it loads) is required only when a host is checked: the
// `.` entry reads its opt-out variables through this file and never checks one (docs/benchmarks.md, H4).
function isIP(host: string): number {
  return (createRequire(import.meta.url)('node:net') as typeof import('node:net')).isIP(host);
}

export function parseHost(name: string, value: string): string {
  const text = value.trim();
  const host = /^\[.*\]$/.test(text) ? text.slice(1, -1) : text;
  const hostname = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*\.?$/i;
  if (isIP(host) === 0 && !hostname.test(host)) throw refuse(name, value, ACCEPT.host);
  return host;
}

/** A non-negative rate; 0 turns the limit off. */
export const parseRatePerMinute = decimalIn({ min: 0, inclusive: true, max: MAX_SECONDS }, ACCEPT.ratePerMinute);

/** A secret: refused without echoing it (the error line would put it in a terminal's scrollback and CI logs). */
export function parseToken(name: string, value: string): string {
  if (value.length < MIN_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(value)) throw new SettingsError(name, '<redacted>', ACCEPT.token);
  return value;
}

const HOST_ENTRY = /^\.?[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$/;

/**
 * TELEMETRY_ALLOWED_HOSTS: `*`, or names and addresses as a Host header carries them without its port,
 * lowercased (an IPv6 address in brackets). Empty items (a trailing comma) are skipped.
 */
export function parseAllowedHosts(name: string, value: string): readonly string[] | '*' {
  const items = value.split(',').map((item) => item.trim().toLowerCase()).filter((item) => item !== '');
  if (items.length === 1 && items[0] === '*') return '*';
  if (items.length === 0) throw refuse(name, value, ACCEPT.allowedHosts);
  return items.map((item) => {
    const bare = /^\[.*\]$/.test(item) ? item.slice(1, -1) : item;
    if (isIP(bare) === 6) return `[${bare}]`;
    if (isIP(bare) === 4 || HOST_ENTRY.test(item)) return item;
    throw refuse(name, value, ACCEPT.allowedHosts);
  });
}

/** DO_NOT_TRACK (consoledonottrack.com): set to anything but an opt-out word means "do not track"; never an error. */
export function parseDoNotTrack(_name: string, value: string): boolean {
  return !OPT_OUT_WORDS.includes(value.trim().toLowerCase());
}
