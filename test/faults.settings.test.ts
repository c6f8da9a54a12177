// Fault matrix, settings side: every variable set to each odd value. The whole matrix goes through loadSettings
// in-process (what the CLI calls first); a handful of rows, one per kind of parser, go through the real CLI
// process to prove a SettingsError becomes exit 2 with one stderr line before anything is touched.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { SettingsError } from '../src/errors.js';
import { loadSettings } from '../src/settings/index.js';
import { cleanupAll, makeTemp, runCli } from './helpers/faultServer.js';

afterAll(cleanupAll);

const VALUES = ['', '   ', 'maybe', '-1', '0', '1e309', 'http//x', 'ftp://x'] as const;
const NAMES = ['maybe', '-1', '0', '1e309', 'http//x', 'ftp://x'];

/**
 * The values each variable accepts out of VALUES, as the contract puts them; every other one must stop
 * start-up with exit code 2. Empty and blank are mistakes, except where a convention says "unset".
 */
const FITS: Record<string, readonly string[]> = {
  TELEMETRY_ENABLED: ['0'],
  PREFECT_SERVER_ANALYTICS_ENABLED: ['0'],
  DO_NOT_TRACK: VALUES, // never an error
  TELEMETRY_ENVIRONMENT: NAMES,
  PREFECT_API_TELEMETRY_ENVIRONMENT: NAMES,
  TELEMETRY_ENDPOINT: [],
  TELEMETRY_LOOP_SECONDS: [],
  TELEMETRY_TIMEOUT_SECONDS: [],
  TELEMETRY_RETRIES: ['0'],
  TELEMETRY_DEBUG: ['0'],
  PREFECT_DEBUG_MODE: ['0'],
  TELEMETRY_HOME: NAMES, // relative paths, resolved against the working folder
  TELEMETRY_HOST: ['maybe', '0', '1e309'], // host names by their syntax
  TELEMETRY_PORT: ['0'],
  TELEMETRY_LOG_LEVEL: [],
  TELEMETRY_COLLECTOR: [],
  TELEMETRY_INSPECT: ['0'],
  TELEMETRY_INSPECT_PORT: [],
  HTTPS_PROXY: [''], // empty means unset for proxies
  HTTP_PROXY: [''],
  https_proxy: [''],
  http_proxy: [''],
  NO_PROXY: VALUES, // a free-form host list
};

const bad = Object.entries(FITS).flatMap(([name, fits]) =>
  VALUES.filter((value) => !fits.includes(value)).map((value) => ({ name, value })),
);

/** The settings error loadSettings throws for `env`, or undefined when it accepts it. */
function settingsError(env: NodeJS.ProcessEnv): SettingsError | undefined {
  try {
    loadSettings(env);
    return undefined;
  } catch (error) {
    if (error instanceof SettingsError) return error;
    throw error;
  }
}

describe('a value that does not fit: a SettingsError (exit 2) naming the variable', () => {
  test.for(bad)('$name=$value', ({ name, value }) => {
    const error = settingsError({ TELEMETRY_HOME: '/tmp/telemetry-settings-matrix', TELEMETRY_PORT: '0', [name]: value });
    expect(error).toBeInstanceOf(SettingsError);
    expect(error!.exitCode).toBe(2);
    expect(error!.variable).toBe(name);
    expect(error!.message).toMatch(/^[^\n]+ is not valid: expected [^\n]+$/);
    expect(error!.message.startsWith(`${name}=${JSON.stringify(value)} is not valid`)).toBe(true);
  });
});

// Through the real process, one row per kind of value check (boolean, name, URL, seconds, count, path, host,
// port, log level, collector mode, inspect, proxy): the error becomes exit 2 and one stderr line, and start-up
// stops before it creates the database. Bounded to two processes at a time (see vitest.config.ts).
const PROCESS_ROWS = [
  'TELEMETRY_ENABLED',
  'TELEMETRY_ENVIRONMENT',
  'TELEMETRY_ENDPOINT',
  'TELEMETRY_LOOP_SECONDS',
  'TELEMETRY_RETRIES',
  'TELEMETRY_HOME',
  'TELEMETRY_HOST',
  'TELEMETRY_PORT',
  'TELEMETRY_LOG_LEVEL',
  'TELEMETRY_COLLECTOR',
  'TELEMETRY_INSPECT_PORT',
  'HTTPS_PROXY',
].map((name) => {
  const row = bad.find((r) => r.name === name && r.value === 'maybe') ?? bad.find((r) => r.name === name);
  if (row === undefined) throw new Error(`no bad value for ${name} in the matrix`);
  return row;
});

describe.concurrent('the real CLI: exit 2, one stderr line naming the variable, nothing written', () => {
  test.for(PROCESS_ROWS)('$name=$value', async ({ name, value }, { expect }) => {
    const home = await makeTemp();
    const result = await runCli(['server'], { TELEMETRY_HOME: home, TELEMETRY_PORT: '0', [name]: value }, { cwd: home });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^telemetry-actor: [^\n]+ is not valid: expected [^\n]+\n$/);
    expect(result.stderr.startsWith(`telemetry-actor: ${name}=${JSON.stringify(value)} is not valid`)).toBe(true);
    expect(result.stdout).toBe('');
    expect(existsSync(path.join(home, 'db'))).toBe(false); // stopped before touching anything
  });
});

describe.concurrent('values that fit, all at once per value: exit 0', () => {
  test.for(VALUES.map((value) => ({ value })))('every variable that accepts $value', async ({ value }, { expect }) => {
    const cwd = await makeTemp();
    const vars: Record<string, string> = { TELEMETRY_HOME: path.join(cwd, 'home'), TELEMETRY_PORT: '0' };
    for (const [name, fits] of Object.entries(FITS)) {
      // A host name would be looked up when `status` asks for a running server: never leave loopback.
      if (fits.includes(value) && name !== 'TELEMETRY_HOST') vars[name] = value;
    }
    const result = await runCli(['status', '--json'], vars, { cwd });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const status = JSON.parse(result.stdout) as { enabled: boolean; disabled_by: string | null };
    const optedOut = vars.TELEMETRY_ENABLED === '0' ? 'TELEMETRY_ENABLED' : ['', '0'].includes(value.trim()) ? null : 'DO_NOT_TRACK';
    expect(status).toMatchObject({ enabled: optedOut === null, disabled_by: optedOut });
  });
});
