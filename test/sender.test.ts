// The heartbeat POST against real node:http servers: wire format, failure reasons, timeouts, abort, dumping.
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { HeartbeatError, createSender, parseRetryAfter, type HeartbeatRequest } from '../src/actor/sender.js';
import { VERSION } from '../src/version.js';
import { LIMITS } from './harness/limits.js';
import { headersOnly, never, reply, startEndpoint, streamBytes, type TestEndpoint } from './helpers/endpoint.js';
import { freePort } from './harness/net.js';

const servers: TestEndpoint[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(...args: Parameters<typeof startEndpoint>) {
  const s = await startEndpoint(...args);
  servers.push(s);
  return s;
}

function heartbeatInput(endpoint: string, overrides: Partial<HeartbeatRequest> = {}): HeartbeatRequest {
  return {
    endpoint,
    timeoutSeconds: 5,
    source: 'telemetry_actor',
    environment: 'production',
    serverVersion: '0.1.0',
    apiVersion: '0.1.0',
    sessionId: '0b6a8f0e-5c1d-4b7a-9e2f-3d4c5b6a7f80',
    sessionStartTimestamp: '2026-11-27T18:00:00.000Z',
    ...overrides,
  };
}

/** Runs the send and returns the HeartbeatError it threw (fails the test if it resolved). */
async function sendFailure(promise: Promise<unknown>): Promise<HeartbeatError> {
  const error = await promise.then(
    (value) => {
      throw new Error(`expected a failure, got ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HeartbeatError);
  return error as HeartbeatError;
}

const send = createSender();

describe('sender: the request', () => {
  it('POSTs the documented headers and body', async () => {
    const s = await server(reply(202));
    const endpoint = `${s.origin}/api/collector`;
    const before = Date.now();
    const result = await send(heartbeatInput(endpoint));
    expect(result.statusCode).toBe(202);
    expect(result.startedAt).toBeGreaterThanOrEqual(before);
    expect(result.finishedAt).toBeGreaterThanOrEqual(result.startedAt);
    expect(s.requests).toHaveLength(1);
    const request = s.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/api/collector');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['x-telemetry-event']).toBe('telemetry_actor');
    expect(request.headers['user-agent']).toBe(`telemetry-actor/${VERSION}`);
    const body = JSON.parse(request.body) as Record<string, unknown> & { payload: Record<string, unknown> };
    expect(Object.keys(body).sort()).toEqual(['payload', 'source', 'type']);
    expect(body.source).toBe('telemetry_actor');
    expect(body.type).toBe('heartbeat');
    expect(Object.keys(body.payload).sort()).toEqual([
      'api_version',
      'architecture',
      'environment',
      'node_version',
      'platform',
      'runtime',
      'server_version',
      'session_id',
      'session_start_timestamp',
    ]);
    expect(body.payload).toEqual({
      platform: os.type() === 'Windows_NT' ? 'Windows' : os.type(),
      architecture: os.machine(),
      node_version: process.versions.node,
      runtime: 'node',
      environment: 'production',
      api_version: '0.1.0',
      server_version: '0.1.0',
      session_id: '0b6a8f0e-5c1d-4b7a-9e2f-3d4c5b6a7f80',
      session_start_timestamp: '2026-11-27T18:00:00.000Z',
    });
  });

  it('treats any 2xx as success', async () => {
    const s = await server(reply(204));
    expect((await send(heartbeatInput(s.origin))).statusCode).toBe(204);
  });
});

describe('sender: failures', () => {
  it('gives a short reason for HTTP 500', async () => {
    const s = await server(reply(500, 'oops'));
    const endpoint = `${s.origin}/api/collector?token=secret`;
    const error = await sendFailure(send(heartbeatInput(endpoint)));
    expect(error.reason).toBe(`HTTP 500 Internal Server Error from ${s.origin}/api/collector`);
    expect(error.statusCode).toBe(500);
    expect(error.retryAfterMs).toBeUndefined();
  });

  it('names ECONNREFUSED for a dead port', async () => {
    const port = await freePort();
    const error = await sendFailure(send(heartbeatInput(`http://127.0.0.1:${port}/api/collector`)));
    expect(error.reason).toContain('ECONNREFUSED');
    expect(error.reason).toContain(`http://127.0.0.1:${port}/api/collector`);
    expect(error.statusCode).toBeUndefined();
  });

  it('times out a server that never answers', async () => {
    const s = await server(never());
    const started = Date.now();
    const error = await sendFailure(send(heartbeatInput(`${s.origin}/c`, { timeoutSeconds: 0.5 })));
    // Generous (5 s): the 0.5 s timeout fired, not the 10 s default.
    expect(Date.now() - started).toBeLessThan(LIMITS.promptMs);
    expect(error.reason).toBe(`timed out after 0.5 s sending to ${s.origin}/c`);
  });

  it('times out when the headers come but the body never ends', async () => {
    const s = await server(headersOnly(200));
    const started = Date.now();
    const error = await sendFailure(send(heartbeatInput(`${s.origin}/c`, { timeoutSeconds: 0.5 })));
    // Generous (5 s): the 0.5 s timeout fired, not the 10 s default.
    expect(Date.now() - started).toBeLessThan(LIMITS.promptMs);
    expect(error.reason).toBe(`timed out after 0.5 s sending to ${s.origin}/c`);
  });

  it('does not follow a 302', async () => {
    const target = await server(reply(200));
    const s = await server(reply(302, '', { location: `${target.origin}/elsewhere` }));
    const error = await sendFailure(send(heartbeatInput(`${s.origin}/c`)));
    expect(error.reason).toBe(`HTTP 302 Found from ${s.origin}/c`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(target.requests).toHaveLength(0);
  });

  it('fails when the connection is cut in the middle of the body', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('only part of it');
      setTimeout(() => res.destroy(), 20);
    });
    const error = await sendFailure(send(heartbeatInput(`${s.origin}/c`)));
    expect(error.reason).toContain(`sending to ${s.origin}/c`);
    expect(error.reason).not.toContain('timed out');
  });

  it('reports the status of a non-2xx whose body never ends', async () => {
    const s = await server(headersOnly(410));
    const error = await sendFailure(send(heartbeatInput(`${s.origin}/c`, { timeoutSeconds: 0.5 })));
    expect(error.statusCode).toBe(410);
    expect(error.reason).toBe(`HTTP 410 Gone from ${s.origin}/c`);
  });

  it('reads Retry-After on a 503', async () => {
    const s = await server(reply(503, '', { 'retry-after': '120' }));
    const error = await sendFailure(send(heartbeatInput(s.origin)));
    expect(error.statusCode).toBe(503);
    expect(error.retryAfterMs).toBe(120_000);
  });
});

