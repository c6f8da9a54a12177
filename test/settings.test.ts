// Settings: validation, precedence, opt-out layers, endpoint/collector/inspect resolution.
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SettingsError } from '../src/errors.js';
import { resolveEndpoint } from '../src/server/endpoint.js';
import { SETTINGS, describeSettings, loadSettings, parseBoolean, type CliFlags } from '../src/settings/index.js';

/** Every variable and alias of the table. */
const TABLE_NAMES = Object.values(SETTINGS).flatMap((row: { env: string; alias?: string }) => [row.env, row.alias ?? '']);

/** Runs loadSettings and returns the SettingsError it throws (fails the test if it throws nothing else). */
function settingsError(env: NodeJS.ProcessEnv, flags: CliFlags = {}): SettingsError {
  try {
    loadSettings(env, flags);
  } catch (err) {
    expect(err).toBeInstanceOf(SettingsError);
    return err as SettingsError;
  }
  throw new Error(`expected a SettingsError for ${JSON.stringify({ env, flags })}`);
}

describe('defaults', () => {
  it('gives the documented defaults for an empty environment', () => {
    const home = path.join(os.homedir(), '.telemetry-actor');
    expect(loadSettings({}, {})).toEqual({
      enabled: true,
      disabledBy: null,
      endpoint: undefined,
      environment: 'production',
      loopSeconds: 600,
      timeoutSeconds: 10,
      retries: 0,
      debug: false,
      home,
      dbPath: path.join(home, 'db'),
      host: '127.0.0.1',
      port: 4200,
      logLevel: 'info',
      collector: true,
      inspect: { mode: 'off' },
      allowedHosts: [],
      trustProxy: false,
      readToken: undefined,
      publicStats: false,
      rateLimit: 6,
      rateBurst: 20,
      idempotencyHours: 24,
      retentionDays: 400,
      privacyMinSessions: 5,
    });
  });
});

describe('the HTTP surface settings', () => {
  it('reads the allowed hosts as a Host header names them: lowercased, IPv6 in brackets, `*` alone', () => {
    expect(loadSettings({ TELEMETRY_ALLOWED_HOSTS: 'Collector.Example.com, .example.org,::1,[fd00::7], 10.0.0.5,' }).allowedHosts).toEqual([
      'collector.example.com',
      '.example.org',
      '[::1]',
      '[fd00::7]',
      '10.0.0.5',
    ]);
    expect(loadSettings({ TELEMETRY_ALLOWED_HOSTS: ' * ' }).allowedHosts).toBe('*');
  });

  it('never echoes a read token, neither in a settings error nor in status --json', () => {
    const short = 'secret-but-short';
    const err = settingsError({ TELEMETRY_READ_TOKEN: short.slice(0, 15) });
    expect(err.variable).toBe('TELEMETRY_READ_TOKEN');
    expect(err.message).not.toContain('secret');
    expect(err.message).toBe('TELEMETRY_READ_TOKEN="<redacted>" is not valid: expected at least 16 visible ASCII characters, no spaces');
    expect(settingsError({ TELEMETRY_READ_TOKEN: 'a token with spaces in it' }).message).not.toContain('spaces in');
    const token = 'a-long-enough-read-token-0123';
    const described = describeSettings(loadSettings({ TELEMETRY_READ_TOKEN: token }));
    expect(described.TELEMETRY_READ_TOKEN).toBe('<redacted>');
    expect(JSON.stringify(described)).not.toContain(token);
    expect(describeSettings(loadSettings({})).TELEMETRY_READ_TOKEN).toBeNull();
  });
});

