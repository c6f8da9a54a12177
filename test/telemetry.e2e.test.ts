// End to end: createTelemetryMachine with a real LevelDB, a real HTTP server and real time.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActor, toPromise, type AnyActorRef } from 'xstate';
import type { TelemetryInput } from '../machines/telemetryMachine.js';
import { createLevelSessionStore } from '../src/stores/level/sessionStore.js';
import { createTelemetryMachine } from '../src/actor/createTelemetryMachine.js';
import { never, reply, startEndpoint, type TestEndpoint } from './helpers/endpoint.js';
import { captureLogs, type LogCapture } from './helpers/logs.js';
import { telemetryInput } from './helpers/fixtures.js';
import { LIMITS } from './harness/limits.js';
import { openTempDb, type TempDb } from './helpers/tempDb.js';
import { pollUntil } from './harness/net.js';

let temp: TempDb;
let server: TestEndpoint;
let logs: LogCapture;
const actors: AnyActorRef[] = [];

beforeEach(async () => {
  temp = await openTempDb();
  server = await startEndpoint(reply(202));
  logs = captureLogs('debug');
});
afterEach(async () => {
  for (const actor of actors.splice(0)) actor.stop();
  await server.close();
  await temp.cleanup();
});

const input = (overrides: Partial<TelemetryInput> = {}): TelemetryInput => telemetryInput(`${server.origin}/api/collector`, overrides);

function start(overrides: Partial<TelemetryInput> = {}, debug = false) {
  const machine = createTelemetryMachine({ db: temp.db, logger: logs.logger, debug });
  const actor = createActor(machine, { input: input(overrides) });
  actors.push(actor);
  actor.start();
  actor.send({ type: 'telemetry.start' });
  return actor;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('telemetry end to end', () => {
  it('sends the first heartbeat at once, with the stored session', async () => {
    const started = Date.now();
    const actor = start();
    const [request] = await server.waitForRequests(1);
    // Generous (20 s): at once, not after loopSeconds (600 s).
    expect(request!.receivedAt - started).toBeLessThan(LIMITS.waitMs);
    const stored = await createLevelSessionStore(temp.db).read();
    const body = JSON.parse(request!.body) as { payload: { session_id: string; session_start_timestamp: string } };
    expect(body.payload.session_id).toBe(stored!.session_id);
    expect(body.payload.session_start_timestamp).toBe(stored!.session_start_timestamp);
    await pollUntil(() => actor.getSnapshot().value === 'waiting');
    expect(actor.getSnapshot().context.heartbeatsSent).toBe(1);
    expect(logs.withMessage('Anonymous telemetry is on')).toHaveLength(1);
    actor.send({ type: 'telemetry.stop' });
    expect(await toPromise(actor)).toEqual({ stopReason: 'requested', heartbeatsSent: 1, lastError: null });
  });

  it('reuses the session on the next start, without the notice', async () => {
    const first = start({ maxLoops: 1 });
    await toPromise(first);
    await temp.reopen();
    const second = start({ maxLoops: 1 });
    expect(await toPromise(second)).toEqual({ stopReason: 'completed', heartbeatsSent: 1, lastError: null });
    const ids = server.requests.map((r) => (JSON.parse(r.body) as { payload: { session_id: string } }).payload.session_id);
    expect(ids).toHaveLength(2);
    expect(ids[1]).toBe(ids[0]);
    expect(logs.withMessage('Anonymous telemetry is on')).toHaveLength(1);
  });

  it('keeps a fixed rate until maxLoops', async () => {
    const actor = start({ loopSeconds: 0.2, maxLoops: 3 });
    expect(await toPromise(actor)).toEqual({ stopReason: 'completed', heartbeatsSent: 3, lastError: null });
    expect(server.requests).toHaveLength(3);
    const gap = server.requests[2]!.receivedAt - server.requests[1]!.receivedAt;
    expect(gap).toBeGreaterThanOrEqual(150);
  });

  it('stops the service on the first 500, with one error line and no stack', async () => {
    server.setDefault(reply(500));
    const actor = start({ loopSeconds: 0.2 });
    const output = await toPromise(actor);
    await sleep(1_000); // a loop that kept going would send again within this second
    expect(server.requests).toHaveLength(1);
    expect(output.stopReason).toBe('failed');
    expect(output.lastError).toBe(`HTTP 500 Internal Server Error from ${server.origin}/api/collector`);
    const errors = logs.at('error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toContain('Failed to send telemetry');
    expect(errors[0]!.msg).toContain('500');
    expect(errors[0]!.msg).toContain('Shutting down telemetry service');
    expect(errors[0]!.component).toBe('telemetry');
    expect(JSON.stringify(errors[0])).not.toContain('.ts:'); // no stack frames
    expect(errors[0]!.err).toBeUndefined();
  });

  it('puts the stack in the error line in debug mode', async () => {
    server.setDefault(reply(500));
    const output = await toPromise(start({ loopSeconds: 0.2 }, true));
    expect(output.stopReason).toBe('failed');
    const errors = logs.at('error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toContain('Failed to send telemetry');
    expect(errors[0]!.err?.stack).toContain('HeartbeatError');
  });

  it('retries after a 503 honouring Retry-After, with one warning and no error', async () => {
    server.script(reply(503, '', { 'retry-after': '0' }));
    const actor = start({ retries: 1 });
    await server.waitForRequests(2);
    await pollUntil(() => actor.getSnapshot().context.heartbeatsSent === 1);
    expect(actor.getSnapshot().value).toBe('waiting');
    expect(actor.getSnapshot().context.consecutiveFailures).toBe(0);
    const warnings = logs.withMessage('retrying');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ attempt: 1, retries: 1, delayMs: 0, statusCode: 503 });
    expect(logs.at('error')).toHaveLength(0);
  });

  it('stops mid-request at once, closing the socket', async () => {
    server.setDefault(never());
    const actor = start({ timeoutSeconds: LIMITS.hangingTimeoutSeconds });
    const [request] = await server.waitForRequests(1);
    const stoppedAt = Date.now();
    actor.send({ type: 'telemetry.stop' });
    expect(await toPromise(actor)).toEqual({ stopReason: 'requested', heartbeatsSent: 0, lastError: null });
    // Generous (30 s), far below the 120 s request timeout: the stop closed it, not the timeout.
    expect((await request!.socketClosed) - stoppedAt).toBeLessThan(LIMITS.shutdownMs);
    expect(logs.at('error')).toHaveLength(0);
  });
});
