// The CLI commands as users run them: the built dist/src/bin.cjs in a child process, exit codes, stdout and stderr.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'vitest';
import { validateHeartbeat } from '../src/collector/collector.js';
import { createCliSandbox, getJson, readStoredSessionValue, startCountingEndpoint, type CliEnv } from './helpers/cli.js';
import { LIMITS } from './harness/limits.js';
import { freePort, pollUntil } from './harness/net.js';

/** Several CLI processes one after another: only tells finished from hung (each step has its own limit). */
const MULTI_PROCESS_TEST_MS = LIMITS.testMs * 2;

const COMMANDS = ['server', 'status', 'preview', 'send', 'reset'];

/** A sandbox and a temp home for one test, cleaned up when it ends (tests here run concurrently). */
async function setUp(context: TestContext) {
  const cli = createCliSandbox();
  context.onTestFinished(() => cli.cleanup());
  const home = await cli.tempHome();
  return { cli, home, env: { TELEMETRY_HOME: home } as CliEnv };
}

async function withEndpoint(context: TestContext, status: number) {
  const endpoint = await startCountingEndpoint(status);
  context.onTestFinished(() => endpoint.close());
  return endpoint;
}

const isNotice = (line: { msg: string }) => line.msg.startsWith('Anonymous telemetry is on');

