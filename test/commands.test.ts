// The CLI's command table and the help derived from it; the mistyped-variable warning, from the settings table.
import { describe, expect, it } from 'vitest';
import { commandHelp, commandsMarkdown, COMMANDS, mainHelp, usageLine } from '../src/cli/commands.js';
import { SHUTDOWN_SIGNALS } from '../src/cli/signals.js';
import * as settings from '../src/settings/index.js';
import { mistypedVariables, mistypedWarning, SETTINGS } from '../src/settings/index.js';

const command = (name: string) => COMMANDS.find((c) => c.name === name)!;
const help = (name: string) => commandHelp(command(name), command(name).options(settings));

describe('the command table', () => {
  it('lists each command once, and the main help shows each with its summary', () => {
    const names = COMMANDS.map((c) => c.name);
    expect(names).toEqual(['server', 'status', 'preview', 'send', 'reset']);
    for (const c of COMMANDS) expect(mainHelp()).toContain(`  ${c.name.padEnd(10)}${c.summary}`);
  });

  it('server usage and help come from the settings table: every flag, wrapped within 100 columns', () => {
    const flagged = Object.values(SETTINGS).flatMap((s) => ('flag' in s && s.flag !== undefined ? [s.flag.usage] : []));
    expect(flagged).toEqual(expect.arrayContaining(['--inspect-port N', '--database-url URL', '--no-telemetry']));
    const text = help('server');
    for (const usage of flagged) {
      expect(text.split('\n\n')[0], usage).toContain(`[${usage}]`);
      expect(text, usage).toMatch(new RegExp(`^  ${usage.replace(/[[\]]/g, '\\$&')} `, 'm'));
    }
    expect(Math.max(...usageLine(command('server'), command('server').options(settings)).split('\n').map((line) => `Usage: ${line}`.length))).toBeLessThanOrEqual(100);
  });

  it('says what is true now: four shutdown signals, --no-telemetry turns telemetry off, reset goes through a running server', () => {
    expect(SHUTDOWN_SIGNALS).toEqual(['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR2']);
    for (const signal of SHUTDOWN_SIGNALS) expect(help('server')).toContain(signal);
    const noTelemetry = help('server').split('\n').find((line) => line.trim().startsWith('--no-telemetry'));
    expect(noTelemetry).toContain('turn telemetry off');
    expect(noTelemetry).not.toContain('send heartbeats');
    expect(help('reset')).not.toContain('Stop the server first');
    expect(help('reset')).toContain('that server is asked');
  });

  it('makes the README table: one row per command, with its full usage', () => {
    const rows = commandsMarkdown(settings).split('\n').slice(2);
    expect(rows).toHaveLength(COMMANDS.length);
    expect(rows[0]).toContain('[--inspect-port N]');
    expect(rows[0]).toContain('[--database-url URL]');
  });
});

describe('mistyped variables', () => {
  it('names a TELEMETRY_* variable that is no setting, with the nearest setting', () => {
    expect(mistypedVariables({ TELEMETRY_ENABLE: 'false', TELEMETRY_LOOPSECONDS: '5', TELEMETRY_WHATEVER: '1' }, 'linux')).toEqual([
      { name: 'TELEMETRY_ENABLE', suggestion: 'TELEMETRY_ENABLED' },
      { name: 'TELEMETRY_LOOPSECONDS', suggestion: 'TELEMETRY_LOOP_SECONDS' },
      { name: 'TELEMETRY_WHATEVER' },
    ]);
  });

  it('names near misses of the Prefect aliases and DO_NOT_TRACK, and leaves other variables alone', () => {
    const env = { PREFECT_SERVER_ANALYTICS_ENABLE: 'false', PREFECT_API_TELEMETRY_ENVIROMENT: 'x', DO_NOT_TRAK: '1', PREFECT_API_URL: 'http://x', PATH: '/bin', HOME: '/h' };
    expect(mistypedVariables(env, 'linux')).toEqual([
      { name: 'DO_NOT_TRAK', suggestion: 'DO_NOT_TRACK' },
      { name: 'PREFECT_API_TELEMETRY_ENVIROMENT', suggestion: 'PREFECT_API_TELEMETRY_ENVIRONMENT' },
      { name: 'PREFECT_SERVER_ANALYTICS_ENABLE', suggestion: 'PREFECT_SERVER_ANALYTICS_ENABLED' },
    ]);
  });

  it('knows every setting, its alias and the allow-listed test variables; letter case counts except on Windows', () => {
    const every = Object.fromEntries(Object.values(SETTINGS).flatMap((s) => ['alias' in s && s.alias !== undefined ? [s.env, s.alias] : [s.env]].flat().map((name) => [name, 'x'])));
    expect(mistypedVariables({ ...every, TELEMETRY_TEST_DATABASE_URL: 'x', TELEMETRY_TEST_TIME_SCALE: '2' }, 'linux')).toEqual([]);
    expect(mistypedVariables({ telemetry_enabled: 'false' }, 'linux')).toEqual([{ name: 'telemetry_enabled', suggestion: 'TELEMETRY_ENABLED' }]);
    expect(mistypedVariables({ telemetry_enabled: 'false' }, 'win32')).toEqual([]);
  });

  it('says it in one line, or not at all', () => {
    expect(mistypedWarning({ PATH: '/bin' })).toBeUndefined();
    expect(mistypedWarning({ TELEMETRY_ENABLE: 'false' }, 'linux')).toBe('ignoring TELEMETRY_ENABLE (did you mean TELEMETRY_ENABLED?): not a setting; see docs/settings.md');
    const two = mistypedWarning({ TELEMETRY_ENABLE: 'false', TELEMETRY_LOOPSECONDS: '5' }, 'linux')!;
    expect(two.split('\n')).toHaveLength(1);
    expect(two).toContain('TELEMETRY_LOOPSECONDS (did you mean TELEMETRY_LOOP_SECONDS?): not settings');
  });
});
