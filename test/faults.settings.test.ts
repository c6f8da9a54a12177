// Fault matrix, settings side: every variable set to each odd value, through the real CLI process.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, test } from 'vitest';
import { cleanEnv, cleanupAll, makeTemp, runCli } from './helpers/faultServer.js';

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

describe.concurrent('a value that does not fit: exit 2, one stderr line naming the variable', () => {
  test.for(bad)('$name=$value', async ({ name, value }, { expect }) => {
    const home = await makeTemp();
    const result = await runCli(['server'], cleanEnv({ TELEMETRY_HOME: home, TELEMETRY_PORT: '0', [name]: value }), { cwd: home });
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
    const result = await runCli(['status', '--json'], cleanEnv(vars), { cwd });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const status = JSON.parse(result.stdout) as { enabled: boolean; disabled_by: string | null };
    const optedOut = vars.TELEMETRY_ENABLED === '0' ? 'TELEMETRY_ENABLED' : ['', '0'].includes(value.trim()) ? null : 'DO_NOT_TRACK';
    expect(status).toMatchObject({ enabled: optedOut === null, disabled_by: optedOut });
  });
});
