// "Every heartbeat counted exactly once" (issue 19), stated once and checked under seeded random faults on both
// backends (STYLE.md rule 19). Real telemetry actors (TELEMETRY_RETRIES 2 to 5, 80 ms loops) send through TCP
// proxies to the real collector, served on 127.0.0.1 over a real LevelDB in a temp folder or a real PostgreSQL.
// Faults at real seams, each drawn from its own seeded stream (test/helpers/faultSchedule.ts): a reply dropped after
// the commit, a connection reset before the request reaches the collector, a lease claim that throws, a store write
// that fails (LevelDB: refused before or after the append; PostgreSQL: the write statement's connection reset, and
// PostgreSQL unreachable for a while, which the replicas' real lease claims see too), collector restarts.
//
// The invariant. S: the heartbeats the actors counted as sent (each got a 2xx). A: the heartbeats an actor abandoned
// without a 2xx (out of retries; a retry skipped because the lease could not be claimed; stopped before its retry)
// although the collector committed one of their attempts, whose answer never reached the actor (dropped after the
// commit, or its connection cut by a restart). Then, after the run and one more restart:
//   the keys the collector stores are exactly S ⊎ A;  heartbeats_total = |S| + |A|;  |S| = Σ heartbeats_sent;
// each key was committed once (every other attempt of it was a duplicate); every key of A has an attempt whose
// answer was lost; each breakdown sums to heartbeats_total, and the stats are the same after the restart.
// A restart lets the writes in flight finish and a LevelDB recovery complete before the store closes, so what each
// write came to is known (a kill before recovery may replay a refused batch: docs/reliability.md, known limits).
import { describe, expect, it } from 'vitest';
import { createActor, type Actor } from 'xstate';
import { createTelemetryMachine } from '../src/actor/createTelemetryMachine.js';
import { StoreUnavailableError } from '../src/errors.js';
import type { CollectorStats } from '../src/collector/collector.js';
import { createStorage, type HeartbeatLease, type Storage } from '../src/stores/index.js';
import { BACKENDS, openLevelBackend, openPostgresBackend, type BackendName, type BackendStore } from './helpers/collectorBackends.js';
import { createFaultSchedule, type FaultSchedule, type Seam } from './helpers/faultSchedule.js';
import { createFlakyDisk, type FlakyDisk } from './helpers/flakyDisk.js';
import { telemetryInput } from './helpers/fixtures.js';
import { waitFor } from './helpers/httpServer.js';
import { usePostgres } from './helpers/postgres.js';
import { serveCollector, type ServedCollector } from './helpers/servedCollector.js';
import { keyOf, startTcpProxy, statusOf, type TcpProxy } from './helpers/tcpProxy.js';
import { openTempDb } from './helpers/tempDb.js';
import { LIMITS } from './harness/limits.js';

const SEEDS = [1, 2, 3];
const INSTALLATIONS = 5;
/** PostgreSQL only: replicas of one deployment, sharing its session and its real lease in the collector's database. */
const REPLICAS = 2;
const LOOP_SECONDS = 0.08;
/** Generous: no request here should take more than milliseconds; a timeout would only be one more fault. */
const TIMEOUT_SECONDS = 5;
const RUN_MS = 1_500;
const RESTARTS = 2;

const postgres = usePostgres();

type Machine = ReturnType<typeof createTelemetryMachine>;
interface Sender { name: string; actor: Actor<Machine>; proxy: TcpProxy }
interface World {
  schedule: FaultSchedule;
  backend: BackendStore;
  served: ServedCollector;
  /** Every idempotency key the actors have sent so far. */
  keys: Set<string>;
  disk?: FlakyDisk;
  database?: Outage;
  closers: Array<() => Promise<unknown>>;
}
/** PostgreSQL behind a proxy that can make it unreachable (each write statement may also be reset on its own). */
interface Outage { proxy: TcpProxy; down: boolean; url: string }

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sum = (map: Record<string, number>) => Object.values(map).reduce((a, b) => a + b, 0);

/** A fake lease (these installations have no peer): granted, unless the seam says the claim throws, as the PostgreSQL lease does when its database is unreachable. */
function flakyLease(claims: Seam<'granted' | 'throws'>): HeartbeatLease {
  return {
    async claim() {
      if (claims.next() === 'throws') throw new StoreUnavailableError('heartbeat lease unavailable: ECONNRESET (fake)');
      return { claimed: true, ageMs: 0 };
    },
  };
}

const UUIDS = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

