// Each opt-out layer on its own, through the real CLI server: no socket to the endpoint, no session, the layer named.
import { describe, it, type TestContext } from 'vitest';
import { createCliSandbox, getJson, readStoredSessionValue, startCountingEndpoint, type CliEnv } from './helpers/cli.js';
import { LIMITS } from './harness/limits.js';
import { pollUntil } from './harness/net.js';

/** Several CLI processes one after another: only tells finished from hung (each step has its own limit). */
const MULTI_PROCESS_TEST_MS = LIMITS.testMs * 2;

interface Layer {
  name: string;
  env: CliEnv;
  args: string[];
  /** `status` has no --no-telemetry flag: with the server stopped it cannot know the flag was given. */
  statusWhenStopped: boolean;
}

const LAYERS: Layer[] = [
  { name: 'TELEMETRY_ENABLED', env: { TELEMETRY_ENABLED: 'false' }, args: [], statusWhenStopped: true },
  { name: 'PREFECT_SERVER_ANALYTICS_ENABLED', env: { PREFECT_SERVER_ANALYTICS_ENABLED: 'false' }, args: [], statusWhenStopped: true },
  { name: 'DO_NOT_TRACK', env: { DO_NOT_TRACK: '1' }, args: [], statusWhenStopped: true },
  { name: '--no-telemetry', env: {}, args: ['--no-telemetry'], statusWhenStopped: false },
];

// The floor of TELEMETRY_LOOP_SECONDS: the quiet window covers the first heartbeat (sent at once) with slack.
const LOOP_SECONDS = '1';
const QUIET_MS = 1_200;

async function setUp(context: TestContext) {
  const cli = createCliSandbox();
  const endpoint = await startCountingEndpoint(202);
  // Per test, since these run concurrently: a file-wide afterEach would kill the neighbours' servers.
  context.onTestFinished(async () => {
    await cli.cleanup();
    await endpoint.close();
  });
  const home = await cli.tempHome();
  const env: CliEnv = { TELEMETRY_HOME: home, TELEMETRY_ENDPOINT: endpoint.url, TELEMETRY_LOOP_SECONDS: LOOP_SECONDS };
  return { cli, endpoint, home, env };
}

describe.concurrent('opt-out layers', { timeout: MULTI_PROCESS_TEST_MS }, () => {
  for (const layer of LAYERS) {
    it(`${layer.name} alone: no connection, no session, state disabled, the layer named`, async (context) => {
      const { expect } = context;
      const { cli, endpoint, home, env } = await setUp(context);
      const server = await cli.startServerProcess({ ...env, ...layer.env }, { args: layer.args });
      await new Promise((resolve) => setTimeout(resolve, QUIET_MS));

      const telemetry = (await getJson(`${server.url}/api/telemetry`)).body;
      expect(telemetry).toMatchObject({ enabled: false, disabled_by: layer.name, state: 'disabled', session_id: null, heartbeats_sent: 0 });
      const services = (await getJson(`${server.url}/api/services`)).body;
      expect(services).toEqual([expect.objectContaining({ name: 'telemetry', state: 'disabled', disabled_by: layer.name })]);
      expect(server.lines.some((line) => line.msg.startsWith('Telemetry is off') && line.disabledBy === layer.name)).toBe(true);
      expect(server.lines.some((line) => line.msg.startsWith('Anonymous telemetry is on'))).toBe(false);

      const live = await cli.runCli(['status', '--json'], { ...env, ...layer.env });
      expect(live.code).toBe(0);
      expect(JSON.parse(live.stdout)).toMatchObject({ server: server.url, state: 'disabled', disabled_by: layer.name });

      expect(await server.stop()).toMatchObject({ code: 0 });
      expect(endpoint.connections()).toBe(0);
      expect(endpoint.requests).toHaveLength(0);
      expect(await readStoredSessionValue(home)).toBeUndefined();

      if (layer.statusWhenStopped) {
        const stored = await cli.runCli(['status', '--json'], { ...env, ...layer.env });
        expect(stored.code).toBe(0);
        expect(JSON.parse(stored.stdout)).toMatchObject({ server: null, state: 'disabled', enabled: false, disabled_by: layer.name });
        const human = await cli.runCli(['status'], { ...env, ...layer.env });
        expect(human.stdout).toContain(`off (turned off by ${layer.name})`);
      }
    });
  }

  // The control: the same set-up with no opt-out does reach the endpoint, so the silence above means something.
  it('control: with no opt-out the same endpoint gets heartbeats and a session is written', async (context) => {
    const { expect } = context;
    const { cli, endpoint, home, env } = await setUp(context);
    const server = await cli.startServerProcess(env);
    await pollUntil(() => endpoint.requests.length >= 2);
    expect(endpoint.connections()).toBeGreaterThanOrEqual(1);
    expect(await server.stop()).toMatchObject({ code: 0 });
    expect(JSON.parse((await readStoredSessionValue(home)) ?? 'null')).toMatchObject({ session_id: expect.any(String) });
  });

  it('an opt-out word in DO_NOT_TRACK (DO_NOT_TRACK=0) keeps telemetry on', async (context) => {
    const { expect } = context;
    const { cli, env } = await setUp(context);
    const status = await cli.runCli(['status', '--json'], { ...env, DO_NOT_TRACK: '0' });
    expect(JSON.parse(status.stdout)).toMatchObject({ enabled: true, disabled_by: null, state: 'not running' });
  });
});
