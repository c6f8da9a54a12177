// The pure server machine with fake resources and the real telemetry machine on fake actors: how it stops its child.
import { describe, expect, it, vi } from 'vitest';
import { createActor, fromPromise, type AnyActorRef } from 'xstate';
import { serverMachine } from '../machines/serverMachine.js';
import { telemetryMachine, type StopReason } from '../machines/telemetryMachine.js';
import { createMachineFakes, fakeFailure, fakeSession, machineInput, settle } from './helpers/machineFakes.js';

/** Starts the server machine; `stopped` records each run of the child's logStopped hook with its reason. */
async function startHost(telemetryEnabled: boolean) {
  const fakes = createMachineFakes(Date.now);
  const stopped: Array<StopReason | null> = [];
  const machine = serverMachine.provide({
    actors: {
      openDatabase: fromPromise(async () => {}),
      startListener: fromPromise(async () => ({ url: 'http://127.0.0.1:1', endpoint: 'http://127.0.0.1:1/api/collector' })),
      closeResources: fromPromise(async () => {}),
      telemetry: telemetryMachine.provide({
        actors: fakes.actors,
        actions: { logStopped: ({ context }) => void stopped.push(context.stopReason) },
      }),
    },
  });
  const actor = createActor(machine, { input: { telemetry: machineInput(), telemetryEnabled, disabledBy: telemetryEnabled ? null : 'DO_NOT_TRACK' } });
  const errors: unknown[] = [];
  actor.subscribe({ error: (error) => void errors.push(error) });
  actor.start();
  await settle();
  await settle();
  return { actor, fakes, stopped, errors, child: () => actor.system.get('telemetry') as AnyActorRef | undefined };
}

async function shutDown(actor: Awaited<ReturnType<typeof startHost>>['actor']) {
  actor.send({ type: 'server.shutdown' });
  await settle();
  await settle();
  return actor.getSnapshot();
}

describe('server machine: stopping the telemetry child', () => {
  it('asks the child to stop, so it reaches `stopped` (reason requested), aborts its call and logs', async () => {
    const host = await startHost(true);
    expect(host.fakes.loads).toHaveLength(1);
    host.fakes.loads[0]!.resolve(fakeSession());
    await settle();
    expect(host.fakes.sends).toHaveLength(1);
    const child = host.child();
    const snapshot = await shutDown(host.actor);
    expect(snapshot.status).toBe('done');
    expect(snapshot.output).toEqual({ exitCode: 0, error: null });
    expect(host.stopped).toEqual(['requested']);
    expect(child?.getSnapshot()).toMatchObject({ value: 'stopped', status: 'done' });
    expect(host.fakes.sends[0]!.signal.aborted).toBe(true);
    expect(host.errors).toEqual([]);
  });

  it('shuts down cleanly when the child has already stopped after a failure (logged once)', async () => {
    const host = await startHost(true);
    host.fakes.loads[0]!.resolve(fakeSession());
    await settle();
    host.fakes.sends[0]!.reject(fakeFailure());
    await settle();
    expect(host.stopped).toEqual(['failed']);
    // Not sent to the stopped child, which XState would warn about on the console.
    const warn = vi.spyOn(console, 'warn');
    const snapshot = await shutDown(host.actor);
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
    expect(snapshot.output).toEqual({ exitCode: 0, error: null });
    expect(host.stopped).toEqual(['failed']);
    expect(host.errors).toEqual([]);
  });

  it('shuts down cleanly with telemetry off, when there is no child to ask', async () => {
    const host = await startHost(false);
    expect(host.child()).toBeUndefined();
    const snapshot = await shutDown(host.actor);
    expect(snapshot.output).toEqual({ exitCode: 0, error: null });
    expect(host.stopped).toEqual([]);
    expect(host.errors).toEqual([]);
  });
});
