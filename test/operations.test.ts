// The log table of docs/operations.md against real servers' lines: what they log is in the table, with its level
// and component, and what the table promises for these runs is logged.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'vitest';
import { createCliSandbox, type CliEnv } from './helpers/cli.js';
import { LIMITS } from './harness/limits.js';
import { LEVELS } from './helpers/logs.js';
import { freePort } from './harness/net.js';

interface Row {
  level: string;
  component: string;
  /** The msg column as written, e.g. `Failed to send telemetry: <reason>. Shutting down telemetry service...`. */
  text: string;
  pattern: RegExp;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The rows of the table under `## Logs`: `<reason>` stands for any text, a trailing ` ...` for any rest. */
async function logTable(): Promise<Row[]> {
  const doc = await readFile(path.resolve(import.meta.dirname, '../docs/operations.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Logs'), doc.indexOf('\n## ', doc.indexOf('## Logs') + 1));
  const rows: Row[] = [];
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const [, level, component, msg] = cells;
    const text = /^`([^`]+)`/.exec(msg ?? '')?.[1];
    if (level === undefined || component === undefined || text === undefined || !(level in LEVELS)) continue;
    const prefix = text.endsWith(' ...');
    const body = escape(prefix ? text.slice(0, -4) : text).replace(/<[a-z]+>/g, '.+');
    rows.push({ level, component, text, pattern: new RegExp(`^${body}${prefix ? ' ' : '$'}`) });
  }
  return rows;
}

const levelName = (level: number) => Object.entries(LEVELS).find(([, value]) => value === level)?.[0];

async function setUp(context: TestContext) {
  const cli = createCliSandbox();
  context.onTestFinished(() => cli.cleanup());
  const env = async (extra: CliEnv = {}): Promise<CliEnv> => ({
    TELEMETRY_HOME: await cli.tempHome(),
    TELEMETRY_LOG_LEVEL: 'debug',
    TELEMETRY_LOOP_SECONDS: '1',
    ...extra,
  });
  return { cli, env };
}

// Every table row that these runs produce: a healthy loop against the server's own collector, telemetry off,
// an endpoint that refuses, a port already in use; each stopped with SIGTERM.
const EXPECTED = [
  'Server listening',
  'Anonymous telemetry is on: ...',
  'Telemetry is off; no heartbeat will be sent',
  'Heartbeat sent',
  'Heartbeat received',
  'Failed to send telemetry: <reason>. Shutting down telemetry service...',
  'Start-up failed',
  'Signal received',
  'Shutting down',
  'Telemetry service stopped',
];

// Three servers and a command side by side: the limit only tells finished from hung.
describe('docs/operations.md log table', { timeout: LIMITS.testMs * 2 }, () => {
  it('matches what real servers log at debug level, from start to SIGTERM', async (context) => {
    const { expect } = context;
    const { cli, env } = await setUp(context);
    const rows = await logTable();
    for (const text of EXPECTED) expect(rows.map((row) => row.text), 'a row of the table').toContain(text);

    const [healthy, off, failing] = await Promise.all([
      cli.startServerProcess(await env()),
      cli.startServerProcess(await env({ TELEMETRY_ENABLED: 'false' })),
      cli.startServerProcess(await env({ TELEMETRY_ENDPOINT: `http://127.0.0.1:${await freePort()}/in` })),
    ]);
    await healthy.waitForLine((line) => line.msg === 'Heartbeat sent' && line.heartbeatsSent === 2);
    await off.waitForLine((line) => line.msg.startsWith('Telemetry is off'));
    await failing.waitForLine((line) => line.msg === 'Telemetry service stopped');
    const busy = await cli.runCli(['server'], await env({ TELEMETRY_PORT: new URL(healthy.url).port }));
    expect(busy.code).toBe(1);
    for (const server of [healthy, off, failing]) expect(await server.stop('SIGTERM')).toMatchObject({ code: 0 });

    const lines = [...healthy.lines, ...off.lines, ...failing.lines, ...busy.lines];
    for (const line of lines) {
      const row = rows.find((candidate) => candidate.pattern.test(line.msg));
      expect(row, `"${line.msg}" is in the table`).toBeDefined();
      expect({ msg: line.msg, level: levelName(line.level), component: line.component }).toEqual({
        msg: line.msg,
        level: row?.level,
        component: row?.component,
      });
      expect(line.time, line.msg).toEqual(expect.any(String));
    }
    for (const text of EXPECTED) {
      const row = rows.find((candidate) => candidate.text === text);
      expect(lines.some((line) => row?.pattern.test(line.msg)), `"${text}" was logged`).toBe(true);
    }

    // The heartbeat line carries what was measured, and the stopped line comes at shutdown, after the signal.
    const sent = healthy.lines.find((line) => line.msg === 'Heartbeat sent');
    expect(sent).toMatchObject({ statusCode: 202, durationMs: expect.any(Number) });
    const messages = healthy.lines.map((line) => line.msg);
    expect(messages.indexOf('Telemetry service stopped')).toBeGreaterThan(messages.indexOf('Signal received'));
    expect(healthy.lines.find((line) => line.msg === 'Telemetry service stopped')).toMatchObject({ stopReason: 'requested' });
  });
});
