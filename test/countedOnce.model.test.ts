// "Every heartbeat counted exactly once" (issue 19), stated once and checked under seeded random faults on both
// backends (STYLE.md rule 19): real telemetry actors (TELEMETRY_RETRIES 2 to 5, 80 ms loops), each through a TCP
// proxy of its own, to the real collector served on 127.0.0.1 over a real LevelDB in a temp folder or a real
// PostgreSQL (test/helpers/faultWorld.ts). Faults at real seams, each seam drawing from its own stream of the seed:
// an answer dropped after the commit, a request reset before it reaches the collector, a lease claim that throws
// (a fake lease for the installations; the replicas' real PostgreSQL lease while the database is down), a store
// write that fails (LevelDB: refused before the append, or after it; PostgreSQL: reset before it runs, or its answer
// to the collector dropped once it has run, and the database unreachable for 50-200 ms), two collector restarts.
//
// The invariant. S: the heartbeats the actors counted as sent (each got a 2xx). A: the heartbeats an actor abandoned
// without a 2xx (out of retries; a retry skipped because the lease could not be claimed; stopped before its retry)
// although one of their attempts was committed while its sender never learned so: its answer was dropped after the
// commit or its connection cut by a restart, or (PostgreSQL) the collector's write committed but PostgreSQL's answer
// to it was lost, so the collector answered 503. Then, after the run and one more restart:
//   the keys the collector stores are exactly S ⊎ A;  heartbeats_total = |S| + |A|;  |S| = Σ heartbeats_sent;
// each key was committed once (every other attempt of it was a duplicate, or refused); every 202 dropped on its way
// back was committed; each breakdown sums to heartbeats_total, and the stats are the same after the restart.
// A LevelDB write reported failed is not committed, even when it reached the disk: recovery takes it back. A restart
// lets the writes in flight finish and a recovery complete before the store closes, so what each write came to is
// known (a process killed before it recovered may replay a refused batch: docs/reliability.md, known limits).
import { describe, expect, it } from 'vitest';
import type { CollectorStats } from '../src/collector/collector.js';
import { StoreUnavailableError } from '../src/errors.js';
import { BACKENDS, type BackendName } from './helpers/collectorBackends.js';
import { closeFaultWorld, keysIn, openFaultWorld, restartCollector, startSenders, type FaultWorld, type Sender, type SenderShape } from './helpers/faultWorld.js';
import { statementOutcome } from './helpers/pgWire.js';
import { usePostgres } from './helpers/postgres.js';
import { keyOf, statusOf, type Exchange } from './helpers/tcpProxy.js';
import { LIMITS } from './harness/limits.js';
import { pollUntil } from './harness/net.js';

const SEEDS = [1, 2, 3];
/** Generous: no request here takes more than milliseconds; a timeout would only be one more lost answer. */
const SHAPE: SenderShape = { loopSeconds: 0.08, timeoutSeconds: 5, installations: [2, 3, 4, 5, 2], replicas: [2, 2] };
const RUN_MS = 1_500;
const RESTARTS = 2;

const postgres = usePostgres();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sum = (map: Record<string, number>) => Object.values(map).reduce((a, b) => a + b, 0);
const reached = (e: Exchange) => e.delivered && (statusOf(e) ?? 0) >= 200 && statusOf(e)! < 300;

/** The run's timeline: collector restarts (one after another) and, on PostgreSQL, one outage, at seeded moments. */
async function run(world: FaultWorld): Promise<void> {
  const start = Date.now();
  const timers: NodeJS.Timeout[] = [];
  const database = world.database;
  if (database !== undefined) {
    const from = world.schedule.moments('outage', 1, 0.1 * RUN_MS, 0.7 * RUN_MS)[0]!;
    const length = world.schedule.moments('outage length', 1, 50, 200)[0]!;
    timers.push(setTimeout(() => void (database.down = true), from), setTimeout(() => void (database.down = false), from + length));
  }
  for (const at of world.schedule.moments('restarts', RESTARTS, 0.15 * RUN_MS, 0.85 * RUN_MS)) {
    await sleep(at - (Date.now() - start));
    await restartCollector(world);
  }
  await sleep(RUN_MS - (Date.now() - start));
  // The faults stop: what follows only ends the run.
  timers.forEach(clearTimeout);
  world.schedule.calm();
  if (database !== undefined) database.down = false;
}

/** Stops each actor between sends (nothing in flight), so what it counted is what reached it. */
async function stopAll(senders: Sender[]): Promise<void> {
  for (const { actor } of senders) {
    await pollUntil(() => actor.getSnapshot().status === 'done' || actor.getSnapshot().matches('waiting'));
    if (actor.getSnapshot().status !== 'done') actor.send({ type: 'telemetry.stop' });
  }
}

/** S, checked against each actor's count: the keys whose 2xx reached their actor. */
function sentKeys(senders: Sender[], label: string): string[] {
  for (const { name, actor, proxy } of senders) {
    expect(proxy.exchanges.filter(reached).length, `${label}: ${name} counts the 2xx that reached it`).toBe(actor.getSnapshot().context.heartbeatsSent);
  }
  const sent = senders.flatMap((s) => s.proxy.exchanges.filter(reached).map((e) => keyOf(e)!));
  expect(new Set(sent).size, `${label}: one 2xx per heartbeat sent`).toBe(sent.length);
  return sent;
}

