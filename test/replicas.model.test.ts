// "At most one heartbeat per interval", stated once and checked under seeded random schedules of replica pauses
// (SIGSTOP-like: a paused replica's timers and replies wait), stalled claim replies and database outages. The real
// telemetry chart and the real sendHeartbeat work (src/actor/heartbeatSend.ts) run on simulated time; the
// database is a fake that keeps the lease row by the same rule as the PostgreSQL statement (src/stores/postgres/lease.ts,
// whose SQL the named tests in postgres.replicaFaults.test.ts run for real), the endpoint a fake that records.
import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import { telemetryMachine, type LoadedSession, type SendHeartbeatInput, type SendHeartbeatOutput } from '../machines/telemetryMachine.js';
import { createHeartbeatSend } from '../src/actor/heartbeatSend.js';
import { silentLogger } from '../src/logger.js';
import type { HeartbeatClaim, HeartbeatLease, SessionStore } from '../src/stores/index.js';
import { machineInput, settle } from './helpers/machineFakes.js';
import { seededRandom as random } from './helpers/random.js';

const LOOP_MS = 1_000;
const TIMEOUT_MS = 2_000;
const TICK_MS = 20;
const RUN_MS = 60_000;
// The last stretch has no fault at all: heartbeats must be flowing again by its end.
const CALM_TAIL_MS = 10_000;
const REPLICAS = 3;
const SEEDS = 12;

interface Post { at: number; replica: number; key: string; claimRequestedAt: number }
interface Replica { clock: SimulatedClock; paused: boolean; inbox: Array<() => void>; lastClaimAt: number; stop(): void }

const SESSION: LoadedSession = { session_id: '5e0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d', session_start_timestamp: '2026-01-01T00:00:00.000Z', created: false };
const SESSIONS: SessionStore = { getOrCreate: async () => SESSION, read: async () => SESSION, reset: async () => false };

/** Simulated time, the fake database's lease row and what the fake endpoint received. */
function createWorld(seed: number) {
  const rnd = random(seed);
  const events: Array<{ at: number; run: () => void }> = [];
  let row: { holder: string; lastSentAt: number; staleMs: number; loopMs: number } | undefined;
  const world = {
    rnd,
    now: 0,
    dbDown: false,
    posts: [] as Post[],
    faults: [] as string[],
    at: (time: number, run: () => void) => void events.push({ at: time, run }),
    /** Mostly quick; one in ten stalls for up to two intervals (a slow or paused network, a busy database). */
    latency: () => (rnd() < 0.1 ? rnd() * 2 * LOOP_MS : rnd() * 30),
    /** A paused replica gets nothing until it runs again: what its socket holds waits, as under SIGSTOP. */
    deliver: (r: Replica, fn: () => void) => (r.paused ? r.inbox.push(fn) : fn()),
    /** The lease row's rule, as the PostgreSQL statement has it: the holder renews; anyone takes a row older than its holder's stale window. */
    execute(holder: string, loopMs: number, staleMs: number): HeartbeatClaim {
      if (row === undefined || row.holder === holder || row.lastSentAt <= world.now - row.staleMs) {
        row = { holder, lastSentAt: world.now, loopMs, staleMs };
        return { claimed: true, ageMs: 0, loopMs, staleMs, session: SESSION };
      }
      return { claimed: false, ageMs: world.now - row.lastSentAt, loopMs: row.loopMs, staleMs: row.staleMs, session: SESSION };
    },
    /** Runs, in order, what falls due by now. */
    async runDue() {
      events.sort((x, y) => x.at - y.at);
      while (events.length > 0 && events[0]!.at <= world.now) {
        events.shift()!.run();
        await settle();
      }
    },
  };
  return world;
}

type World = ReturnType<typeof createWorld>;