async function openWorld(name: BackendName, seed: number): Promise<World> {
  const schedule = createFaultSchedule(seed);
  const closers: World['closers'] = [];
  const keys = new Set<string>();
  if (name === 'LevelDB') {
    const writes = schedule.seam('store writes', { ok: 0.98, before: 0.01, after: 0.01 });
    const disk = createFlakyDisk(() => {
      const fault = writes.next();
      return fault === 'ok' ? undefined : fault;
    });
    const backend = await openLevelBackend({ disk: disk.wrap });
    closers.push(() => backend.close());
    return { schedule, backend, served: await serveCollector(backend), keys, disk, closers };
  }
  const writes = schedule.seam('store writes', { pass: 0.96, reset: 0.04 });
  const database: Outage = { proxy: undefined as unknown as TcpProxy, down: false, url: '' };
  database.proxy = await startTcpProxy({
    target: Number(new URL(postgres().adminUrl).port),
    // A write of heartbeats carries their keys in its parameters, whatever its statement (or its prepared name).
    decide: (request) => (database.down ? 'reset' : (request.toString('latin1').match(UUIDS) ?? []).some((id) => keys.has(id)) ? writes.next() : 'pass'),
  });
  const through = (url: string) => Object.assign(new URL(url), { port: String(database.proxy.port) }).toString();
  const backend = await openPostgresBackend(postgres(), { through });
  database.url = through(backend.url!);
  closers.push(() => backend.close(), () => database.proxy.close());
  return { schedule, backend, served: await serveCollector(backend), keys, database, closers };
}

/** A sender through a proxy of its own (its replies' fates are its own seam), retargeted at each collector restart. */
async function startSender(world: World, name: string, machine: Machine, retries: number): Promise<Sender> {
  const replies = world.schedule.seam(`replies ${name}`, { pass: 0.8, dropReply: 0.1, reset: 0.1 });
  const decide = (request: Buffer) => {
    const key = keyOf(request);
    if (key !== undefined) world.keys.add(key);
    return replies.next();
  };
  const proxy = await startTcpProxy({ target: world.served.port, decide });
  world.served.onRestart((port) => proxy.retarget(port));
  world.closers.push(() => proxy.close());
  const input = telemetryInput(`${proxy.origin}/api/collector`, { loopSeconds: LOOP_SECONDS, timeoutSeconds: TIMEOUT_SECONDS, retries });
  const actor = createActor(machine, { input });
  actor.start();
  actor.send({ type: 'telemetry.start' });
  return { name, actor, proxy };
}

async function startSenders(world: World): Promise<Sender[]> {
  const sessions = await openTempDb();
  world.closers.push(() => sessions.cleanup());
  const senders: Sender[] = [];
  for (let i = 0; i < INSTALLATIONS; i += 1) {
    const lease = flakyLease(world.schedule.seam(`claims ${i}`, { granted: 0.92, throws: 0.08 }));
    const machine = createTelemetryMachine({ db: sessions.db.sublevel(`installation-${i}`), lease });
    senders.push(await startSender(world, `installation ${i}`, machine, 2 + (i % 4)));
  }
  for (let i = 0; world.database !== undefined && i < REPLICAS; i += 1) {
    const storage: Storage = await createStorage({ home: '/nonexistent', dbPath: '/nonexistent/db', databaseUrl: world.database.url });
    await storage.open();
    world.closers.push(() => storage.close());
    const machine = createTelemetryMachine({ sessions: storage.sessions, lease: storage.lease });
    senders.push(await startSender(world, `replica ${i}`, machine, 2));
  }
  return senders;
}

/** The run's timeline: collector restarts (one after another) and, on PostgreSQL, one outage, at seeded moments. */
async function run(world: World): Promise<void> {
  const start = Date.now();
  const timers: NodeJS.Timeout[] = [];
  const database = world.database;
  if (database !== undefined) {
    const [from, length] = [world.schedule.moments('outage', 1, 0.1 * RUN_MS, 0.7 * RUN_MS)[0]!, world.schedule.moments('outage length', 1, 50, 200)[0]!];
    timers.push(setTimeout(() => void (database.down = true), from), setTimeout(() => void (database.down = false), from + length));
  }
  for (const at of world.schedule.moments('restarts', RESTARTS, 0.15 * RUN_MS, 0.85 * RUN_MS)) {
    await sleep(at - (Date.now() - start));
    await restart(world);
  }
  await sleep(RUN_MS - (Date.now() - start));
  // The faults stop: what follows only ends the run.
  timers.forEach(clearTimeout);
  world.schedule.calm();
  if (database !== undefined) database.down = false;
}

/** A collector restart, once a LevelDB store has recovered from a failed write (so what that write came to is known). */
const restart = (world: World) => world.served.restart(() => waitFor(() => world.disk?.recovering() !== true));

/** Stops each actor between sends (nothing in flight), so what it counted is what reached it. */
async function stopAll(senders: Sender[]): Promise<void> {
  for (const { actor } of senders) {
    await waitFor(() => actor.getSnapshot().status === 'done' || actor.getSnapshot().matches('waiting'));
    if (actor.getSnapshot().status !== 'done') actor.send({ type: 'telemetry.stop' });
  }
}

const is2xx = (status: number | undefined) => status !== undefined && status >= 200 && status < 300;
const sorted = (keys: Array<string | undefined>) => [...keys].sort();

