// Model-based tests: every transition of the telemetry machine, found from its definition with XState's
// graph utilities, replayed on a live actor with fake invoked actors and a SimulatedClock; invariants
// are checked on every path, not only on the paths we thought of.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fromPromise, initialTransition, transition, type AnyStateNode, type AnyTransitionDefinition, type EventObject, type InspectionEvent } from 'xstate';
import { getAdjacencyMap, getShortestPaths } from 'xstate/graph';
import { telemetryMachine, type LoadedSession, type SendHeartbeatInput, type SendHeartbeatOutput, type TelemetryContext } from '../machines/telemetryMachine.js';
import { fakeFailure, fakeSession, machineInput, settle } from './helpers/machineFakes.js';
import { startMachine, stopAllMachines, type Harness } from './helpers/machineHarness.js';

afterEach(() => stopAllMachines());

const RETRIES = 2;
const MAX_LOOPS = 3;
const LOOP_MS = 10_000;
const INPUT = machineInput({ retries: RETRIES, maxLoops: MAX_LOOPS, loopSeconds: LOOP_MS / 1000 });

// The model's events: what the outside world and the invoked actors can do, one of each kind of outcome.
// A send's outcome is described relative to the moment the send started (0); the live replay spends finishedAt
// on the clock and shifts the times by when its fake send started.
const sent = (durationMs: number): SendHeartbeatOutput => ({ statusCode: 202, startedAt: 0, finishedAt: durationMs });
const SEND_OUTCOMES: Record<string, SendHeartbeatOutput> = {
  'in time': sent(100),
  'due now': sent(LOOP_MS),
  overran: sent(LOOP_MS + 5_000),
  // A peer replica sent 4 s ago; this one checks again when the peer's lease would go stale.
  'a peer sent': { sentBy: 'peer', startedAt: -4_000, finishedAt: 100, nextDueAt: LOOP_MS + 1_000 },
  // The lease claim could not be decided (or went stale): nothing sent, not a failure.
  skipped: { sentBy: 'unknown', startedAt: 0, finishedAt: 100, reason: 'heartbeat lease unavailable: ECONNREFUSED' },
};
const MODEL_EVENTS: EventObject[] = [
  { type: 'telemetry.start' },
  { type: 'telemetry.stop' },
  { type: 'xstate.done.actor.loadSession', output: fakeSession(false) } as EventObject,
  { type: 'xstate.done.actor.loadSession', output: fakeSession(true) } as EventObject,
  { type: 'xstate.error.actor.loadSession', error: fakeFailure({ reason: 'IO error' }) } as EventObject,
  ...Object.entries(SEND_OUTCOMES).map(([label, output]) => ({ type: 'xstate.done.actor.sendHeartbeat', output, label }) as EventObject),
  { type: 'xstate.error.actor.sendHeartbeat', error: fakeFailure({ statusCode: 503 }) } as EventObject,
  { type: 'xstate.error.actor.sendHeartbeat', error: fakeFailure({ statusCode: 410 }) } as EventObject,
  { type: 'xstate.after.loopInterval.telemetry.waiting' },
];

type Snap = ReturnType<typeof telemetryMachine.getInitialSnapshot>;
// The abstract state: where the machine is and the counters the invariants are about (times and jitter aside).
const serializeState = (s: Snap) => {
  const c = s.context as TelemetryContext;
  return JSON.stringify([s.value, c.heartbeatsSent, c.consecutiveFailures, c.stopReason]);
};
const serializeEvent = (e: EventObject) => JSON.stringify(e);
// Graph traversal runs transitions only: no invoked actor starts (these are never called).
const pure = telemetryMachine.provide({
  actors: {
    loadSession: fromPromise<LoadedSession, void>(() => new Promise(() => {})),
    sendHeartbeat: fromPromise<SendHeartbeatOutput, SendHeartbeatInput>(() => new Promise(() => {})),
  },
});
// An invoked actor's outcome can only happen while it runs, and the delay only while waiting: elsewhere
// such an event cannot occur (and an unhandled actor error would put the model in error status).
const OWNER: Record<string, string> = { loadSession: 'loadingSession', sendHeartbeat: 'sending', loopInterval: 'waiting' };
// A done actor takes no event at all (the pure transition function would still apply root handlers).
const possible = (snapshot: Snap) =>
  snapshot.status !== 'active' ? [] : MODEL_EVENTS.filter((e) => {
    const owner = Object.keys(OWNER).find((name) => e.type.includes(`.${name}`));
    return owner === undefined || OWNER[owner] === snapshot.value;
  });
const traversal = { events: possible, serializeState, serializeEvent, input: INPUT } as never;

