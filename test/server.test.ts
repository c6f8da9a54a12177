// The reference server as users run it: the built CLI as a child process, real signals, LevelDB and HTTP.
import { connect, createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { never, reply, startEndpoint, type TestEndpoint } from './helpers/endpoint.js';
import { createCliSandbox, getJson, readStoredSessionValue, type CliSandbox } from './helpers/cli.js';
import { LIMITS } from './harness/limits.js';
import { listenLocal, pollUntil } from './harness/net.js';

/** Several CLI processes one after another: only tells finished from hung (each step has its own limit). */
const MULTI_PROCESS_TEST_MS = LIMITS.testMs * 2;

const TELEMETRY_FIELDS = [
  'enabled',
  'disabled_by',
  'state',
  'session_id',
  'session_start_timestamp',
  'heartbeats_sent',
  'last_sent_at',
  'last_sent_by',
  'next_run_at',
  'last_error',
  'stop_reason',
  'endpoint',
].sort();

const isNotice = (line: { msg: string }) => line.msg.startsWith('Anonymous telemetry is on');

let cli: CliSandbox;
beforeEach(() => {
  cli = createCliSandbox();
});
afterEach(async () => {
  await cli.cleanup();
});

async function stats(url: string): Promise<{ heartbeats_total: number; sessions_total: number }> {
  return (await getJson(`${url}/api/collector/stats`)).body as { heartbeats_total: number; sessions_total: number };
}

describe('telemetry-actor server', { timeout: MULTI_PROCESS_TEST_MS }, () => {
  it('reports to its own collector, serves the API, exits 0 on SIGTERM and keeps its session across a restart', async () => {
    const home = await cli.tempHome();
    const env = { TELEMETRY_HOME: home, TELEMETRY_LOOP_SECONDS: '1' };
    const first = await cli.startServerProcess(env);
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    await pollUntil(async () => (await stats(first.url)).heartbeats_total >= 2);
    const telemetry = await getJson(`${first.url}/api/telemetry`);
    expect(telemetry.status).toBe(200);
    expect(telemetry.headers.get('content-type')).toBe('application/json');
    const status = telemetry.body as Record<string, unknown>;
    expect(Object.keys(status).sort()).toEqual(TELEMETRY_FIELDS);
    expect(status).toMatchObject({ enabled: true, disabled_by: null, last_error: null, stop_reason: null });
    expect(status.endpoint).toBe(`${first.url}/api/collector`);
    expect(status.session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(status.heartbeats_sent).toBeGreaterThanOrEqual(2);
    expect(['sending', 'waiting']).toContain(status.state);

    expect(await getJson(`${first.url}/api/health`)).toMatchObject({ status: 200, body: { status: 'ok' } });
    const services = await getJson(`${first.url}/api/services`);
    expect(services.status).toBe(200);
    expect(services.body).toEqual([expect.objectContaining({ name: 'telemetry', state: expect.stringMatching(/^(sending|waiting)$/) })]);

    const missing = await getJson(`${first.url}/api/nope`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/json');
    expect(missing.body).toMatchObject({ error: expect.any(String) });
    const wrong = await fetch(`${first.url}/api/health`, { method: 'DELETE' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET');
    expect(await wrong.json()).toMatchObject({ error: expect.stringContaining('DELETE') });

    expect(first.lines.filter(isNotice)).toHaveLength(1);
    const counted = (await stats(first.url)).heartbeats_total;
    expect(await first.stop('SIGTERM')).toMatchObject({ code: 0, signal: null });
    expect(first.stderr()).toBe('');

    const second = await cli.startServerProcess(env);
    await pollUntil(async () => ((await getJson(`${second.url}/api/telemetry`)).body as { heartbeats_sent: number }).heartbeats_sent >= 1);
    const after = (await getJson(`${second.url}/api/telemetry`)).body as Record<string, unknown>;
    expect(after.session_id).toBe(status.session_id);
    expect(after.session_start_timestamp).toBe(status.session_start_timestamp);
    expect(second.lines.filter(isNotice)).toHaveLength(0);
    // The collector's totals survived the restart, and the same session counts once.
    const afterRestart = await stats(second.url);
    expect(afterRestart.heartbeats_total).toBeGreaterThan(counted);
    expect(afterRestart.sessions_total).toBe(1);
    expect(await second.stop('SIGINT')).toMatchObject({ code: 0 });
  });

  describe('with an endpoint that never answers', () => {
    let endpoint: TestEndpoint;
    beforeEach(async () => {
      endpoint = await startEndpoint(never());
    });
    afterEach(async () => {
      await endpoint.close();
    });

    it('still exits 0 on SIGTERM and closes the socket to the endpoint, without waiting for the heartbeat', async () => {
      const home = await cli.tempHome();
      const server = await cli.startServerProcess({
        TELEMETRY_HOME: home,
        TELEMETRY_ENDPOINT: `${endpoint.origin}/api/collector`,
        TELEMETRY_TIMEOUT_SECONDS: String(LIMITS.hangingTimeoutSeconds),
      });
      const [request] = await endpoint.waitForRequests(1);
      expect(((await getJson(`${server.url}/api/telemetry`)).body as { state: string }).state).toBe('sending');
      // The collector is off when an endpoint is set: only the status API is served.
      expect((await getJson(`${server.url}/api/collector/stats`)).status).toBe(404);

      // A client stalled half-way through its request headers must not hold the exit either.
      const stalled = connect(Number(new URL(server.url).port), '127.0.0.1');
      stalled.on('error', () => {});
      await new Promise((resolve) => stalled.once('connect', resolve));
      stalled.write('GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      const stalledClosed = new Promise((resolve) => stalled.once('close', resolve));

      const stopped = await server.stop('SIGTERM');
      expect(stopped.code).toBe(0);
      // Generous (30 s), far below the 120 s heartbeat timeout: it did not wait for it. Bench B3 has the figure.
      expect(stopped.ms).toBeLessThan(LIMITS.shutdownMs);
      const closedAt = await Promise.race([request!.socketClosed, new Promise<string>((r) => setTimeout(() => r('open'), LIMITS.shutdownMs))]);
      expect(closedAt).not.toBe('open');
      await stalledClosed;
    });
  });

  it('a failing endpoint stops telemetry with one error line; the server keeps serving and exits 0', async () => {
    const endpoint = await startEndpoint(reply(500));
    try {
      const home = await cli.tempHome();
      const server = await cli.startServerProcess({ TELEMETRY_HOME: home, TELEMETRY_ENDPOINT: `${endpoint.origin}/hb` });
      const failure = await server.waitForLine((line) => line.msg.startsWith('Failed to send telemetry'));
      expect(failure.msg).toContain(`HTTP 500 Internal Server Error from ${endpoint.origin}/hb`);
      await pollUntil(async () => ((await getJson(`${server.url}/api/telemetry`)).body as { state: string }).state === 'stopped');
      expect((await getJson(`${server.url}/api/telemetry`)).body).toMatchObject({
        stop_reason: 'failed',
        heartbeats_sent: 0,
        last_error: expect.stringContaining('HTTP 500'),
      });
      expect(await getJson(`${server.url}/api/health`)).toMatchObject({ status: 200 });
      expect(endpoint.requests).toHaveLength(1);
      expect(server.lines.filter((line) => line.level === 50)).toHaveLength(1);
      expect(await server.stop()).toMatchObject({ code: 0 });
    } finally {
      await endpoint.close();
    }
  });

  it('a second server on the same TELEMETRY_HOME exits 1 with one clear line; the first keeps running', async () => {
    const home = await cli.tempHome();
    const first = await cli.startServerProcess({ TELEMETRY_HOME: home });
    const second = await cli.runCli(['server'], { TELEMETRY_HOME: home });
    expect(second.code).toBe(1);
    const lines = second.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('in use by the telemetry-actor server at');
    expect(lines[0]).toContain(first.url);
    expect(await getJson(`${first.url}/api/health`)).toMatchObject({ status: 200 });
    // The loser must not remove the winner's server.json: status still finds the running server.
    const status = await cli.runCli(['status', '--json'], { TELEMETRY_HOME: home });
    expect(JSON.parse(status.stdout)).toMatchObject({ server: first.url });
    expect(await first.stop()).toMatchObject({ code: 0 });
  });

  it('a port in use exits 1 with one clear line naming the port', async () => {
    const blocker = createServer();
    const port = await listenLocal(blocker);
    try {
      const home = await cli.tempHome();
      const result = await cli.runCli(['server'], { TELEMETRY_HOME: home, TELEMETRY_PORT: String(port) });
      expect(result.code).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`Port ${port}`);
      expect(lines[0]).toContain('already in use');
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('serves the collector: 202, 400, 413 and 415, with stats that survive a restart', async () => {
    const home = await cli.tempHome();
    // Telemetry off, so the only heartbeats counted are the ones posted here; floor 1, so one session shows.
    const env = { TELEMETRY_HOME: home, TELEMETRY_ENABLED: 'false', TELEMETRY_PRIVACY_MIN_SESSIONS: '1' };
    const first = await cli.startServerProcess(env);
    const post = (body: string, type = 'application/json') =>
      fetch(`${first.url}/api/collector`, { method: 'POST', headers: { 'content-type': type }, body });
    const heartbeat = {
      source: 'telemetry_actor',
      type: 'heartbeat',
      payload: { platform: 'Linux', environment: 'staging', server_version: '9.9.9', session_id: crypto.randomUUID(), session_start_timestamp: new Date().toISOString() },
    };
    // Off, yet the status names the collector actually listening (not the port 0 it was asked for).
    expect((await getJson(`${first.url}/api/telemetry`)).body).toMatchObject({ state: 'disabled', endpoint: `${first.url}/api/collector` });
    expect((await post(JSON.stringify(heartbeat))).status).toBe(202);
    const bad = await post(JSON.stringify({ ...heartbeat, type: 'ping' }));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ field: 'type' });
    expect((await post('x'.repeat(17 * 1024))).status).toBe(413);
    expect((await post(JSON.stringify(heartbeat), 'text/plain')).status).toBe(415);
    expect(await stats(first.url)).toMatchObject({ heartbeats_total: 1, sessions_total: 1, by_environment: { staging: 1 } });
    expect(await first.stop()).toMatchObject({ code: 0 });

    const second = await cli.startServerProcess(env);
    expect(await stats(second.url)).toMatchObject({ heartbeats_total: 1, sessions_total: 1, by_server_version: { '9.9.9': 1 } });
    // Telemetry off wrote no session, even with the database open and the collector writing to it.
    await second.stop();
    expect(await readStoredSessionValue(home)).toBeUndefined();
  });
});
