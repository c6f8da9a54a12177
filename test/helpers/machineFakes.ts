// Fake loadSession / sendHeartbeat actors for the pure telemetry machine, settled by the test by hand.
import { fromPromise } from 'xstate';
import type {
  HeartbeatFailure,
  LoadedSession,
  SendHeartbeatInput,
  SendHeartbeatOutput,
  TelemetryInput,
} from '../../machines/telemetryMachine.js';

/** One pending call of a fake actor: what it got, and how to settle it. */
export interface PendingCall<I, O> {
  input: I;
  signal: AbortSignal;
  /** The fake clock's time when the actor started. */
  startedAt: number;
  resolve(output: O): void;
  reject(error: unknown): void;
}

export interface MachineFakes {
  loads: PendingCall<void, LoadedSession>[];
  sends: PendingCall<SendHeartbeatInput, SendHeartbeatOutput>[];
  /** Implementations to pass as `machine.provide({ actors })`. */
  actors: {
    loadSession: ReturnType<typeof fromPromise<LoadedSession, void>>;
    sendHeartbeat: ReturnType<typeof fromPromise<SendHeartbeatOutput, SendHeartbeatInput>>;
  };
}

/** Fakes whose promises stay pending until the test settles them; `now` is usually a SimulatedClock's. */
export function createMachineFakes(now: () => number): MachineFakes {
  const loads: MachineFakes['loads'] = [];
  const sends: MachineFakes['sends'] = [];
  const fakeLoadSession = fromPromise<LoadedSession, void>(
    ({ input, signal }) => new Promise((resolve, reject) => loads.push({ input, signal, startedAt: now(), resolve, reject })),
  );
  const fakeSendHeartbeat = fromPromise<SendHeartbeatOutput, SendHeartbeatInput>(
    ({ input, signal }) => new Promise((resolve, reject) => sends.push({ input, signal, startedAt: now(), resolve, reject })),
  );
  return { loads, sends, actors: { loadSession: fakeLoadSession, sendHeartbeat: fakeSendHeartbeat } };
}

/** A session as the store would return it. */
export function fakeSession(created = false): LoadedSession {
  return {
    session_id: '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b',
    session_start_timestamp: '2026-01-01T00:00:00.000Z',
    created,
  };
}

/** A failure as the sender throws it. */
export function fakeFailure(fields: Partial<HeartbeatFailure> = {}): HeartbeatFailure {
  return { reason: 'HTTP 500 Internal Server Error from http://127.0.0.1/collector', statusCode: 500, ...fields };
}

/** A complete machine input with small numbers; override what a test cares about. */
export function machineInput(overrides: Partial<TelemetryInput> = {}): TelemetryInput {
  return {
    endpoint: 'http://127.0.0.1:9/api/collector',
    loopSeconds: 10,
    timeoutSeconds: 5,
    environment: 'test',
    source: 'telemetry_actor',
    serverVersion: '0.1.0',
    apiVersion: '0.1.0',
    retries: 0,
    ...overrides,
  };
}

/** Lets settled fake promises reach the actor (they resolve on the microtask queue). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