/** Checks the invariant (see the top of the file) once every actor has stopped; returns the run's figures. */
async function check(world: World, senders: Sender[], label: string): Promise<Record<string, number>> {
  const { served } = world;
  await served.settled();
  for (const { name, actor, proxy } of senders) {
    const reached = proxy.exchanges.filter((e) => e.delivered && is2xx(statusOf(e)));
    expect(reached.length, `${label}: ${name} counts the 2xx that reached it`).toBe(actor.getSnapshot().context.heartbeatsSent);
  }
  const exchanges = senders.flatMap((s) => s.proxy.exchanges);
  const sent = exchanges.filter((e) => e.delivered && is2xx(statusOf(e))).map(keyOf);
  expect(new Set(sent).size, `${label}: one 2xx per heartbeat sent`).toBe(sent.length);
  const counted = served.answers.filter((a) => a.outcome === 'counted').map((a) => a.key);
  expect(counted.length - new Set(counted).size, `${label}: keys committed twice`).toBe(0);
  const committed = new Set(counted);
  expect(sent.filter((key) => !committed.has(key)), `${label}: heartbeats sent but never committed`).toEqual([]);
  const swallowed = exchanges.filter((e) => e.fate === 'dropReply' && statusOf(e) === 202).map(keyOf);
  expect(swallowed.filter((key) => !committed.has(key)), `${label}: 202s dropped on the way back, never committed`).toEqual([]);
  const sentSet = new Set(sent);
  const abandoned = counted.filter((key) => !sentSet.has(key));
  const answerLost = (key: string | undefined) => exchanges.some((e) => keyOf(e) === key && e.fate !== 'reset' && !e.delivered);
  expect(abandoned.filter((key) => !answerLost(key)), `${label}: committed, not sent, yet no answer lost`).toEqual([]);

  const before = await served.collector.stats();
  await restart(world);
  const stats = await served.collector.stats();
  expect(JSON.stringify(stats), `${label}: stats across a restart`).toBe(JSON.stringify(before));
  expect(sorted(await world.backend.storedKeys()), `${label}: the stored keys are S ⊎ A`).toEqual(sorted(counted));
  expect(stats.heartbeats_total, `${label}: heartbeats_total = |S| + |A|`).toBe(sent.length + abandoned.length);
  expectSums(stats, label);
  return {
    'heartbeats sent': sent.length,
    'abandoned, committed': abandoned.length,
    'retried to success': sent.filter((key) => exchanges.filter((e) => keyOf(e) === key).length > 1).length,
    'gave up (stopped failed)': senders.filter((s) => s.actor.getSnapshot().context.stopReason === 'failed').length,
    'answers dropped after a commit': swallowed.length,
    'requests reset': exchanges.filter((e) => e.fate === 'reset').length,
    'duplicates': served.answers.filter((a) => a.outcome === 'duplicate').length,
    'store answers failed': served.answers.filter((a) => a.outcome === 'failed').length,
  };
}

function expectSums(stats: CollectorStats, label: string): void {
  for (const breakdown of ['by_server_version', 'by_platform', 'by_environment', 'by_architecture', 'by_node_version'] as const) {
    expect(sum(stats[breakdown]), `${label}: ${breakdown} sums to heartbeats_total`).toBe(stats.heartbeats_total);
  }
  expect(sum(stats.heartbeats_by_day), `${label}: heartbeats_by_day`).toBe(stats.heartbeats_total);
}

/** One seed's run: the world, its senders, the faults, then the check. */
async function runSeed(name: BackendName, seed: number): Promise<Record<string, number>> {
  const world = await openWorld(name, seed);
  let senders: Sender[] = [];
  try {
    senders = await startSenders(world);
    await run(world);
    await stopAll(senders);
    const figures = await check(world, senders, `${name} seed ${seed}`);
    const writeFaults = world.schedule.count('store writes', 'before') + world.schedule.count('store writes', 'after') + world.schedule.count('store writes', 'reset');
    return { ...figures, 'store write faults': writeFaults, 'lease claims thrown': world.schedule.count('claims', 'throws'), restarts: RESTARTS };
  } finally {
    for (const { actor } of senders) actor.stop();
    await world.served.close();
    for (const close of world.closers.reverse()) await close();
  }
}

describe.each(BACKENDS)('every heartbeat counted exactly once on %s, under seeded random faults', (name) => {
  it(`seeds ${SEEDS.join(', ')}: the stored keys are the heartbeats sent plus the abandoned ones committed, each once`, async () => {
    const totals: Record<string, number> = {};
    for (const seed of SEEDS) {
      const figures = await runSeed(name, seed);
      console.log(`counted once, ${name} seed ${seed}: ${JSON.stringify(figures)}`);
      for (const [what, n] of Object.entries(figures)) totals[what] = (totals[what] ?? 0) + n;
    }
    // The seeds made each fault happen, so the invariant held under each of them.
    for (const what of ['answers dropped after a commit', 'requests reset', 'retried to success', 'duplicates', 'store write faults', 'store answers failed', 'lease claims thrown']) {
      expect(totals[what], what).toBeGreaterThan(0);
    }
  }, LIMITS.testMs);
});