describe.concurrent('usage and settings errors', { timeout: MULTI_PROCESS_TEST_MS }, () => {
  const BAD: Array<{ args: string[]; env: CliEnv; names: string }> = [
    { args: ['server'], env: { TELEMETRY_LOOP_SECONDS: '0' }, names: 'TELEMETRY_LOOP_SECONDS' },
    // Below the 1 s floor: once accepted, and a busy loop of thousands of heartbeats a second.
    { args: ['server'], env: { TELEMETRY_LOOP_SECONDS: '5e-324' }, names: 'TELEMETRY_LOOP_SECONDS="5e-324" is not valid: expected a number of seconds from 1 (the floor)' },
    { args: ['server'], env: { TELEMETRY_ENDPOINT: 'ftp://example.invalid/x' }, names: 'TELEMETRY_ENDPOINT' },
    { args: ['status'], env: { TELEMETRY_ENABLED: 'maybe' }, names: 'TELEMETRY_ENABLED' },
    { args: ['send'], env: { TELEMETRY_RETRIES: '-1' }, names: 'TELEMETRY_RETRIES' },
    { args: ['server', '--port', '99999'], env: {}, names: '--port' },
  ];
  for (const sample of BAD) {
    it(`${sample.args.join(' ')} with a bad ${sample.names} exits 2 with one line naming it`, async (context) => {
      const { cli, env } = await setUp(context);
      const result = await cli.runCli(sample.args, { ...env, ...sample.env });
      context.expect(result.code).toBe(2);
      const lines = result.stderr.trim().split('\n');
      context.expect(lines).toHaveLength(1);
      context.expect(lines[0]).toContain(sample.names);
      context.expect(result.stdout).toBe('');
    });
  }

  it('an unknown command and an unknown flag exit 2', async (context) => {
    const { cli, env } = await setUp(context);
    const command = await cli.runCli(['serve'], env);
    context.expect(command.code).toBe(2);
    context.expect(command.stderr).toContain('unknown command "serve"');
    const flag = await cli.runCli(['status', '--bogus'], env);
    context.expect(flag.code).toBe(2);
    context.expect(flag.stderr).toContain('--bogus');
    // A flag of another command is unknown here too.
    context.expect((await cli.runCli(['preview', '--json'], env)).code).toBe(2);
  });

  it('--help on each command exits 0 and prints its usage', async (context) => {
    const { cli, env } = await setUp(context);
    const results = await Promise.all(COMMANDS.map((command) => cli.runCli([command, '--help'], env)));
    results.forEach((result, i) => {
      context.expect(result.code).toBe(0);
      context.expect(result.stdout).toContain(`Usage: telemetry-actor ${COMMANDS[i]}`);
    });
    const main = await cli.runCli(['--help'], env);
    context.expect(main.code).toBe(0);
    for (const command of COMMANDS) context.expect(main.stdout).toContain(command);
  });

  it('help before the command prints that command\'s usage, as after it', async (context) => {
    const { cli, env } = await setUp(context);
    const cases = [['-h', 'status'], ['--help', 'send'], ['help', 'reset']];
    const results = await Promise.all(cases.map((args) => cli.runCli(args, env)));
    results.forEach((result, i) => {
      context.expect(result.code, cases[i]?.join(' ')).toBe(0);
      context.expect(result.stdout, cases[i]?.join(' ')).toMatch(new RegExp(`^Usage: telemetry-actor ${cases[i]?.[1]}`));
    });
  });

  it('a near miss of a command or a flag gets a "did you mean", a far one does not', async (context) => {
    const { cli, env } = await setUp(context);
    const cases: Array<[string[], string | null]> = [
      [['stauts'], 'did you mean status?'],
      [['-h', 'sned'], 'did you mean send?'],
      [['status', '--jsno'], 'did you mean --json?'],
      [['server', '--no-telemtry'], 'did you mean --no-telemetry?'],
      [['xyzzy'], null],
      [['status', '--verbose'], null],
    ];
    // Usage errors answer before xstate, level or undici load: cheap enough to run side by side.
    const results = await Promise.all(cases.map(([args]) => cli.runCli(args, env)));
    results.forEach((result, i) => {
      const [args, hint] = cases[i]!;
      context.expect(result.code, args.join(' ')).toBe(2);
      context.expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      if (hint === null) context.expect(result.stderr, args.join(' ')).not.toContain('did you mean');
      else context.expect(result.stderr, args.join(' ')).toContain(hint);
    });
  });

  it('a mistyped variable gets one warning line naming the close match, from a command and at server start', async (context) => {
    const { cli, env } = await setUp(context);
    const status = await cli.runCli(['status'], { ...env, TELEMETRY_ENABLE: 'false', TELEMETRY_LOOPSECONDS: '5', TELEMETRY_TEST_TIME_SCALE: '1' });
    context.expect(status.code).toBe(0);
    context.expect(status.stderr).toBe(
      'telemetry-actor: warning: ignoring TELEMETRY_ENABLE (did you mean TELEMETRY_ENABLED?), TELEMETRY_LOOPSECONDS (did you mean TELEMETRY_LOOP_SECONDS?): not settings; see docs/settings.md\n',
    );
    // Ignored, as it says: the misspelt opt-out leaves telemetry on.
    context.expect(status.stdout).toMatch(/^Telemetry:\s+on$/m);
    const server = await cli.startServerProcess({ ...env, DO_NOT_TRACK: '1', PREFECT_SERVER_ANALYTICS_ENABLE: 'false' });
    context.expect(await server.stop()).toMatchObject({ code: 0 });
    context.expect(server.stderr().trim().split('\n')).toEqual([
      'telemetry-actor: warning: ignoring PREFECT_SERVER_ANALYTICS_ENABLE (did you mean PREFECT_SERVER_ANALYTICS_ENABLED?): not a setting; see docs/settings.md',
    ]);
  });

  it('server --help shows the --inspect forms the setting accepts (host:port included)', async (context) => {
    const { cli, env } = await setUp(context);
    const help = await cli.runCli(['server', '--help'], env);
    context.expect(help.stdout).toContain('--inspect[=HOST:PORT]');
    context.expect(help.stdout).toContain('host:port or a ws:// URL: connect to that bridge');
    // Accepted, not refused as a usage error: a bridge that does not answer is a warning, not a failure to start.
    const port = await freePort();
    const server = await cli.startServerProcess({ ...env, TELEMETRY_ENABLED: 'false' }, { args: [`--inspect=127.0.0.1:${port}`] });
    const warning = await server.waitForLine((line) => line.component === 'inspector' || String(line.msg).startsWith('Inspector'));
    context.expect(warning.url).toBe(`ws://127.0.0.1:${port}`);
    context.expect(await server.stop()).toMatchObject({ code: 0 });
  });
});