describe('bad values', () => {
  const bad: Array<[string, string[]]> = [
    ['TELEMETRY_ENABLED', ['', '  ', 'maybe', '2', 'enabled']],
    ['PREFECT_SERVER_ANALYTICS_ENABLED', ['', ' ', 'maybe']],
    ['TELEMETRY_DEBUG', ['', ' ', 'maybe', '-1']],
    ['PREFECT_DEBUG_MODE', ['', 'maybe']],
    ['TELEMETRY_ENVIRONMENT', ['', '   ']],
    ['PREFECT_API_TELEMETRY_ENVIRONMENT', ['', ' ']],
    ['TELEMETRY_ENDPOINT', ['', ' ', 'http//x', 'ftp://x', 'ws://x', 'localhost:4200', 'http://']],
    ['TELEMETRY_LOOP_SECONDS', ['', ' ', 'abc', '10s', '-1', '0', '0.0', '1e309', 'Infinity', 'NaN', '0x10', '3000000', '5e-324', '0.05', '0.999']],
    ['TELEMETRY_TIMEOUT_SECONDS', ['', 'abc', '-1', '0', '1e309', '-0.5']],
    ['TELEMETRY_RETRIES', ['', ' ', 'abc', '-1', '1.5', '1e309', '1e3']],
    ['TELEMETRY_HOME', ['', '  ']],
    ['TELEMETRY_HOST', ['', ' ', 'http://x', 'a b', 'host/path', '[]']],
    ['TELEMETRY_PORT', ['', ' ', 'abc', '-1', '65536', '1e309', '80.5']],
    ['TELEMETRY_LOG_LEVEL', ['', ' ', 'verbose', 'warning', '30']],
    ['TELEMETRY_COLLECTOR', ['', ' ', 'maybe', 'sometimes', 'yes', 'true', '0']],
    ['TELEMETRY_INSPECT', ['', ' ', 'maybe', 'http://127.0.0.1:4242', 'ws//x']],
    ['TELEMETRY_INSPECT_PORT', ['', 'abc', '0', '-1', '65536']],
    ['TELEMETRY_ALLOWED_HOSTS', ['', ' ', ',', 'evil.example:8080', 'http://x', 'a b', '*,localhost', '.', 'x/y']],
    ['TELEMETRY_TRUST_PROXY', ['', 'maybe']],
    ['TELEMETRY_PUBLIC_STATS', ['', 'maybe']],
    ['TELEMETRY_RATE_LIMIT', ['', 'abc', '-1', '1e3', 'Infinity', '10/min']],
    ['TELEMETRY_RATE_BURST', ['', '0', '1.5', '-1']],
    ['TELEMETRY_IDEMPOTENCY_HOURS', ['', 'abc', '0', '-1', '1e3', '8785', 'Infinity']],
    ['TELEMETRY_RETENTION_DAYS', ['', 'abc', '30', '0', '31.5', '36501']],
    ['TELEMETRY_PRIVACY_MIN_SESSIONS', ['', 'abc', '0', '-1', '2.5']],
  ];
  for (const [variable, values] of bad) {
    it.each(values)(`${variable}=%j throws a SettingsError naming it`, (value) => {
      const err = settingsError({ [variable]: value });
      expect(err.variable).toBe(variable);
      expect(err.value).toBe(value);
      expect(err.exitCode).toBe(2);
      expect(err.message).toBe(`${variable}=${JSON.stringify(value)} is not valid: expected ${err.accepted}`);
      expect(err.message).not.toContain('\n');
    });
  }

  const badFlags: Array<[string, CliFlags, string]> = [
    ['--port', { port: 'abc' }, 'abc'],
    ['--port', { port: '70000' }, '70000'],
    ['--port', { port: '' }, ''],
    ['--host', { host: 'a b' }, 'a b'],
    ['--inspect', { inspect: 'http://127.0.0.1:1' }, 'http://127.0.0.1:1'],
    ['--inspect', { inspect: '' }, ''],
    ['--inspect', { inspect: '127.0.0.1:99999' }, '127.0.0.1:99999'],
    ['--inspect', { inspect: '127.0.0.1:' }, '127.0.0.1:'],
    ['--inspect-port', { inspect: 'true', 'inspect-port': 'x' }, 'x'],
  ];
  it.each(badFlags)('flag %s throws a SettingsError naming the flag', (flag, flags, value) => {
    const err = settingsError({}, flags);
    expect(err.variable).toBe(flag);
    expect(err.value).toBe(value);
  });

  it('writes the documented one-line message', () => {
    expect(settingsError({ TELEMETRY_TIMEOUT_SECONDS: 'abc' }).message).toBe(
      'TELEMETRY_TIMEOUT_SECONDS="abc" is not valid: expected a number of seconds greater than 0 and at most 2147483',
    );
    // Below the floor (5e-324 was once accepted and made a busy loop): the message names the floor.
    expect(settingsError({ TELEMETRY_LOOP_SECONDS: '5e-324' }).message).toBe(
      'TELEMETRY_LOOP_SECONDS="5e-324" is not valid: expected a number of seconds from 1 (the floor) to 2147483',
    );
    expect(settingsError({ TELEMETRY_RETRIES: 'a\nb' }).message).toBe(
      'TELEMETRY_RETRIES="a\\nb" is not valid: expected an integer 0 or greater',
    );
  });

  it('validates a layer even when a higher layer overrides it', () => {
    expect(settingsError({ TELEMETRY_PORT: 'abc' }, { port: '5000' }).variable).toBe('TELEMETRY_PORT');
    expect(settingsError({ TELEMETRY_ENVIRONMENT: 'staging', PREFECT_API_TELEMETRY_ENVIRONMENT: '' }).variable).toBe(
      'PREFECT_API_TELEMETRY_ENVIRONMENT',
    );
    expect(settingsError({ TELEMETRY_ENABLED: 'maybe' }, { 'no-telemetry': true }).variable).toBe('TELEMETRY_ENABLED');
  });

  it('names every TELEMETRY_* variable and alias of the table when it is set to the empty string', () => {
    const names = TABLE_NAMES.filter((name) => /^(TELEMETRY|PREFECT)_/.test(name));
    expect(names.length).toBeGreaterThanOrEqual(17);
    for (const name of names) expect(settingsError({ [name]: '' }).variable).toBe(name);
  });
});

