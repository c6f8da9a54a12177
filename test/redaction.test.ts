// One redaction rule, everywhere: secrets fed through every setting that takes a URL never reach any output.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'undici';
import { redactUrl, redactUrlsIn, redactValue } from '../src/redact.js';
import { startBridge } from '../src/server/inspect/bridge.js';
import { createCliSandbox, getJson, startCountingEndpoint, type CliSandbox, type ServerProcess } from './helpers/cli.js';
import { captureLogs } from './helpers/logs.js';
import { LIMITS } from './harness/limits.js';
import { freePort, pollUntil } from './harness/net.js';

// Distinctive enough that no honest output contains them by chance.
const PASSWORD = 'pwS3cr3tXq';
const TOKEN = 'tokS3cr3tZk';
const SECRETS = [PASSWORD, TOKEN];

let cli: CliSandbox;
const cleanups: Array<() => unknown> = [];
beforeEach(() => {
  cli = createCliSandbox();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await cli.cleanup();
});

/** `scheme://user:<password>@127.0.0.1:<port><path>?token=<token>` */
const secretUrl = (scheme: string, port: number, path = '/') => `${scheme}://user:${PASSWORD}@127.0.0.1:${port}${path}?token=${TOKEN}`;

/** Leaks per channel: how many lines or messages of each channel hold a secret (only channels that leak). */
const leaks: Record<string, number> = {};
function check(channel: string, texts: string[]): void {
  const count = texts.filter((text) => SECRETS.some((secret) => text.includes(secret))).length;
  if (count > 0) leaks[channel] = (leaks[channel] ?? 0) + count;
}

/** A real WebSocket viewer of the bridge, keeping every message as the text that arrived. */
function viewer(url: string): { messages: string[]; opened: Promise<boolean> } {
  const messages: string[] = [];
  const ws = new WebSocket(url);
  ws.addEventListener('message', (message) => messages.push(String(message.data)));
  const opened = new Promise<boolean>((resolve) => {
    ws.addEventListener('open', () => resolve(true));
    ws.addEventListener('close', () => resolve(false));
  });
  cleanups.push(() => ws.close());
  return { messages, opened };
}

async function apiChannels(server: ServerProcess, env: Record<string, string>, label: string): Promise<void> {
  check(`${label} GET /api/telemetry`, [JSON.stringify((await getJson(`${server.url}/api/telemetry`)).body)]);
  check(`${label} GET /api/services`, [JSON.stringify((await getJson(`${server.url}/api/services`)).body)]);
  const json = await cli.runCli(['status', '--json'], env);
  check(`${label} status --json (live)`, [json.stdout, json.stderr]);
  const human = await cli.runCli(['status'], env);
  check(`${label} status (live)`, [human.stdout, human.stderr]);
}

async function stopAndCheck(server: ServerProcess, env: Record<string, string>, label: string): Promise<void> {
  expect(await server.stop('SIGTERM')).toMatchObject({ code: 0 });
  check(`${label} stdout log lines (debug level)`, server.lines.map((line) => JSON.stringify(line)));
  check(`${label} stderr`, [server.stderr()]);
  const stored = await cli.runCli(['status', '--json'], env);
  check(`${label} status --json (stored)`, [stored.stdout, stored.stderr]);
}

