// Fault matrix, endpoint side: the real server process against local endpoints that fail in every way we know.
import { spawnSync } from 'node:child_process';
import { afterAll, describe, test, type ExpectStatic } from 'vitest';
import {
  cleanupAll,
  makeTemp,
  rssKb,
  selfSignedCert,
  sleep,
  startRawServer,
  startServerProcess,
  startTlsServer,
  type ServerProcess,
} from './helpers/faultServer.js';
import { LIMITS } from './harness/limits.js';
import { headersOnly, never, reply, startEndpoint, streamBytes, type Handler } from './helpers/endpoint.js';
import { freePort, pollUntil } from './harness/net.js';

interface Telemetry {
  state: string;
  stop_reason: string | null;
  last_error: string | null;
  heartbeats_sent: number;
}

const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
  await cleanupAll();
});

/** A recording HTTP endpoint, closed after the file. */
async function endpoint(handler: Handler = reply(202)) {
  const server = await startEndpoint(handler);
  closers.push(() => server.close());
  return server;
}

const telemetryOf = (server: ServerProcess) => server.get<Telemetry>('/api/telemetry').then((r) => r.body);
const stopped = (t: Telemetry) => t.state === 'stopped';
const sent = (t: Telemetry) => t.state === 'waiting' && t.heartbeats_sent === 1;

/**
 * Starts the server against `url` and polls /api/telemetry until `until` holds. The request timeout is 10 s
 * unless a test sets one: a local answer on busy cores can take longer than 0.5 s, and then a test about an
 * HTTP 500 would see a timeout instead.
 */
async function run(url: string, until: (t: Telemetry) => boolean, vars: Record<string, string> = {}) {
  const timeout = String(LIMITS.requestMs / 1000);
  const server = await startServerProcess({ TELEMETRY_ENDPOINT: url, TELEMETRY_TIMEOUT_SECONDS: timeout, ...vars });
  const telemetry = await pollUntil(() => telemetryOf(server), { until });
  return { server, telemetry };
}

/** The contract's failure line: exactly one error, naming the reason, with no stack unless in debug mode. */
async function expectOneFailure(expect: ExpectStatic, server: ServerProcess, telemetry: Telemetry, reason: RegExp) {
  expect(telemetry).toMatchObject({ state: 'stopped', stop_reason: 'failed' });
  expect(telemetry.last_error).toMatch(reason);
  // The API can answer `stopped` before the log line written just before it has come through the stdout pipe.
  await server.waitForLine((line) => line.level >= 50);
  const errors = server.lines.filter((line) => line.level >= 50);
  expect(errors).toHaveLength(1);
  expect(errors[0]!.msg).toBe(`Failed to send telemetry: ${telemetry.last_error}. Shutting down telemetry service...`);
  expect(errors[0]!.err).toBeUndefined();
  expect(server.stdout()).not.toMatch(/"stack"|\n\s+at /);
}

/**
 * Whatever the fault: the API still answers, SIGTERM exits 0 (not killed), and nothing reached stderr.
 * How fast it exits is bench B3's figure; here the limit only tells an exit from a hang.
 */
async function expectServingThenCleanExit(expect: ExpectStatic, server: ServerProcess) {
  expect(await server.get('/api/health')).toEqual({ status: 200, body: { status: 'ok' } });
  const exit = await server.stop();
  expect(exit).toMatchObject({ code: 0, signal: null });
  // Generous (30 s): tells "exited" from "hung until the harness's SIGKILL"; 26-90 ms by hand.
  expect(exit.ms).toBeLessThan(LIMITS.shutdownMs);
  expect(server.stderr()).toBe('');
}

// The certificate is made at test time with openssl (never checked in); without openssl the test is skipped.
const hasOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;

const URL_PART = 'sending to http://127\\.0\\.0\\.1:\\d+/';

