// Runs the pure telemetry machine with fake actors, spy log actions and a SimulatedClock, step by step.
import { createActor, SimulatedClock, type Actor, type InspectionEvent } from 'xstate';
import {
  telemetryMachine,
  type HeartbeatFailure,
  type LoadedSession,
  type SendHeartbeatOutput,
  type TelemetryInput,
} from '../../machines/telemetryMachine.js';
import { createMachineFakes, fakeFailure, fakeSession, machineInput, settle, type PendingCall } from './machineFakes.js';

/** Where the SimulatedClock starts, so ISO times in context read naturally. */
export const T0 = Date.parse('2026-01-01T00:00:00.000Z');

const running: Actor<typeof telemetryMachine>[] = [];

/** Stops every actor startMachine started; use in afterEach. */
export function stopAllMachines(): void {
  for (const actor of running.splice(0)) actor.stop();
}

/**
 * Starts the machine with fake actors and spy log actions; records distinct state values and actor errors.
 * `inspect` sees every inspection event (the model test reads the microsteps: which transitions were taken).
 */
export function startMachine(overrides: Partial<TelemetryInput> = {}, inspect?: (event: InspectionEvent) => void) {
  const clock = new SimulatedClock();
  clock.set(T0);
  const fakes = createMachineFakes(() => clock.now());
  const logged = {
    newSession: [] as LoadedSession[],
    sent: [] as SendHeartbeatOutput[],
    overrun: [] as SendHeartbeatOutput[],
    peerSent: [] as SendHeartbeatOutput[],
    skipped: [] as SendHeartbeatOutput[],
    retry: [] as HeartbeatFailure[],
    rejected: [] as HeartbeatFailure[],
    sendFailure: [] as HeartbeatFailure[],
    loadFailure: [] as HeartbeatFailure[],
    stopped: 0,
  };
  const machine = telemetryMachine.provide({
    actors: fakes.actors,
    actions: {
      logNewSession: (_, session: LoadedSession) => void logged.newSession.push(session),
      logSent: (_, sent: SendHeartbeatOutput) => void logged.sent.push(sent),
      logOverrun: (_, sent: SendHeartbeatOutput) => void logged.overrun.push(sent),
      logPeerSent: (_, sent: SendHeartbeatOutput) => void logged.peerSent.push(sent),
      logSkipped: (_, sent: SendHeartbeatOutput) => void logged.skipped.push(sent),
      logRetry: (_, failure: HeartbeatFailure) => void logged.retry.push(failure),
      logRejected: (_, failure: HeartbeatFailure) => void logged.rejected.push(failure),
      logSendFailure: (_, failure: HeartbeatFailure) => void logged.sendFailure.push(failure),
      logLoadFailure: (_, failure: HeartbeatFailure) => void logged.loadFailure.push(failure),
      logStopped: () => void logged.stopped++,
    },
  });
  const actor = createActor(machine, { input: machineInput(overrides), clock, inspect });
  const states: string[] = [];
  const errors: unknown[] = [];
  actor.subscribe({
    next: (snapshot) => {
      const value = String(snapshot.value);
      if (states.at(-1) !== value) states.push(value);
    },
    error: (error) => void errors.push(error),
  });
  actor.start();
  running.push(actor);
  return { actor, clock, fakes, logged, states, errors };
}

export type Harness = ReturnType<typeof startMachine>;
type Send = PendingCall<unknown, SendHeartbeatOutput>;

/** The current state value as a string. */
export const stateOf = (h: Harness) => String(h.actor.getSnapshot().value);

/** telemetry.start, then the fake load resolves with `session`. */
export async function startAndLoad(h: Harness, session = fakeSession()): Promise<void> {
  h.actor.send({ type: 'telemetry.start' });
  h.fakes.loads[0]!.resolve(session);
  await settle();
}

/** The send in flight takes `durationMs` of fake time, then answers 200. */
export async function succeed(h: Harness, send: Send, durationMs: number): Promise<void> {
  h.clock.increment(durationMs);
  send.resolve({ statusCode: 200, startedAt: send.startedAt, finishedAt: h.clock.now() });
  await settle();
}

/** The send in flight fails (as the sender throws) with `fields`, at the current fake time. */
export async function fail(h: Harness, send: Send, fields: Partial<HeartbeatFailure> = {}): Promise<void> {
  send.reject(fakeFailure({ failedAt: h.clock.now(), ...fields }));
  await settle();
}

/** Advances fake time and lets the resulting transitions and invokes run. */
export async function advance(h: Harness, ms: number): Promise<void> {
  h.clock.increment(ms);
  await settle();
}