describe('good values', () => {
  const good: Array<[NodeJS.ProcessEnv, Partial<ReturnType<typeof loadSettings>>]> = [
    [{ TELEMETRY_LOOP_SECONDS: ' 30 ' }, { loopSeconds: 30 }],
    [{ TELEMETRY_LOOP_SECONDS: '1' }, { loopSeconds: 1 }],
    [{ TELEMETRY_LOOP_SECONDS: '1.5' }, { loopSeconds: 1.5 }],
    [{ TELEMETRY_LOOP_SECONDS: '1e3' }, { loopSeconds: 1000 }],
    [{ TELEMETRY_LOOP_SECONDS: '2147483' }, { loopSeconds: 2147483 }],
    [{ TELEMETRY_TIMEOUT_SECONDS: '2.5' }, { timeoutSeconds: 2.5 }],
    [{ TELEMETRY_RETRIES: '0' }, { retries: 0 }],
    [{ TELEMETRY_RETRIES: '3' }, { retries: 3 }],
    [{ TELEMETRY_PORT: '0' }, { port: 0 }],
    [{ TELEMETRY_PORT: '65535' }, { port: 65535 }],
    [{ TELEMETRY_LOG_LEVEL: 'DEBUG' }, { logLevel: 'debug' }],
    [{ TELEMETRY_LOG_LEVEL: 'silent' }, { logLevel: 'silent' }],
    [{ TELEMETRY_HOST: 'localhost' }, { host: 'localhost' }],
    [{ TELEMETRY_HOST: '[::1]' }, { host: '::1' }],
    [{ TELEMETRY_HOST: 'my_service.internal' }, { host: 'my_service.internal' }],
    [{ TELEMETRY_ENDPOINT: 'https://t.example/api/collector' }, { endpoint: 'https://t.example/api/collector' }],
    [{ TELEMETRY_ENVIRONMENT: ' staging ' }, { environment: 'staging' }],
    [{ TELEMETRY_HOME: '/tmp/ta-home' }, { home: path.resolve('/tmp/ta-home'), dbPath: path.join(path.resolve('/tmp/ta-home'), 'db') }],
    [{ TELEMETRY_HOME: '~' }, { home: os.homedir() }],
    [{ TELEMETRY_HOME: '~/data/ta' }, { home: path.join(os.homedir(), 'data', 'ta') }],
    [{ TELEMETRY_HOME: 'rel/dir' }, { home: path.resolve('rel/dir') }],
    [{ TELEMETRY_IDEMPOTENCY_HOURS: '0.5' }, { idempotencyHours: 0.5 }],
    [{ TELEMETRY_IDEMPOTENCY_HOURS: '8784' }, { idempotencyHours: 8784 }],
    [{ TELEMETRY_RETENTION_DAYS: '31' }, { retentionDays: 31 }],
    [{ TELEMETRY_PRIVACY_MIN_SESSIONS: '1' }, { privacyMinSessions: 1 }],
  ];
  it.each(good)('%j parses', (env, expected) => {
    expect(loadSettings(env)).toMatchObject(expected);
  });

  it.each(['true', 'TRUE', ' yes ', 'On', '1'])('parseBoolean(%j) is true', (value) => {
    expect(parseBoolean('X', value)).toBe(true);
  });
  it.each(['false', 'False', ' no', 'OFF', '0'])('parseBoolean(%j) is false', (value) => {
    expect(parseBoolean('X', value)).toBe(false);
  });
  it('parseBoolean names the variable when it throws', () => {
    expect(() => parseBoolean('SOME_FLAG', 'yep')).toThrow('SOME_FLAG="yep" is not valid');
  });
});