/** Every commit, each key as often as it was committed: the store's "counted", and (PostgreSQL) the writes that committed while their answer was lost. */
function commitsOf(world: FaultWorld): { commits: string[]; unheard: string[] } {
  const dropped = world.database?.proxy.exchanges.filter((e) => e.fate === 'dropReply') ?? [];
  const unheard = dropped.filter((e) => statementOutcome(e.reply!) === 'committed').flatMap((e) => keysIn(e.request, world.keys));
  return { commits: [...world.served.answers.filter((a) => a.outcome === 'counted').map((a) => a.key!), ...unheard], unheard };
}

/** Checks the invariant (see the top of the file) once every actor has stopped; returns the run's figures. */
async function check(world: FaultWorld, senders: Sender[], label: string): Promise<Record<string, number>> {
  await world.served.settled();
  const sent = sentKeys(senders, label);
  const { commits, unheard } = commitsOf(world);
  expect(commits.length - new Set(commits).size, `${label}: keys committed twice`).toBe(0);
  const [committed, sentSet] = [new Set(commits), new Set(sent)];
  expect(sent.filter((key) => !committed.has(key)), `${label}: heartbeats sent but never committed`).toEqual([]);
  const exchanges = senders.flatMap((s) => s.proxy.exchanges);
  const swallowed = exchanges.filter((e) => e.fate === 'dropReply' && statusOf(e) === 202).map((e) => keyOf(e)!);
  expect(swallowed.filter((key) => !committed.has(key)), `${label}: 202s dropped on their way back, never committed`).toEqual([]);
  const abandoned = commits.filter((key) => !sentSet.has(key));
  const neverLearned = (key: string) => unheard.includes(key) || exchanges.some((e) => keyOf(e) === key && e.fate !== 'reset' && !e.delivered);
  expect(abandoned.filter((key) => !neverLearned(key)), `${label}: committed and not counted by its actor, yet its answer reached it`).toEqual([]);

  const before = await statsOnceAvailable(world);
  await restartCollector(world);
  const stats = await statsOnceAvailable(world);
  expect(JSON.stringify(stats), `${label}: stats across a restart`).toBe(JSON.stringify(before));
  expect((await world.backend.storedKeys()).sort(), `${label}: the stored keys are S ⊎ A`).toEqual([...commits].sort());
  expect(stats.heartbeats_total, `${label}: heartbeats_total = |S| + |A|`).toBe(sent.length + abandoned.length);
  expectSums(stats, label);
  return {
    'heartbeats sent': sent.length,
    'abandoned, committed': abandoned.length,
    'retried to success': sent.filter((key) => exchanges.filter((e) => keyOf(e) === key).length > 1).length,
    'gave up (stopped failed)': senders.filter((s) => s.actor.getSnapshot().context.stopReason === 'failed').length,
    'answers dropped after a commit': swallowed.length,
    'requests reset': exchanges.filter((e) => e.fate === 'reset').length,
    duplicates: world.served.answers.filter((a) => a.outcome === 'duplicate').length,
    'store answers failed': world.served.answers.filter((a) => a.outcome === 'failed').length,
    'commits answered 503': unheard.length,
  };
}

/**
 * The stats, once the store answers them: a LevelDB store still reopening after a failed write refuses reads with
 * StoreUnavailableError (the documented 503) for as long as the disk, or a busy machine, makes it take.
 */
async function statsOnceAvailable(world: FaultWorld): Promise<CollectorStats> {
  const deadline = Date.now() + LIMITS.waitMs;
  for (;;) {
    try {
      return await world.served.collector.stats();
    } catch (error) {
      if (!(error instanceof StoreUnavailableError) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

function expectSums(stats: CollectorStats, label: string): void {
  for (const breakdown of ['by_server_version', 'by_platform', 'by_environment', 'by_architecture', 'by_node_version'] as const) {
    expect(sum(stats[breakdown]), `${label}: ${breakdown} sums to heartbeats_total`).toBe(stats.heartbeats_total);
  }
  expect(sum(stats.heartbeats_by_day), `${label}: heartbeats_by_day`).toBe(stats.heartbeats_total);
}

/** One seed's run: the world, its senders, the faults, then the check. */
async function runSeed(name: BackendName, seed: number): Promise<Record<string, number>> {
  const world = await openFaultWorld(name, seed, postgres);
  let senders: Sender[] = [];
  try {
    senders = await startSenders(world, SHAPE);
    await run(world);
    await stopAll(senders);
    const figures = await check(world, senders, `${name} seed ${seed}`);
    const writeFaults = (fault: string) => world.schedule.count('store writes', fault);
    return {
      ...figures,
      ...(name === 'LevelDB'
        ? { 'writes refused before the append': world.disk!.failures.before, 'writes failed after the append': world.disk!.failures.after }
        : { 'writes reset': writeFaults('reset'), 'writes whose answer was lost': writeFaults('dropReply') }),
      'lease claims thrown': world.schedule.count('claims', 'throws'),
      restarts: RESTARTS,
    };
  } finally {
    await closeFaultWorld(world, senders);
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
    const faults = ['answers dropped after a commit', 'requests reset', 'retried to success', 'duplicates', 'store answers failed', 'lease claims thrown'];
    const stores = name === 'LevelDB' ? ['writes refused before the append', 'writes failed after the append'] : ['writes reset', 'writes whose answer was lost', 'commits answered 503'];
    for (const what of [...faults, ...stores]) expect(totals[what], what).toBeGreaterThan(0);
  }, LIMITS.testMs);
});