describe.concurrent('endpoint faults against the real server', () => {
  test('connection refused: one error line, stopped with failed', async ({ expect }) => {
    const { server, telemetry } = await run(`http://127.0.0.1:${await freePort()}/`, stopped);
    await expectOneFailure(expect, server, telemetry, new RegExp(`^ECONNREFUSED ${URL_PART}$`));
    await expectServingThenCleanExit(expect, server);
  });

  test('connection refused with TELEMETRY_DEBUG=true: the error line carries the stack', async ({ expect }) => {
    const { server } = await run(`http://127.0.0.1:${await freePort()}/`, stopped, { TELEMETRY_DEBUG: 'true' });
    await server.waitForLine((line) => line.level >= 50);
    const errors = server.lines.filter((line) => line.level >= 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toContain('Failed to send telemetry: ECONNREFUSED');
    expect(errors[0]!.err?.stack).toMatch(/HeartbeatError[\s\S]*\n\s+at /);
    await expectServingThenCleanExit(expect, server);
  });

  test('connection reset mid-response', async ({ expect }) => {
    const raw = await startRawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 1000\r\n\r\npartial');
      setTimeout(() => socket.resetAndDestroy(), 50);
    });
    closers.push(() => raw.close());
    const { server, telemetry } = await run(raw.url, stopped, { TELEMETRY_TIMEOUT_SECONDS: '10' });
    await expectOneFailure(expect, server, telemetry, new RegExp(`^(ECONNRESET|other side closed \\(UND_ERR_SOCKET\\)) ${URL_PART}$`));
    await expectServingThenCleanExit(expect, server);
  });

  test('accepted but never answered: the 0.5 s timeout fires', async ({ expect }) => {
    const raw = await startRawServer(() => {});
    closers.push(() => raw.close());
    const { server, telemetry } = await run(raw.url, stopped, { TELEMETRY_TIMEOUT_SECONDS: '0.5' });
    await expectOneFailure(expect, server, telemetry, new RegExp(`^timed out after 0.5 s ${URL_PART}$`));
    expect(raw.requests).toBe(1);
    await expectServingThenCleanExit(expect, server);
  });

  test('headers sent but the body never ends: a timeout, not a success', async ({ expect }) => {
    const target = await endpoint(headersOnly(200));
    const { server, telemetry } = await run(`${target.origin}/`, stopped, { TELEMETRY_TIMEOUT_SECONDS: '0.5' });
    await expectOneFailure(expect, server, telemetry, new RegExp(`^timed out after 0.5 s ${URL_PART}$`));
    expect(telemetry.heartbeats_sent).toBe(0);
    await expectServingThenCleanExit(expect, server);
  });

  test.for([
    [404, 'Not Found'],
    [500, 'Internal Server Error'],
    [503, 'Service Unavailable'],
    [429, 'Too Many Requests'],
  ] as const)('HTTP %i (Retry-After: 1, no retries): fails at once', async ([status, text], { expect }) => {
    const target = await endpoint(reply(status, 'nope', { 'retry-after': '1' }));
    const { server, telemetry } = await run(`${target.origin}/hb`, stopped);
    await expectOneFailure(expect, server, telemetry, new RegExp(`^HTTP ${status} ${text} from http://127\\.0\\.0\\.1:\\d+/hb$`));
    expect(target.requests).toHaveLength(1);
    await expectServingThenCleanExit(expect, server);
  });

  test('503 with Retry-After: 1 and TELEMETRY_RETRIES=2: two warnings a second apart, then one failure', async ({ expect }) => {
    const target = await endpoint(reply(503, '', { 'retry-after': '1' }));
    const { server, telemetry } = await run(`${target.origin}/`, stopped, { TELEMETRY_RETRIES: '2' });
    await expectOneFailure(expect, server, telemetry, /^HTTP 503 Service Unavailable from /);
    expect(target.requests).toHaveLength(3);
    const [a, b, c] = target.requests.map((r) => r.receivedAt);
    expect(b! - a!).toBeGreaterThanOrEqual(900);
    expect(c! - b!).toBeGreaterThanOrEqual(900);
    const warnings = server.lines.filter((line) => line.level === 40);
    expect(warnings.map((w) => [w.msg, w.attempt, w.delayMs, w.err])).toEqual([
      ['Failed to send telemetry; retrying', 1, 1000, undefined],
      ['Failed to send telemetry; retrying', 2, 1000, undefined],
    ]);
    await expectServingThenCleanExit(expect, server);
  });

  test('429 twice with Retry-After, then 202, with TELEMETRY_RETRIES=2: success after two warnings', async ({ expect }) => {
    const target = await endpoint(reply(202));
    target.script(reply(429, '', { 'retry-after': '1' }), reply(429, '', { 'retry-after': '0' }));
    const { server, telemetry } = await run(`${target.origin}/`, sent, { TELEMETRY_RETRIES: '2' });
    expect(telemetry).toMatchObject({ state: 'waiting', last_error: null, stop_reason: null });
    expect(target.requests).toHaveLength(3);
    expect(server.lines.filter((line) => line.level === 40)).toHaveLength(2);
    expect(server.lines.filter((line) => line.level >= 50)).toHaveLength(0);
    await expectServingThenCleanExit(expect, server);
  });

  test('Retry-After longer than the loop interval is capped at TELEMETRY_LOOP_SECONDS', async ({ expect }) => {
    const target = await endpoint(reply(202));
    target.script(reply(503, '', { 'retry-after': '3600' }));
    const { server } = await run(`${target.origin}/`, sent, { TELEMETRY_RETRIES: '1', TELEMETRY_LOOP_SECONDS: '1' });
    expect(server.lines.find((line) => line.level === 40)?.delayMs).toBe(1000);
    await expectServingThenCleanExit(expect, server);
  });

  test.for([301, 302, 307])('HTTP %i is not followed: the target receives nothing', async (status, { expect }) => {
    const target = await endpoint(reply(202));
    const redirect = await endpoint(reply(status, '', { location: `${target.origin}/moved` }));
    const { server, telemetry } = await run(`${redirect.origin}/`, stopped, { TELEMETRY_RETRIES: '0' });
    await expectOneFailure(expect, server, telemetry, new RegExp(`^HTTP ${status} \\w[\\w ]+ from `));
    await sleep(200);
    expect(target.requests).toHaveLength(0);
    await expectServingThenCleanExit(expect, server);
  });

  test('410 Gone stops with rejected, without a retry even with TELEMETRY_RETRIES=2', async ({ expect }) => {
    const target = await endpoint(reply(410));
    const { server, telemetry } = await run(`${target.origin}/`, stopped, { TELEMETRY_RETRIES: '2' });
    expect(telemetry).toMatchObject({ stop_reason: 'rejected', last_error: expect.stringMatching(/^HTTP 410 Gone from /) });
    await sleep(300);
    expect(target.requests).toHaveLength(1);
    const warnings = server.lines.filter((line) => line.level >= 40);
    expect(warnings.map((w) => [w.level, w.msg])).toEqual([[40, 'Telemetry endpoint answered 410 Gone. Shutting down telemetry service...']]);
    await expectServingThenCleanExit(expect, server);
  });

  test('a 50 MB response body is dumped: the server RSS stays flat', async ({ expect }) => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const progress = { written: 0 };
    const target = await endpoint(async (req, res, recorded) => {
      await gate;
      await streamBytes(50 * 1024 * 1024, progress)(req, res, recorded);
    });
    const server = await startServerProcess({ TELEMETRY_ENDPOINT: `${target.origin}/`, TELEMETRY_TIMEOUT_SECONDS: '10' });
    await target.waitForRequests(1, LIMITS.waitMs);
    const before = rssKb(server.pid);
    release();
    const telemetry = await pollUntil(() => telemetryOf(server), { until: sent });
    const after = rssKb(server.pid);
    expect(telemetry.last_error).toBeNull();
    expect(after - before).toBeLessThan(30 * 1024);
    expect(progress.written).toBeLessThan(50 * 1024 * 1024); // the connection was dropped, not drained
    await expectServingThenCleanExit(expect, server);
  });

  test('bytes that are not HTTP', async ({ expect }) => {
    const raw = await startRawServer((socket) => socket.end('SSH-2.0-OpenSSH_9.6\r\n\x00\x01garbage\r\n\r\n'));
    closers.push(() => raw.close());
    const { server, telemetry } = await run(raw.url, stopped);
    await expectOneFailure(expect, server, telemetry, new RegExp(`^Response does not match the HTTP/1\\.1 protocol \\(.+\\) ${URL_PART}$`));
    await expectServingThenCleanExit(expect, server);
  });

  test('an HTTP_PROXY that refuses connections: a failure, and the endpoint receives nothing', async ({ expect }) => {
    const target = await endpoint(reply(202));
    const proxy = `http://127.0.0.1:${await freePort()}/`;
    const { server, telemetry } = await run(`${target.origin}/`, stopped, { HTTP_PROXY: proxy });
    await expectOneFailure(expect, server, telemetry, new RegExp(`^ECONNREFUSED ${URL_PART}$`));
    expect(target.requests).toHaveLength(0);
    await expectServingThenCleanExit(expect, server);
  });

  test('a slow answer inside the timeout is a success', async ({ expect }) => {
    const target = await endpoint(async (req, res, recorded) => {
      await sleep(1_500);
      await reply(202)(req, res, recorded);
    });
    // 1.5 s of the 6 s allowed: a server on busy cores can add seconds between its timer starting and the reply.
    const { server, telemetry } = await run(`${target.origin}/`, sent, { TELEMETRY_TIMEOUT_SECONDS: '6' });
    expect(telemetry.last_error).toBeNull();
    expect(server.lines.filter((line) => line.level >= 40)).toHaveLength(0);
    await expectServingThenCleanExit(expect, server);
  });

  test('a host under .invalid resolves nowhere: the failure comes within the timeout', async ({ expect }) => {
    const { server, telemetry } = await run('http://telemetry.invalid/', stopped, { TELEMETRY_TIMEOUT_SECONDS: '1' });
    await expectOneFailure(expect, server, telemetry, /^(ENOTFOUND|EAI_AGAIN|timed out after 1 s) sending to http:\/\/telemetry\.invalid\/$/);
    await expectServingThenCleanExit(expect, server);
  });

  test.skipIf(!hasOpenssl)('https with a self-signed certificate: a TLS error (skipped without openssl)', async ({ expect }) => {
    const tls = selfSignedCert(await makeTemp());
    expect(tls).toBeDefined();
    const target = await startTlsServer(tls!);
    closers.push(() => target.close());
    const { server, telemetry } = await run(target.url, stopped, { TELEMETRY_TIMEOUT_SECONDS: '5' });
    await expectOneFailure(expect, server, telemetry, /^self[- ]signed certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\) sending to https:\/\/127\.0\.0\.1:\d+\/$/);
    expect(target.requests).toBe(0);
    await expectServingThenCleanExit(expect, server);
  });

  test('SIGTERM while a heartbeat hangs exits 0 and closes the socket, long before the heartbeat times out', async ({ expect }) => {
    const target = await endpoint(never());
    // The heartbeat's timeout (120 s) is 4x the shutdown limit: a server that waited for it cannot pass.
    const timeout = String(LIMITS.hangingTimeoutSeconds);
    const server = await startServerProcess({ TELEMETRY_ENDPOINT: `${target.origin}/`, TELEMETRY_TIMEOUT_SECONDS: timeout });
    const [request] = await target.waitForRequests(1, LIMITS.waitMs);
    expect((await telemetryOf(server)).state).toBe('sending');
    const stoppedAt = Date.now();
    await expectServingThenCleanExit(expect, server);
    // Generous (30 s), far below the 120 s heartbeat timeout: the socket was closed by the stop, not by the timeout.
    expect((await request!.socketClosed) - stoppedAt).toBeLessThan(LIMITS.shutdownMs);
    expect(server.lines.filter((line) => line.level >= 40)).toHaveLength(0);
  });
});