/** Replica `i`: the real chart and the real send work on its own clock, over the fake lease and endpoint. */
function startReplica(world: World, i: number): Replica {
  const r: Replica = { clock: new SimulatedClock(), paused: false, inbox: [], lastClaimAt: 0, stop: () => {} };
  const lease: HeartbeatLease = {
    claim: ({ holder, loopMs, staleMs }) =>
      new Promise((resolve, reject) => {
        r.lastClaimAt = world.now;
        world.at(world.now + world.latency(), () => {
          if (world.dbDown) return void world.at(world.now + 5, () => world.deliver(r, () => reject(new Error('ECONNREFUSED (simulated)'))));
          const result = world.execute(holder, loopMs, staleMs);
          world.at(world.now + world.latency(), () => world.deliver(r, () => resolve(result)));
        });
      }),
  };
  const post = (request: { idempotencyKey?: string }) =>
    new Promise<{ statusCode: number; startedAt: number; finishedAt: number }>((resolve) => {
      const startedAt = r.clock.now();
      world.posts.push({ at: world.now, replica: i, key: request.idempotencyKey ?? '', claimRequestedAt: r.lastClaimAt });
      world.at(world.now + world.rnd() * 30, () => world.deliver(r, () => resolve({ statusCode: 202, startedAt, finishedAt: r.clock.now() })));
    });
  const send = createHeartbeatSend({ sessions: SESSIONS, post, lease, holder: `r${i}`, now: () => r.clock.now(), timers: r.clock, log: silentLogger() });
  const machine = telemetryMachine.provide({
    actors: {
      loadSession: fromPromise<LoadedSession, void>(async () => SESSION),
      sendHeartbeat: fromPromise<SendHeartbeatOutput, SendHeartbeatInput>(({ input, signal }) => send(input, signal)),
    },
  });
  const actor = createActor(machine, { input: machineInput({ loopSeconds: LOOP_MS / 1000, timeoutSeconds: TIMEOUT_MS / 1000 }), clock: r.clock });
  actor.start();
  r.stop = () => actor.stop();
  world.at(world.rnd() * 2 * LOOP_MS, () => actor.send({ type: 'telemetry.start' }));
  return r;
}

/** Pauses of each replica (up to three loop + timeout) and database outages, all before the calm tail. */
function scheduleFaults(world: World, replicas: Replica[]): void {
  const window = () => {
    const from = world.rnd() * (RUN_MS - CALM_TAIL_MS - 4 * (LOOP_MS + TIMEOUT_MS));
    return [from, from + world.rnd() * 3 * (LOOP_MS + TIMEOUT_MS)] as const;
  };
  for (const [i, r] of replicas.entries()) {
    for (let n = Math.floor(world.rnd() * 4); n > 0; n -= 1) {
      const [from, to] = window();
      world.faults.push(`pause r${i} ${Math.round(from)}-${Math.round(to)}`);
      world.at(from, () => void (r.paused = true));
      world.at(to, () => {
        r.paused = false;
        r.clock.set(Math.max(r.clock.now(), world.now));
        for (const fn of r.inbox.splice(0)) fn();
      });
    }
  }
  for (let n = Math.floor(world.rnd() * 3); n > 0; n -= 1) {
    const [from, to] = window();
    world.faults.push(`database down ${Math.round(from)}-${Math.round(to)}`);
    world.at(from, () => void (world.dbDown = true));
    world.at(to, () => void (world.dbDown = false));
  }
}

/** One seeded run: REPLICAS actors, random pauses, stalls and outages; returns what the endpoint received. */
async function simulate(seed: number): Promise<{ posts: Post[]; faults: string[] }> {
  const world = createWorld(seed);
  const replicas = Array.from({ length: REPLICAS }, (_, i) => startReplica(world, i));
  scheduleFaults(world, replicas);
  // Time moves in ticks: first every running replica's clock (its timers fire), then what falls due in the tick.
  while (world.now < RUN_MS) {
    world.now += TICK_MS;
    for (const r of replicas) if (!r.paused) r.clock.set(world.now);
    await settle();
    await world.runDue();
  }
  for (const r of replicas) r.stop();
  return { posts: world.posts, faults: world.faults };
}

describe('replicas under random pauses, stalls and outages (simulated time)', () => {
  it(`at most one heartbeat per interval, and heartbeats again once the faults end (${SEEDS} seeds)`, async () => {
    for (let seed = 1; seed <= SEEDS; seed += 1) {
      const { posts, faults } = await simulate(seed);
      const where = `seed ${seed} (${faults.join(', ') || 'no faults'})`;
      // Fencing: every heartbeat left within one interval of the claim that let it go.
      for (const p of posts) expect(p.at - p.claimRequestedAt, where).toBeLessThanOrEqual(LOOP_MS);
      for (let i = 1; i < posts.length; i += 1) {
        const [p, q] = [posts[i - 1]!, posts[i]!];
        expect(q.key, where).not.toBe(p.key);
        // One replica keeps its fixed rate: its claims are an interval apart, so each heartbeat has an interval of its own.
        if (p.replica === q.replica) expect(q.claimRequestedAt - p.claimRequestedAt, where).toBeGreaterThanOrEqual(LOOP_MS);
        // A new sender takes over only after the last one has been silent past its window: never inside its interval.
        else expect(q.at - p.at, `${where}: r${p.replica} at ${p.at}, then r${q.replica} at ${q.at}`).toBeGreaterThanOrEqual(TIMEOUT_MS);
      }
      // Liveness: in the calm tail (no pause, no outage) a heartbeat goes out every interval.
      const tail = posts.filter((p) => p.at > RUN_MS - CALM_TAIL_MS / 2);
      expect(tail.length, where).toBeGreaterThanOrEqual(CALM_TAIL_MS / 2 / LOOP_MS - 2);
    }
  }, 120_000);
});