/** The id of a transition: its source state, its event (`always` for an eventless one) and its index among its candidates. */
function transitionId(t: AnyTransitionDefinition): string | undefined {
  const source = t.source as AnyStateNode;
  const candidates: AnyTransitionDefinition[] = t.eventType === '' ? (source.always ?? []) : (source.transitions.get(t.eventType) ?? []);
  const index = candidates.indexOf(t);
  return index === -1 ? undefined : `${source.id} ${t.eventType || 'always'} #${index}`;
}

/** Every transition the definition declares, eventless ones included, by id. */
function definedTransitions(): Set<string> {
  const all = new Set<string>();
  const visit = (node: AnyStateNode) => {
    for (const t of [...[...node.transitions.values()].flat(), ...(node.always ?? [])]) all.add(transitionId(t)!);
    for (const child of Object.values(node.states) as AnyStateNode[]) visit(child);
  };
  visit(telemetryMachine.root);
  return all;
}

/** Records the transitions a live actor takes, microstep by microstep (an event may take several: `waiting` decides). */
function transitionRecorder() {
  const taken: string[] = [];
  const inspect = (event: InspectionEvent) => {
    if (event.type !== '@xstate.microstep') return;
    // The start's own initial transition belongs to no state's list: it is not one of the declared ones.
    for (const t of event._transitions) {
      const id = transitionId(t);
      if (id !== undefined) taken.push(id);
    }
  };
  return { taken, inspect };
}

/** Plays one model event on the live actor: sends it, or settles the fake actor in flight, or moves the clock. */
async function play(h: Harness, event: EventObject): Promise<void> {
  const { type } = event;
  if (type === 'telemetry.start' || type === 'telemetry.stop') h.actor.send({ type });
  else if (type === 'xstate.done.actor.loadSession') h.fakes.loads.at(-1)!.resolve((event as unknown as { output: LoadedSession }).output);
  else if (type === 'xstate.error.actor.loadSession') h.fakes.loads.at(-1)!.reject(fakeFailure({ reason: 'IO error' }));
  else if (type === 'xstate.done.actor.sendHeartbeat') {
    const call = h.fakes.sends.at(-1)!;
    const output = (event as unknown as { output: SendHeartbeatOutput }).output;
    h.clock.increment(output.finishedAt);
    const at = (ms: number | undefined) => (ms === undefined ? undefined : call.startedAt + ms);
    call.resolve({ ...output, startedAt: at(output.startedAt)!, finishedAt: at(output.finishedAt)!, nextDueAt: at(output.nextDueAt) });
  } else if (type === 'xstate.error.actor.sendHeartbeat') {
    const statusCode = (event as unknown as { error: { statusCode: number } }).error.statusCode;
    h.fakes.sends.at(-1)!.reject(fakeFailure({ statusCode, failedAt: h.clock.now() }));
  } else if (type === 'xstate.after.loopInterval.telemetry.waiting') h.clock.increment((h.actor.getSnapshot().context as TelemetryContext).waitMs);
  await settle();
}