describe('precedence: flag > TELEMETRY_* > alias > default', () => {
  const cases: Array<[string, keyof ReturnType<typeof loadSettings>, NodeJS.ProcessEnv, CliFlags, unknown]> = [
    ['environment default', 'environment', {}, {}, 'production'],
    ['environment alias', 'environment', { PREFECT_API_TELEMETRY_ENVIRONMENT: 'dev' }, {}, 'dev'],
    ['environment variable over alias', 'environment', { TELEMETRY_ENVIRONMENT: 'ci', PREFECT_API_TELEMETRY_ENVIRONMENT: 'dev' }, {}, 'ci'],
    ['debug default', 'debug', {}, {}, false],
    ['debug alias', 'debug', { PREFECT_DEBUG_MODE: 'true' }, {}, true],
    ['debug variable over alias', 'debug', { TELEMETRY_DEBUG: 'false', PREFECT_DEBUG_MODE: 'true' }, {}, false],
    ['debug variable over alias (other way)', 'debug', { TELEMETRY_DEBUG: 'on', PREFECT_DEBUG_MODE: 'off' }, {}, true],
    ['enabled alias alone', 'enabled', { PREFECT_SERVER_ANALYTICS_ENABLED: 'true' }, {}, true],
    ['host variable', 'host', { TELEMETRY_HOST: '0.0.0.0' }, {}, '0.0.0.0'],
    ['host flag over variable', 'host', { TELEMETRY_HOST: '0.0.0.0' }, { host: '::1' }, '::1'],
    ['port variable', 'port', { TELEMETRY_PORT: '5000' }, {}, 5000],
    ['port flag over variable', 'port', { TELEMETRY_PORT: '5000' }, { port: '6000' }, 6000],
    ['inspect flag over variable', 'inspect', { TELEMETRY_INSPECT: 'ws://127.0.0.1:1/x' }, { inspect: 'true' }, { mode: 'bridge', port: 4242 }],
    ['inspect=false flag over variable', 'inspect', { TELEMETRY_INSPECT: 'true' }, { inspect: 'false' }, { mode: 'off' }],
    ['inspect port flag over variable', 'inspect', { TELEMETRY_INSPECT_PORT: '5001' }, { inspect: 'true', 'inspect-port': '5002' }, { mode: 'bridge', port: 5002 }],
  ];
  it.each(cases)('%s', (_label, key, env, flags, expected) => {
    expect(loadSettings(env, flags)[key]).toEqual(expected);
  });
});

