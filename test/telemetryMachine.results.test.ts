// The pure telemetry statechart on each kind of send result it records: a skipped interval, a session that
// changed under the actor (a reset), a retried heartbeat resent as it was. Fake actors, a SimulatedClock.
import { afterEach, describe, expect, it } from 'vitest';
import type { HeartbeatIdentity, LoadedSession } from '../machines/telemetryMachine.js';
import { fakeSession, settle } from './helpers/machineFakes.js';
import { T0, advance, fail, startAndLoad, startMachine, stateOf, stopAllMachines, succeed } from './helpers/machineHarness.js';

afterEach(stopAllMachines);

const S2: LoadedSession = { session_id: '0d9e8f7a-6b5c-4d3e-8f1a-2b3c4d5e6f70', session_start_timestamp: '2026-01-01T00:00:05.000Z', created: true };
const LEASE_DOWN = 'heartbeat lease unavailable: ECONNREFUSED 127.0.0.1:5432';

describe('telemetry machine: a skipped interval (the lease could not be decided)', () => {
  it('is not a failure: with retries 0 it records `unknown`, keeps the last known heartbeat, says so once and claims again one interval later', async () => {
    const h = startMachine({ loopSeconds: 10, retries: 0 });
    await startAndLoad(h);
    await succeed(h, h.fakes.sends[0]!, 100);
    await advance(h, 9_900);
    h.fakes.sends[1]!.resolve({ sentBy: 'unknown', startedAt: T0 + 10_000, finishedAt: T0 + 10_050, reason: LEASE_DOWN });
    await settle();
    const context = h.actor.getSnapshot().context;
    expect(stateOf(h)).toBe('waiting');
    expect(context).toMatchObject({
      heartbeatsSent: 1,
      consecutiveFailures: 0,
      lastSentBy: 'unknown',
      lastSentAt: new Date(T0).toISOString(),
      lastError: LEASE_DOWN,
      stopReason: null,
      nextRunAt: new Date(T0 + 20_000).toISOString(),
    });
    expect(h.logged.skipped).toHaveLength(1);
    expect(h.logged.sent).toHaveLength(1); // no "Heartbeat sent" for the interval that sent nothing
    expect(h.logged.sendFailure).toHaveLength(0);
    await advance(h, 9_949);
    expect(h.fakes.sends).toHaveLength(2);
    await advance(h, 1);
    expect(h.fakes.sends).toHaveLength(3);
    expect(h.fakes.sends[2]!.input).toMatchObject({ attempt: 0, resend: null });
    await succeed(h, h.fakes.sends[2]!, 100);
    expect(h.actor.getSnapshot().context).toMatchObject({ heartbeatsSent: 2, lastSentBy: 'self', lastError: null });
  });

  it('a peer\'s heartbeat logs its own hook, never "sent"', async () => {
    const h = startMachine({ loopSeconds: 10 });
    await startAndLoad(h);
    h.fakes.sends[0]!.resolve({ sentBy: 'peer', startedAt: T0 - 1_000, finishedAt: T0, nextDueAt: T0 + 14_000 });
    await settle();
    expect(h.logged.peerSent).toHaveLength(1);
    expect(h.logged.sent).toHaveLength(0);
    expect(h.logged.skipped).toHaveLength(0);
  });
});

describe('telemetry machine: the session each send used', () => {
  it('keeps the session a send reports, and announces it once when that send created it (after a reset)', async () => {
    const h = startMachine({ loopSeconds: 10 });
    await startAndLoad(h, fakeSession(false));
    expect(h.logged.newSession).toHaveLength(0);
    const first = h.fakes.sends[0]!;
    h.clock.increment(100);
    first.resolve({ statusCode: 202, startedAt: first.startedAt, finishedAt: h.clock.now(), session: S2 });
    await settle();
    expect(h.actor.getSnapshot().context).toMatchObject({ sessionId: S2.session_id, sessionStartTimestamp: S2.session_start_timestamp });
    expect(h.logged.newSession).toEqual([S2]);
    await advance(h, 9_900);
    const second = h.fakes.sends[1]!;
    second.resolve({ statusCode: 202, startedAt: second.startedAt, finishedAt: second.startedAt + 100, session: { ...S2, created: false } });
    await settle();
    expect(h.logged.newSession).toHaveLength(1);
    expect(h.actor.getSnapshot().context.sessionId).toBe(S2.session_id);
  });
});

describe('telemetry machine: a retried heartbeat', () => {
  it('resends the heartbeat that failed (its session and key); the next heartbeat is a new one', async () => {
    const h = startMachine({ loopSeconds: 10, retries: 1 });
    await startAndLoad(h);
    const heartbeat: HeartbeatIdentity = { sessionId: fakeSession().session_id, sessionStartTimestamp: fakeSession().session_start_timestamp, idempotencyKey: 'k-1' };
    await fail(h, h.fakes.sends[0]!, { statusCode: 503, retryAfterMs: 1_000, heartbeat });
    await advance(h, 1_000);
    expect(h.fakes.sends[1]!.input).toMatchObject({ attempt: 1, resend: heartbeat });
    await succeed(h, h.fakes.sends[1]!, 100);
    await advance(h, 10_000);
    expect(h.fakes.sends[2]!.input).toMatchObject({ attempt: 0, resend: null });
  });

  it('a failure before any request was made (nothing to resend) retries as a new heartbeat', async () => {
    const h = startMachine({ loopSeconds: 10, retries: 1 });
    await startAndLoad(h);
    await fail(h, h.fakes.sends[0]!, { reason: 'the session could not be read', retryAfterMs: 1_000 });
    await advance(h, 1_000);
    expect(h.fakes.sends[1]!.input).toMatchObject({ attempt: 1, resend: null });
  });
});