describe('sender: abort and large bodies', () => {
  it('closes the socket promptly when the signal aborts', async () => {
    const s = await server(never());
    const controller = new AbortController();
    const pending = send(heartbeatInput(`${s.origin}/c`, { timeoutSeconds: LIMITS.hangingTimeoutSeconds }), controller.signal);
    const [request] = await s.waitForRequests(1);
    const abortedAt = Date.now();
    controller.abort(new Error('telemetry.stop'));
    await expect(pending).rejects.toThrow('telemetry.stop');
    const closedAt = await request!.socketClosed;
    // Generous (30 s), far below the 120 s request timeout: the abort closed it, not the timeout.
    expect(closedAt - abortedAt).toBeLessThan(LIMITS.shutdownMs);
  });

  it('rejects at once with an already-aborted signal', async () => {
    const s = await server(reply(200));
    const controller = new AbortController();
    controller.abort(new Error('stopped before'));
    await expect(send(heartbeatInput(s.origin), controller.signal)).rejects.toThrow('stopped before');
    expect(s.requests).toHaveLength(0);
  });

  it.each([
    ['chunked', false],
    ['with content-length', true],
  ])('dumps a 20 MB body (%s) instead of buffering it', async (_how, contentLength) => {
    const total = 20 * 1024 * 1024;
    const progress = { written: 0 };
    const s = await server(streamBytes(total, progress, { contentLength }));
    // Buffers live outside the JS heap, so count both.
    const memory = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const before = memory();
    const started = Date.now();
    const result = await send(heartbeatInput(s.origin, { timeoutSeconds: 10 }));
    expect(result.statusCode).toBe(200);
    // Generous (5 s): dumped as it came, not left to the 10 s timeout.
    expect(Date.now() - started).toBeLessThan(LIMITS.promptMs);
    const [request] = s.requests;
    await request!.socketClosed; // the connection is dropped, not drained for reuse
    expect(progress.written).toBeLessThan(total);
    expect(memory() - before).toBeLessThan(15 * 1024 * 1024);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00.000Z');

  it('reads delay seconds', () => {
    expect(parseRetryAfter('30', now)).toBe(30_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter(['5', '9'], now)).toBe(5_000);
  });

  it('reads an HTTP date, never negative', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:30 GMT', now)).toBe(90_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
  });

  it('ignores missing or malformed values', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });
});