describe('opt-out layers', () => {
  const alone: Array<[NodeJS.ProcessEnv, CliFlags, string]> = [
    [{}, { 'no-telemetry': true }, '--no-telemetry'],
    [{ TELEMETRY_ENABLED: 'false' }, {}, 'TELEMETRY_ENABLED'],
    [{ PREFECT_SERVER_ANALYTICS_ENABLED: 'off' }, {}, 'PREFECT_SERVER_ANALYTICS_ENABLED'],
    [{ DO_NOT_TRACK: '1' }, {}, 'DO_NOT_TRACK'],
  ];
  it.each(alone)('%j %j alone turns telemetry off, decided by %s', (env, flags, layer) => {
    expect(loadSettings(env, flags)).toMatchObject({ enabled: false, disabledBy: layer });
  });

  const combined: Array<[string, NodeJS.ProcessEnv, CliFlags, string]> = [
    ['every layer off', { TELEMETRY_ENABLED: 'no', PREFECT_SERVER_ANALYTICS_ENABLED: '0', DO_NOT_TRACK: '1' }, { 'no-telemetry': true }, '--no-telemetry'],
    ['variable, alias and DO_NOT_TRACK', { TELEMETRY_ENABLED: 'no', PREFECT_SERVER_ANALYTICS_ENABLED: '0', DO_NOT_TRACK: '1' }, {}, 'TELEMETRY_ENABLED'],
    ['alias and DO_NOT_TRACK', { PREFECT_SERVER_ANALYTICS_ENABLED: 'false', DO_NOT_TRACK: 'yes' }, {}, 'PREFECT_SERVER_ANALYTICS_ENABLED'],
    ['variable on cannot outvote the alias', { TELEMETRY_ENABLED: 'true', PREFECT_SERVER_ANALYTICS_ENABLED: 'false' }, {}, 'PREFECT_SERVER_ANALYTICS_ENABLED'],
    ['variable and alias on cannot outvote DO_NOT_TRACK', { TELEMETRY_ENABLED: 'true', PREFECT_SERVER_ANALYTICS_ENABLED: 'true', DO_NOT_TRACK: 'true' }, {}, 'DO_NOT_TRACK'],
    ['--telemetry cannot outvote a variable', { TELEMETRY_ENABLED: 'false' }, { 'no-telemetry': false }, 'TELEMETRY_ENABLED'],
    ['--no-telemetry over DO_NOT_TRACK', { DO_NOT_TRACK: '1' }, { 'no-telemetry': true }, '--no-telemetry'],
  ];
  it.each(combined)('%s -> decided by the highest layer', (_label, env, flags, layer) => {
    expect(loadSettings(env, flags)).toMatchObject({ enabled: false, disabledBy: layer });
  });

  it('stays on when every layer says on', () => {
    const s = loadSettings({ TELEMETRY_ENABLED: 'yes', PREFECT_SERVER_ANALYTICS_ENABLED: '1', DO_NOT_TRACK: '0' }, { 'no-telemetry': false });
    expect(s).toMatchObject({ enabled: true, disabledBy: null });
  });

  it.each(['1', 'true', 'yes', 'TRUE', 'anything', 'maybe', '2', ' x '])('DO_NOT_TRACK=%j turns telemetry off', (value) => {
    expect(loadSettings({ DO_NOT_TRACK: value })).toMatchObject({ enabled: false, disabledBy: 'DO_NOT_TRACK' });
  });
  it.each(['', '  ', '0', 'false', 'no', 'off', 'FALSE', ' Off '])('DO_NOT_TRACK=%j keeps telemetry on (never an error)', (value) => {
    expect(loadSettings({ DO_NOT_TRACK: value })).toMatchObject({ enabled: true, disabledBy: null });
  });
});

describe('endpoint and collector', () => {
  const own: Array<[NodeJS.ProcessEnv, CliFlags, string]> = [
    [{}, {}, 'http://127.0.0.1:4200/api/collector'],
    [{ TELEMETRY_HOST: '0.0.0.0', TELEMETRY_PORT: '8080' }, {}, 'http://127.0.0.1:8080/api/collector'],
    [{ TELEMETRY_HOST: '::' }, {}, 'http://[::1]:4200/api/collector'],
    [{}, { host: '[::]' }, 'http://[::1]:4200/api/collector'],
    [{}, { host: '0:0:0:0:0:0:0:0' }, 'http://[::1]:4200/api/collector'],
    [{}, { host: '::1', port: '9000' }, 'http://[::1]:9000/api/collector'],
    [{}, { host: 'fd00::7' }, 'http://[fd00::7]:4200/api/collector'],
    [{ TELEMETRY_HOST: 'localhost' }, {}, 'http://localhost:4200/api/collector'],
  ];
  it.each(own)('%j %j sends to its own collector at %s', (env, flags, endpoint) => {
    const s = loadSettings(env, flags);
    expect(s.endpoint).toBeUndefined();
    expect(resolveEndpoint(s)).toBe(endpoint);
  });

  it('resolveEndpoint uses the real server URL once listening (port 0), and a configured endpoint as it is', () => {
    expect(resolveEndpoint(loadSettings({ TELEMETRY_PORT: '0' }), 'http://127.0.0.1:43123')).toBe('http://127.0.0.1:43123/api/collector');
    const configured = loadSettings({ TELEMETRY_ENDPOINT: 'https://t.example/in' });
    expect(resolveEndpoint(configured, 'http://127.0.0.1:43123')).toBe('https://t.example/in');
  });

  const collector: Array<[NodeJS.ProcessEnv, boolean]> = [
    [{}, true],
    [{ TELEMETRY_COLLECTOR: 'auto' }, true],
    [{ TELEMETRY_COLLECTOR: 'AUTO', TELEMETRY_ENDPOINT: 'http://127.0.0.1:1/' }, false],
    [{ TELEMETRY_ENDPOINT: 'http://127.0.0.1:1/' }, false],
    [{ TELEMETRY_COLLECTOR: 'on', TELEMETRY_ENDPOINT: 'http://127.0.0.1:1/' }, true],
    [{ TELEMETRY_COLLECTOR: ' ON ', TELEMETRY_ENDPOINT: 'http://127.0.0.1:1/' }, true],
    [{ TELEMETRY_COLLECTOR: 'off' }, false],
    [{ TELEMETRY_COLLECTOR: 'Off' }, false],
  ];
  it.each(collector)('%j -> collector %s', (env, on) => {
    expect(loadSettings(env).collector).toBe(on);
  });
});

