// The pure telemetry statechart with fake actors (named as fakes) and a SimulatedClock: states, timing, stop, retries.
import { afterEach, describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { failureOf, retryDelayMs, telemetryMachine } from '../machines/telemetryMachine.js';
import { createMachineFakes, fakeFailure, fakeSession, machineInput, settle } from './helpers/machineFakes.js';
import { T0, advance, fail, startAndLoad, startMachine, stateOf as state, stopAllMachines, succeed, type Harness } from './helpers/machineHarness.js';

/** The first retry's backoff cap (the machine's BACKOFF_BASE_MS); each next one doubles. */
const FIRST_BACKOFF_MS = 1_000;

afterEach(stopAllMachines);

describe('telemetry machine: schedule', () => {
  it('goes idle -> loadingSession -> sending -> waiting -> sending', async () => {
    const h = startMachine();
    expect(state(h)).toBe('idle');
    expect(h.fakes.loads).toHaveLength(0);
    await startAndLoad(h, fakeSession(true));
    expect(h.fakes.sends).toHaveLength(1);
    expect(h.fakes.sends[0]!.startedAt).toBe(T0); // the first heartbeat goes at once
    await succeed(h, h.fakes.sends[0]!, 100);
    await advance(h, 10_000);
    expect(h.states).toEqual(['idle', 'loadingSession', 'sending', 'waiting', 'sending']);
    expect(h.logged.newSession).toHaveLength(1);
    expect(h.fakes.loads).toHaveLength(1); // loaded once per actor
    expect(h.errors).toEqual([]);
  });

  it('passes the settings to sendHeartbeat; a new heartbeat resends nothing (the send reads the session stored now)', async () => {
    const h = startMachine({ environment: 'staging' });
    await startAndLoad(h);
    const { input } = h.fakes.sends[0]!;
    expect(input).toEqual({
      endpoint: 'http://127.0.0.1:9/api/collector',
      loopSeconds: 10,
      timeoutSeconds: 5,
      source: 'telemetry_actor',
      environment: 'staging',
      serverVersion: '0.1.0',
      apiVersion: '0.1.0',
      attempt: 0,
      resend: null,
    });
    expect(h.actor.getSnapshot().context).toMatchObject({
      sessionId: fakeSession().session_id,
      sessionStartTimestamp: fakeSession().session_start_timestamp,
    });
    expect(h.logged.newSession).toHaveLength(0); // an existing session gives no notice
  });

  it('is fixed-rate: a 3 s send with loopSeconds 10 is followed 7 s later', async () => {
    const h = startMachine({ loopSeconds: 10 });
    await startAndLoad(h);
    await succeed(h, h.fakes.sends[0]!, 3_000);
    const snapshot = h.actor.getSnapshot().context;
    expect(state(h)).toBe('waiting');
    expect(snapshot.heartbeatsSent).toBe(1);
    expect(snapshot.lastSentAt).toBe(new Date(T0).toISOString());
    expect(snapshot.nextRunAt).toBe(new Date(T0 + 10_000).toISOString());
    await advance(h, 6_999);
    expect(h.fakes.sends).toHaveLength(1);
    expect(state(h)).toBe('waiting');
    await advance(h, 1);
    expect(h.fakes.sends).toHaveLength(2);
    expect(h.fakes.sends[1]!.startedAt - h.fakes.sends[0]!.startedAt).toBe(10_000);
    expect(h.logged.overrun).toHaveLength(0);
  });

  it('records a peer replica\'s heartbeat without counting it, and checks again when the peer\'s lease would go stale', async () => {
    const h = startMachine({ loopSeconds: 10, maxLoops: 1 });
    await startAndLoad(h);
    // A peer sent 4 s ago; its lease goes stale 10 s + 5 s (timeout) after that: 11 s from now.
    h.fakes.sends[0]!.resolve({ statusCode: 0, sentBy: 'peer', startedAt: T0 - 4_000, finishedAt: T0, nextDueAt: T0 + 11_000 });
    await settle();
    let context = h.actor.getSnapshot().context;
    expect(state(h)).toBe('waiting'); // maxLoops counts this replica's own heartbeats only
    expect(context).toMatchObject({ heartbeatsSent: 0, lastSentBy: 'peer', lastSentAt: new Date(T0 - 4_000).toISOString() });
    expect(context.nextRunAt).toBe(new Date(T0 + 11_000).toISOString());
    expect(h.logged.overrun).toHaveLength(0);
    await advance(h, 10_999);
    expect(h.fakes.sends).toHaveLength(1);
    await advance(h, 1);
    expect(h.fakes.sends).toHaveLength(2);
    await succeed(h, h.fakes.sends[1]!, 100);
    context = h.actor.getSnapshot().context;
    expect(context).toMatchObject({ heartbeatsSent: 1, lastSentBy: 'self', stopReason: 'completed' });
  });

  it('sends at once after an overrun, warning exactly once', async () => {
    const h = startMachine({ loopSeconds: 10 });
    await startAndLoad(h);
    await succeed(h, h.fakes.sends[0]!, 12_000);
    await advance(h, 0); // no fake time passes before the next send
    expect(h.fakes.sends).toHaveLength(2);
    expect(h.fakes.sends[1]!.startedAt).toBe(T0 + 12_000);
    expect(h.logged.overrun).toEqual([{ statusCode: 200, startedAt: T0, finishedAt: T0 + 12_000 }]);
    // The next, normal, send does not warn again.
    await succeed(h, h.fakes.sends[1]!, 1_000);
    await advance(h, 9_000);
    expect(h.fakes.sends).toHaveLength(3);
    expect(h.logged.overrun).toHaveLength(1);
    // One "sent" hook per successful send, the overrun one included, each with what was measured.
    expect(h.logged.sent).toEqual([
      { statusCode: 200, startedAt: T0, finishedAt: T0 + 12_000 },
      { statusCode: 200, startedAt: T0 + 12_000, finishedAt: T0 + 13_000 },
    ]);
  });

  it('does not warn when a send takes exactly the interval', async () => {
    const h = startMachine({ loopSeconds: 10 });
    await startAndLoad(h);
    await succeed(h, h.fakes.sends[0]!, 10_000);
    await advance(h, 0);
    expect(h.fakes.sends).toHaveLength(2);
    expect(h.logged.overrun).toHaveLength(0);
  });

  it('stops with reason completed after maxLoops, with output', async () => {
    const h = startMachine({ loopSeconds: 10, maxLoops: 3 });
    await startAndLoad(h);
    for (let i = 0; i < 3; i++) {
      await succeed(h, h.fakes.sends[i]!, 1_000);
      await advance(h, 9_000);
    }
    const snapshot = h.actor.getSnapshot();
    expect(snapshot.status).toBe('done');
    expect(snapshot.value).toBe('stopped');
    expect(snapshot.output).toEqual({ stopReason: 'completed', heartbeatsSent: 3, lastError: null });
    expect(h.fakes.sends).toHaveLength(3);
    expect(h.logged.stopped).toBe(1);
    expect(h.logged.sent).toHaveLength(3); // the last loop's send too
  });
});

describe('telemetry machine: telemetry.stop', () => {
  const expectStoppedByRequest = (h: Harness) => {
    const snapshot = h.actor.getSnapshot();
    expect(snapshot.value).toBe('stopped');
    expect(snapshot.status).toBe('done');
    expect(snapshot.context.stopReason).toBe('requested');
    expect(snapshot.output?.stopReason).toBe('requested');
    expect(h.errors).toEqual([]);
  };

  it('stops from idle without loading anything', async () => {
    const h = startMachine();
    h.actor.send({ type: 'telemetry.stop' });
    await settle();
    expectStoppedByRequest(h);
    expect(h.fakes.loads).toHaveLength(0);
  });

  it('stops from loadingSession and aborts the load', async () => {
    const h = startMachine();
    h.actor.send({ type: 'telemetry.start' });
    const load = h.fakes.loads[0]!;
    expect(load.signal.aborted).toBe(false);
    h.actor.send({ type: 'telemetry.stop' });
    expect(load.signal.aborted).toBe(true);
    load.resolve(fakeSession()); // a late answer changes nothing
    await settle();
    expectStoppedByRequest(h);
    expect(h.fakes.sends).toHaveLength(0);
  });

  it('stops from sending and aborts the request', async () => {
    const h = startMachine();
    await startAndLoad(h);
    const send = h.fakes.sends[0]!;
    expect(state(h)).toBe('sending');
    h.actor.send({ type: 'telemetry.stop' });
    expect(send.signal.aborted).toBe(true);
    send.reject(send.signal.reason);
    await settle();
    expectStoppedByRequest(h);
    expect(h.actor.getSnapshot().context.heartbeatsSent).toBe(0);
  });

  it('stops from waiting and cancels the timer', async () => {
    const h = startMachine({ loopSeconds: 10 });
    await startAndLoad(h);
    await succeed(h, h.fakes.sends[0]!, 1_000);
    expect(state(h)).toBe('waiting');
    h.actor.send({ type: 'telemetry.stop' });
    await advance(h, 60_000);
    expectStoppedByRequest(h);
    expect(h.fakes.sends).toHaveLength(1);
    expect(h.actor.getSnapshot().output).toEqual({ stopReason: 'requested', heartbeatsSent: 1, lastError: null });
    expect(h.actor.getSnapshot().context.nextRunAt).toBeNull();
  });
});

describe('telemetry machine: failures', () => {
  it('stops with reason failed on the first failure by default, logging once', async () => {
    const h = startMachine({ retries: 0 });
    await startAndLoad(h);
    await fail(h, h.fakes.sends[0]!);
    const snapshot = h.actor.getSnapshot();
    expect(snapshot.value).toBe('stopped');
    expect(snapshot.output).toEqual({ stopReason: 'failed', heartbeatsSent: 0, lastError: fakeFailure().reason });
    expect(h.logged.sendFailure).toHaveLength(1);
    expect(h.logged.retry).toHaveLength(0);
  });

  it('retries with doubling, jittered backoff, then stops', async () => {
    const h = startMachine({ retries: 2, loopSeconds: 600 });
    await startAndLoad(h);
    await fail(h, h.fakes.sends[0]!);
    expect(state(h)).toBe('waiting');
    const first = h.actor.getSnapshot().context;
    expect(first.consecutiveFailures).toBe(1);
    expect(first.waitMs).toBeGreaterThanOrEqual(500);
    expect(first.waitMs).toBeLessThanOrEqual(FIRST_BACKOFF_MS); // a computed backoff under the SimulatedClock, not elapsed time
    expect(first.nextRunAt).toBe(new Date(T0 + first.waitMs).toISOString());
    await advance(h, first.waitMs - 1);
    expect(h.fakes.sends).toHaveLength(1);
    await advance(h, 1);
    expect(h.fakes.sends).toHaveLength(2);
    await fail(h, h.fakes.sends[1]!);
    const second = h.actor.getSnapshot().context;
    expect(second.waitMs).toBeGreaterThanOrEqual(FIRST_BACKOFF_MS);
    expect(second.waitMs).toBeLessThanOrEqual(2 * FIRST_BACKOFF_MS); // likewise: the doubled backoff, not elapsed time
    await advance(h, second.waitMs);
    await fail(h, h.fakes.sends[2]!);
    expect(h.actor.getSnapshot().output).toEqual({ stopReason: 'failed', heartbeatsSent: 0, lastError: fakeFailure().reason });
    expect(h.logged.retry).toHaveLength(2);
    expect(h.logged.sendFailure).toHaveLength(1);
  });

  it('honours Retry-After', async () => {
    const h = startMachine({ retries: 1, loopSeconds: 10 });
    await startAndLoad(h);
    await fail(h, h.fakes.sends[0]!, { statusCode: 503, retryAfterMs: 4_000 });
    expect(h.actor.getSnapshot().context.waitMs).toBe(4_000);
    await advance(h, 3_999);
    expect(h.fakes.sends).toHaveLength(1);
    await advance(h, 1);
    expect(h.fakes.sends).toHaveLength(2);
  });

  it('caps Retry-After at loopSeconds', async () => {
    const h = startMachine({ retries: 1, loopSeconds: 10 });
    await startAndLoad(h);
    await fail(h, h.fakes.sends[0]!, { statusCode: 503, retryAfterMs: 3_600_000 });
    expect(h.actor.getSnapshot().context.waitMs).toBe(10_000);
    await advance(h, 10_000);
    expect(h.fakes.sends).toHaveLength(2);
  });

  it('resets consecutiveFailures after a success', async () => {
    const h = startMachine({ retries: 3, loopSeconds: 10 });
    await startAndLoad(h);
    await fail(h, h.fakes.sends[0]!);
    expect(h.actor.getSnapshot().context.consecutiveFailures).toBe(1);
    await advance(h, 1_000);
    await succeed(h, h.fakes.sends[1]!, 500);
    const context = h.actor.getSnapshot().context;
    expect(context.consecutiveFailures).toBe(0);
    expect(context.lastError).toBeNull();
    expect(context.heartbeatsSent).toBe(1);
  });

  it('stops at once with reason rejected on 410, even with retries left', async () => {
    const h = startMachine({ retries: 5 });
    await startAndLoad(h);
    await fail(h, h.fakes.sends[0]!, { statusCode: 410, reason: 'HTTP 410 Gone from http://127.0.0.1:9/api/collector' });
    await advance(h, 3_600_000);
    expect(h.actor.getSnapshot().output).toEqual({
      stopReason: 'rejected',
      heartbeatsSent: 0,
      lastError: 'HTTP 410 Gone from http://127.0.0.1:9/api/collector',
    });
    expect(h.fakes.sends).toHaveLength(1);
    expect(h.logged.rejected).toHaveLength(1);
    expect(h.logged.retry).toHaveLength(0);
  });

  it('stops with reason failed when the session cannot be loaded', async () => {
    const h = startMachine({ retries: 3 });
    h.actor.send({ type: 'telemetry.start' });
    h.fakes.loads[0]!.reject(new Error('Database is not open'));
    await settle();
    expect(h.actor.getSnapshot().output).toEqual({ stopReason: 'failed', heartbeatsSent: 0, lastError: 'Database is not open' });
    expect(h.logged.loadFailure).toEqual([{ reason: 'Database is not open' }]);
    expect(h.fakes.sends).toHaveLength(0);
  });
});

describe('telemetry machine: placeholders', () => {
  it('fails clearly when loadSession is not provided', async () => {
    const actor = createActor(telemetryMachine, { input: machineInput() }).start();
    actor.send({ type: 'telemetry.start' });
    await settle();
    const snapshot = actor.getSnapshot();
    expect(snapshot.output?.stopReason).toBe('failed');
    expect(snapshot.output?.lastError).toMatch(/loadSession is not provided.*createTelemetryMachine\(\)/);
  });

  it('fails clearly when sendHeartbeat is not provided', async () => {
    const clock = new SimulatedClock();
    const fakes = createMachineFakes(() => clock.now());
    const machine = telemetryMachine.provide({ actors: { loadSession: fakes.actors.loadSession } });
    const actor = createActor(machine, { input: machineInput(), clock }).start();
    actor.send({ type: 'telemetry.start' });
    fakes.loads[0]!.resolve(fakeSession());
    await settle();
    expect(actor.getSnapshot().output?.stopReason).toBe('failed');
    expect(actor.getSnapshot().output?.lastError).toMatch(/sendHeartbeat is not provided/);
  });
});

describe('retryDelayMs and failureOf', () => {
  it('jitters within [base/2, base], doubling per failure', () => {
    expect(retryDelayMs(1, 600, undefined, 0)).toBe(500);
    expect(retryDelayMs(1, 600, undefined, 1)).toBe(1_000);
    expect(retryDelayMs(2, 600, undefined, 0)).toBe(1_000);
    expect(retryDelayMs(2, 600, undefined, 1)).toBe(2_000);
    expect(retryDelayMs(4, 600, undefined, 1)).toBe(8_000);
    for (let i = 0; i < 50; i++) {
      const delay = retryDelayMs(3, 600);
      expect(delay).toBeGreaterThanOrEqual(2_000);
      expect(delay).toBeLessThanOrEqual(4_000);
    }
  });

  it('caps the backoff and Retry-After at loopSeconds', () => {
    expect(retryDelayMs(30, 10, undefined, 1)).toBe(10_000);
    expect(retryDelayMs(30, 10, undefined, 0)).toBe(5_000);
    expect(retryDelayMs(1, 10, 60_000)).toBe(10_000);
    expect(retryDelayMs(1, 10, 2_500)).toBe(2_500);
    expect(retryDelayMs(1, 10, -5)).toBe(0);
  });

  it('reads reason, statusCode and retryAfterMs from what an actor threw', () => {
    expect(failureOf({ reason: 'r', statusCode: 503, retryAfterMs: 7, failedAt: 1 })).toEqual({
      reason: 'r',
      statusCode: 503,
      retryAfterMs: 7,
      failedAt: 1,
    });
    expect(failureOf(new Error('boom')).reason).toBe('boom');
    expect(failureOf('text')).toEqual({ reason: 'text' });
  });
});