describe.concurrent('preview and send', { timeout: MULTI_PROCESS_TEST_MS }, () => {
  it('preview prints a valid heartbeat, sends nothing and writes nothing', async (context) => {
    const { cli, home, env } = await setUp(context);
    const endpoint = await withEndpoint(context, 202);
    const result = await cli.runCli(['preview'], { ...env, TELEMETRY_ENDPOINT: endpoint.url });
    context.expect(result.code).toBe(0);
    const heartbeat = JSON.parse(result.stdout) as { payload: Record<string, unknown> };
    context.expect(validateHeartbeat(heartbeat)).toMatchObject({ ok: true });
    context.expect(Object.keys(heartbeat.payload).sort()).toEqual(
      ['api_version', 'architecture', 'environment', 'node_version', 'platform', 'runtime', 'server_version', 'session_id', 'session_start_timestamp'],
    );
    context.expect(result.stderr).toContain(endpoint.url);
    context.expect(endpoint.connections()).toBe(0);
    context.expect(existsSync(path.join(home, 'db'))).toBe(false);
  });

  it('send exits 0 on a 2xx after exactly one POST, and creates the session it sent', async (context) => {
    const { cli, home, env } = await setUp(context);
    const endpoint = await withEndpoint(context, 204);
    const result = await cli.runCli(['send'], { ...env, TELEMETRY_ENDPOINT: endpoint.url });
    context.expect(result.code).toBe(0);
    context.expect(result.stdout).toContain('HTTP 204');
    context.expect(endpoint.requests).toHaveLength(1);
    context.expect(endpoint.requests[0]?.method).toBe('POST');
    const sent = JSON.parse(endpoint.requests[0]?.body ?? '') as { payload: { session_id: string } };
    const stored = JSON.parse((await readStoredSessionValue(home)) ?? 'null') as { session_id: string };
    context.expect(sent.payload.session_id).toBe(stored.session_id);
  });

  it('send exits 1 on a 500 with the reason on stderr', async (context) => {
    const { cli, env } = await setUp(context);
    const endpoint = await withEndpoint(context, 500);
    const result = await cli.runCli(['send'], { ...env, TELEMETRY_ENDPOINT: endpoint.url });
    context.expect(result.code).toBe(1);
    context.expect(result.stderr).toContain('HTTP 500 Internal Server Error');
    context.expect(endpoint.requests).toHaveLength(1);
  });

  it('send with no endpoint set goes to the running server\'s own collector, with its session', async (context) => {
    const { expect } = context;
    const { cli, env } = await setUp(context);
    const server = await cli.startServerProcess(env);
    const notice = await server.waitForLine(isNotice);
    const stats = async () => ((await getJson(`${server.url}/api/collector/stats`)).body as { heartbeats_total: number }).heartbeats_total;
    await pollUntil(async () => (await stats()) >= 1);
    const before = await stats();
    const preview = await cli.runCli(['preview'], env);
    expect(preview.stderr).toContain(`${server.url}/api/collector`);
    expect(JSON.parse(preview.stdout)).toMatchObject({ payload: { session_id: notice.sessionId } });
    const result = await cli.runCli(['send'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${server.url}/api/collector`);
    expect(await stats()).toBe(before + 1);
    expect((await getJson(`${server.url}/api/collector/stats`)).body).toMatchObject({ sessions_total: 1 });
  });

  it('send with no server and no endpoint says how to get one, and writes no session', async (context) => {
    const { cli, home, env } = await setUp(context);
    const port = await freePort();
    const result = await cli.runCli(['send'], { ...env, TELEMETRY_PORT: String(port) });
    context.expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    context.expect(lines).toHaveLength(1);
    context.expect(lines[0]).toContain(`http://127.0.0.1:${port}/api/collector`);
    context.expect(lines[0]).toContain('telemetry-actor server');
    context.expect(lines[0]).toContain('TELEMETRY_ENDPOINT');
    context.expect(existsSync(path.join(home, 'db'))).toBe(false);
  });

  it('send to a TELEMETRY_ENDPOINT that refuses says to check it, and writes no session', async (context) => {
    const { cli, home, env } = await setUp(context);
    const port = await freePort();
    const result = await cli.runCli(['send'], { ...env, TELEMETRY_ENDPOINT: `http://127.0.0.1:${port}/in` });
    context.expect(result.code).toBe(1);
    context.expect(result.stderr).toContain('ECONNREFUSED');
    context.expect(result.stderr).toContain('check that TELEMETRY_ENDPOINT points to a running collector');
    context.expect(existsSync(path.join(home, 'db'))).toBe(false);
  });

  it('send with telemetry off exits 1 and sends nothing', async (context) => {
    const { cli, home, env } = await setUp(context);
    const endpoint = await withEndpoint(context, 202);
    const result = await cli.runCli(['send'], { ...env, TELEMETRY_ENDPOINT: endpoint.url, DO_NOT_TRACK: 'yes' });
    context.expect(result.code).toBe(1);
    context.expect(result.stderr).toContain('DO_NOT_TRACK');
    context.expect(endpoint.connections()).toBe(0);
    context.expect(existsSync(path.join(home, 'db'))).toBe(false);
  });
});

describe.concurrent('status and reset', { timeout: MULTI_PROCESS_TEST_MS }, () => {
  it('status shows the live state of a running server, then `not running` and the stored session', async (context) => {
    const { expect } = context;
    const { cli, home, env } = await setUp(context);
    const server = await cli.startServerProcess(env);
    const notice = await server.waitForLine(isNotice);

    const liveJson = await cli.runCli(['status', '--json'], env);
    expect(liveJson.code).toBe(0);
    const live = JSON.parse(liveJson.stdout) as Record<string, unknown>;
    expect(live).toMatchObject({ server: server.url, enabled: true, session_id: notice.sessionId });
    expect(['sending', 'waiting']).toContain(live.state);
    // The shape of GET /api/telemetry, plus `server`.
    const api = (await getJson(`${server.url}/api/telemetry`)).body as Record<string, unknown>;
    expect(Object.keys(live).sort()).toEqual([...Object.keys(api), 'server', 'settings'].sort());
    const liveHuman = await cli.runCli(['status'], env);
    expect(liveHuman.stdout).toContain(`(server at ${server.url})`);
    expect(liveHuman.stdout).toContain(String(notice.sessionId));

    expect(await server.stop()).toMatchObject({ code: 0 });
    expect(existsSync(path.join(home, 'server.json'))).toBe(false);
    const storedJson = await cli.runCli(['status', '--json'], env);
    expect(JSON.parse(storedJson.stdout)).toMatchObject({
      server: null,
      state: 'not running',
      session_id: notice.sessionId,
      session_start_timestamp: live.session_start_timestamp,
    });
    const storedHuman = await cli.runCli(['status'], env);
    expect(storedHuman.code).toBe(0);
    expect(storedHuman.stdout).toMatch(/State:\s+not running/);
    expect(storedHuman.stdout).toContain(String(notice.sessionId));
  });

  it('status of a running telemetry-off server tells its stored session from none', async (context) => {
    const { expect } = context;
    const { cli, env } = await setUp(context);
    const first = await cli.startServerProcess(env);
    const notice = await first.waitForLine(isNotice);
    expect(await first.stop()).toMatchObject({ code: 0 });

    // Off: the actor is never spawned, so only the stored session can say there is one.
    const off = await cli.startServerProcess({ ...env, DO_NOT_TRACK: '1' });
    const human = await cli.runCli(['status'], env);
    expect(human.stdout).toContain(`(server at ${off.url})`);
    expect(human.stdout).toMatch(new RegExp(`Session:\\s+${String(notice.sessionId)} \\(since [^)]+\\), stored; not used while telemetry is off`));
    expect(JSON.parse((await cli.runCli(['status', '--json'], env)).stdout)).toMatchObject({ server: off.url, enabled: false, session_id: notice.sessionId });

    expect((await cli.runCli(['reset'], env)).stdout).toContain('Session forgotten');
    expect((await cli.runCli(['status'], env)).stdout).toMatch(/Session:\s+none stored\n/);
    expect(await off.stop()).toMatchObject({ code: 0 });
  });

  it('after a killed server (stale server.json) status says not running and reset works', async (context) => {
    const { expect } = context;
    const { cli, home, env } = await setUp(context);
    const server = await cli.startServerProcess(env);
    const notice = await server.waitForLine(isNotice);
    expect(await server.stop('SIGKILL')).toMatchObject({ signal: 'SIGKILL' });
    expect(existsSync(path.join(home, 'server.json'))).toBe(true);
    const status = await cli.runCli(['status', '--json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject({ server: null, state: 'not running', session_id: notice.sessionId });
    const reset = await cli.runCli(['reset'], env);
    expect(reset.code).toBe(0);
    expect(await readStoredSessionValue(home)).toBeUndefined();
  });

  it('reset while a server runs asks that server (which owns the database) and it keeps running', async (context) => {
    const { expect } = context;
    const { cli, home, env } = await setUp(context);
    const server = await cli.startServerProcess(env);
    await server.waitForLine(isNotice);
    const reset = await cli.runCli(['reset'], env);
    expect(reset.code).toBe(0);
    expect(reset.stdout).toContain('Session forgotten');
    expect(await getJson(`${server.url}/api/health`)).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await server.stop()).toMatchObject({ code: 0 });
    expect(await readStoredSessionValue(home)).toBeUndefined();
  });

  it('reset makes the next start create a new session and log the notice again', async (context) => {
    const { expect } = context;
    const { cli, home, env } = await setUp(context);
    const first = await cli.startServerProcess(env);
    const firstNotice = await first.waitForLine(isNotice);
    await first.stop();

    const reset = await cli.runCli(['reset'], env);
    expect(reset.code).toBe(0);
    expect(await readStoredSessionValue(home)).toBeUndefined();
    expect((await cli.runCli(['reset'], env)).stdout).toContain('No session was stored');

    const second = await cli.startServerProcess(env);
    const secondNotice = await second.waitForLine(isNotice);
    expect(secondNotice.sessionId).toEqual(expect.any(String));
    expect(secondNotice.sessionId).not.toBe(firstNotice.sessionId);
    await second.stop();
  });
});