describe('inspect', () => {
  const modes: Array<[NodeJS.ProcessEnv, CliFlags, unknown]> = [
    [{}, {}, { mode: 'off' }],
    [{ TELEMETRY_INSPECT: 'false' }, {}, { mode: 'off' }],
    [{ TELEMETRY_INSPECT: 'true' }, {}, { mode: 'bridge', port: 4242 }],
    [{ TELEMETRY_INSPECT: 'yes', TELEMETRY_INSPECT_PORT: '5678' }, {}, { mode: 'bridge', port: 5678 }],
    [{}, { inspect: 'true' }, { mode: 'bridge', port: 4242 }],
    [{}, { inspect: 'true', 'inspect-port': '9229' }, { mode: 'bridge', port: 9229 }],
    [{ TELEMETRY_INSPECT: 'ws://127.0.0.1:4242' }, {}, { mode: 'connect', url: 'ws://127.0.0.1:4242' }],
    [{}, { inspect: 'wss://127.0.0.1:4243/x' }, { mode: 'connect', url: 'wss://127.0.0.1:4243/x' }],
    // host:port, as the help shows it, means a bridge at ws://host:port.
    [{}, { inspect: '127.0.0.1:4242' }, { mode: 'connect', url: 'ws://127.0.0.1:4242' }],
    [{ TELEMETRY_INSPECT: 'localhost:5000' }, {}, { mode: 'connect', url: 'ws://localhost:5000' }],
    [{}, { inspect: '[::1]:4242' }, { mode: 'connect', url: 'ws://[::1]:4242' }],
  ];
  it.each(modes)('%j %j -> %j', (env, flags, expected) => {
    expect(loadSettings(env, flags).inspect).toEqual(expected);
  });
});

describe('describeSettings and the settings table', () => {
  it('describes the resolved settings as JSON keyed by variable, with URLs redacted', () => {
    const described = describeSettings(
      loadSettings({ DO_NOT_TRACK: '1', TELEMETRY_INSPECT: 'true', TELEMETRY_ENDPOINT: 'https://u:secret@t.example/in?key=k' }),
    );
    expect(JSON.parse(JSON.stringify(described))).toEqual(described);
    expect(described).toMatchObject({ TELEMETRY_ENABLED: false, TELEMETRY_LOOP_SECONDS: 600, TELEMETRY_ENDPOINT: 'https://t.example/in' });
    expect(JSON.stringify(described)).not.toContain('secret');
  });

  it('lists every variable of the contract with a default and a meaning', () => {
    for (const name of ['TELEMETRY_ENABLED', 'DO_NOT_TRACK', 'TELEMETRY_ENDPOINT', 'TELEMETRY_COLLECTOR', 'TELEMETRY_INSPECT']) {
      expect(TABLE_NAMES).toContain(name);
    }
    for (const row of Object.values(SETTINGS)) expect((row.shown ?? String(row.fallback)).length * row.meaning.length).toBeGreaterThan(0);
  });
});