describe('telemetry machine: every path from its definition', () => {
  type Edge = { event: EventObject; state: Snap };
  const map = getAdjacencyMap(pure, traversal) as unknown as Record<string, { state: Snap; transitions: Record<string, Edge> }>;
  const nodes = Object.keys(map);
  // An event a state ignores shows as an edge back to itself with nothing done: not a transition.
  const changes = (from: string, t: Edge) =>
    serializeState(t.state as Snap) !== from || transition(pure, map[from]!.state as Snap, t.event as never)[1].length > 0;
  const edges = nodes.flatMap((key) =>
    Object.values(map[key]!.transitions)
      .filter((t) => changes(key, t))
      .map((t) => ({ from: key, event: t.event as EventObject })),
  );
  const shortest = new Map(getShortestPaths(pure, traversal).map((p) => [serializeState(p.state as Snap), p]));

  it('every state reached can still reach stopped, and stopped is final', () => {
    const stopped = nodes.filter((key) => (JSON.parse(key) as unknown[])[0] === 'stopped');
    expect(stopped.length).toBeGreaterThan(0);
    for (const key of nodes) {
      const seen = new Set([key]);
      const queue = [key];
      while (queue.length > 0) for (const t of Object.values(map[queue.shift()!]!.transitions)) {
        // (ignored events lead back to the same state: harmless for reachability)
        const next = serializeState(t.state as Snap);
        if (!seen.has(next)) seen.add(next), queue.push(next);
      }
      expect(stopped.some((s) => seen.has(s)), `${key} cannot reach stopped`).toBe(true);
    }
    // stopped is a final state: the actor is done, its output set.
    for (const key of stopped) expect(map[key]!.state).toMatchObject({ status: 'done', output: expect.objectContaining({ stopReason: expect.any(String) }) });
  });

  it('replays a path through every transition on a live actor; invariants hold on each; nothing is unreachable', async () => {
    // No step of a replay sends to a stopped actor (XState's dev build warns on the console when one does).
    const warn = vi.spyOn(console, 'warn');
    const defined = definedTransitions();
    const covered = new Set<string>();
    const statesSeen = new Set<string>();
    let paths = 0;
    for (const edge of edges) {
      const prefix = shortest.get(edge.from);
      expect(prefix, `no path to ${edge.from}`).toBeDefined();
      const steps = [...prefix!.steps.map((s) => s.event as EventObject).filter((e) => e.type !== 'xstate.init'), edge.event];
      paths += 1;
      const recorder = transitionRecorder();
      const h = startMachine(INPUT, recorder.inspect);
      statesSeen.add(String(h.actor.getSnapshot().value));
      let [snap] = initialTransition(pure, INPUT) as [Snap, unknown];
      let stoppedAtSend: number | undefined;
      let attemptsThisHeartbeat = 0;
      for (const event of steps) {
        const sentBefore = (h.actor.getSnapshot().context as TelemetryContext).heartbeatsSent;
        const sendsBefore = h.fakes.sends.length;
        [snap] = transition(pure, snap, event as never);
        const inFlight = event.type !== 'telemetry.stop' ? undefined : h.actor.getSnapshot().value === 'sending' ? h.fakes.sends.at(-1) : h.actor.getSnapshot().value === 'loadingSession' ? h.fakes.loads.at(-1) : undefined;
        await play(h, event);
        // telemetry.stop aborts the call in flight through the invoke's signal.
        if (inFlight !== undefined) expect(inFlight.signal.aborted).toBe(true);
        const live = h.actor.getSnapshot();
        const context = live.context as TelemetryContext;
        statesSeen.add(String(live.value));
        // The live actor agrees with the model.
        expect(serializeState(live as Snap)).toBe(serializeState(snap));
        // heartbeatsSent grows only on a 2xx this replica sent, by one.
        const result = event.type === 'xstate.done.actor.sendHeartbeat' ? (event as unknown as { output: SendHeartbeatOutput }).output : undefined;
        const grew = context.heartbeatsSent - sentBefore;
        expect(grew === 0 || (grew === 1 && result !== undefined && (result.sentBy ?? 'self') === 'self')).toBe(true);
        // A heartbeat a peer sent, or one skipped because the lease could not be decided, is never a failure.
        if (result !== undefined) expect(context.consecutiveFailures).toBe(0);
        if (result !== undefined) expect(context.stopReason).not.toBe('failed');
        // Retries never exceed the setting: at most retries + 1 attempts per heartbeat.
        if (result !== undefined) attemptsThisHeartbeat = 0;
        attemptsThisHeartbeat += h.fakes.sends.length - sendsBefore;
        expect(attemptsThisHeartbeat).toBeLessThanOrEqual(RETRIES + 1);
        expect(context.consecutiveFailures).toBeLessThanOrEqual(RETRIES + 1);
        if (live.value === 'stopped') stoppedAtSend ??= h.fakes.sends.length;
      }
      // After stopped (telemetry.stop, a failure or the last loop) the actor is done, so it takes no event at all
      // (sending it one would only make XState warn), and nothing more is ever sent, however long we wait.
      if (stoppedAtSend !== undefined) {
        expect(h.actor.getSnapshot().status).toBe('done');
        h.clock.increment(100 * LOOP_MS);
        await settle();
        expect(h.fakes.sends.length).toBe(stoppedAtSend);
      }
      expect(h.errors).toEqual([]);
      h.actor.stop();
      for (const id of recorder.taken) covered.add(id);
    }
    const unreached = [...defined].filter((id) => !covered.has(id));
    console.log(`model: ${nodes.length} states, ${edges.length} transitions of the model, ${paths} paths replayed; ` +
      `${covered.size} of ${defined.size} defined transitions covered`);
    expect(warn.mock.calls.filter(([text]) => String(text).includes('sent to stopped actor'))).toEqual([]);
    warn.mockRestore();
    // Every transition taken is one the definition declares.
    expect([...covered].filter((id) => !defined.has(id))).toEqual([]);
    expect(unreached).toEqual([]);
    const declared = Object.keys(telemetryMachine.root.states);
    expect([...statesSeen].sort()).toEqual([...declared].sort());
  });
});