describe('no secret in a URL setting reaches any output', { timeout: 2 * LIMITS.testMs }, () => {
  it('TELEMETRY_ENDPOINT, TELEMETRY_INSPECT, HTTPS_PROXY and HTTP_PROXY with user:pw@ and a query token', async () => {
    // 1. Endpoint and inspector URL with secrets; the inspector is a real bridge watched by a real viewer.
    const endpoint = await startCountingEndpoint(202);
    cleanups.push(() => endpoint.close());
    const port = await freePort();
    const bridge = await startBridge(port, captureLogs().logger);
    cleanups.push(() => bridge.close());
    const view = viewer(bridge.websocketUrl);
    expect(await view.opened).toBe(true);
    const home = await cli.tempHome();
    const endpointPort = Number(new URL(endpoint.url).port);
    const env = {
      TELEMETRY_HOME: home,
      TELEMETRY_ENDPOINT: secretUrl('http', endpointPort, '/api/collector'),
      TELEMETRY_INSPECT: secretUrl('ws', port),
      TELEMETRY_LOG_LEVEL: 'debug',
      TELEMETRY_DEBUG: 'true',
    };
    const server = await cli.startServerProcess(env);
    await pollUntil(() => view.messages.some((m) => m.includes('"waiting"') || m.includes('"stopped"')));
    await apiChannels(server, env, 'endpoint+inspect:');
    await stopAndCheck(server, env, 'endpoint+inspect:');
    check('inspector messages', view.messages);
    expect(view.messages.length).toBeGreaterThan(10);

    // 2. Proxies with secrets (refused: the failure reason is one more channel), an inspector nobody answers.
    const home2 = await cli.tempHome();
    const refused = await freePort();
    const env2 = {
      TELEMETRY_HOME: home2,
      TELEMETRY_ENDPOINT: endpoint.url,
      TELEMETRY_INSPECT: secretUrl('ws', await freePort()),
      HTTPS_PROXY: secretUrl('http', refused),
      HTTP_PROXY: secretUrl('http', refused),
      TELEMETRY_LOG_LEVEL: 'debug',
      TELEMETRY_DEBUG: 'true',
    };
    const server2 = await cli.startServerProcess(env2);
    await pollUntil(async () => ((await getJson(`${server2.url}/api/telemetry`)).body as { state: string }).state === 'stopped');
    expect(server2.lines.some((line) => line.msg.startsWith('Inspector not reachable'))).toBe(true);
    await apiChannels(server2, env2, 'proxy:');
    await stopAndCheck(server2, env2, 'proxy:');

    // 3. Settings errors (exit 2) echo the value: never its secrets, URL or not.
    const bad: Record<string, string> = {
      HTTPS_PROXY: `user:${PASSWORD}@127.0.0.1:8080`,
      HTTP_PROXY: `ftp://user:${PASSWORD}@127.0.0.1:8080/?token=${TOKEN}`,
      TELEMETRY_ENDPOINT: `ftp://user:${PASSWORD}@127.0.0.1/x?token=${TOKEN}`,
      TELEMETRY_INSPECT: `wss//user:${PASSWORD}@127.0.0.1?key=${TOKEN}`,
    };
    for (const [name, value] of Object.entries(bad)) {
      const result = await cli.runCli(['server'], { TELEMETRY_HOME: home2, [name]: value });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(name);
      check(`settings error ${name}`, [result.stdout, result.stderr]);
    }

    expect(leaks).toEqual({});
  });
});

describe('the rule itself (src/redact.ts)', () => {
  it.each([
    ['http://user:pw@127.0.0.1:8080/api?token=t', 'http://127.0.0.1:8080/api'],
    ['ws://127.0.0.1:4242', 'ws://127.0.0.1:4242/'],
    // A scheme-less proxy value parses as scheme `user:` with the password in its path: not a URL with a host.
    ['user:pw@127.0.0.1:8080', '<invalid URL>'],
    ['not a url', '<invalid URL>'],
  ])('redactUrl(%s) = %s', (input, shown) => {
    expect(redactUrl(input)).toBe(shown);
  });

  it('redactUrlsIn: every URL with a secret in a text, others left exactly as written', () => {
    expect(redactUrlsIn('ECONNREFUSED sending to http://u:p@127.0.0.1:9/x?k=v. Shutting down')).toBe(
      'ECONNREFUSED sending to http://127.0.0.1:9/x Shutting down',
    );
    expect(redactUrlsIn('see http://127.0.0.1:9 and http://127.0.0.1:9/a?b=c')).toBe('see http://127.0.0.1:9 and http://127.0.0.1:9/a');
    expect(redactUrlsIn('{"endpoint":"http://u:p@h/x?t=1"}')).toBe('{"endpoint":"http://h/x"}');
    expect(redactUrlsIn('no url at all')).toBe('no url at all');
  });

  it('redactValue: malformed and scheme-less values lose their userinfo and query too', () => {
    expect(redactValue('user:pw@127.0.0.1:8080')).toBe('<redacted>@127.0.0.1:8080');
    expect(redactValue('wss//user:pw@127.0.0.1?key=t')).toBe('<redacted>@127.0.0.1?<redacted>');
    expect(redactValue('ftp://user:pw@127.0.0.1/x?token=t')).toBe('ftp://127.0.0.1/x');
  });
});
