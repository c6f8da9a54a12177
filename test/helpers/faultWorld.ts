// A small fleet under seeded random faults, for the "counted exactly once" property test: real telemetry actors,
// each sending through a TCP proxy of its own to the real collector served on 127.0.0.1 over a real backend, with
// faults at real seams, each drawn from its own stream of one seed (faultSchedule.ts): the answers a proxy drops
// after the commit or the requests it resets, the claims of a lease, the store's writes (LevelDB: a fake disk;
// PostgreSQL: a proxy in front of the database that resets a write, drops its answer after the commit, or is
// down for a while), and collector restarts.
import { createActor, type Actor } from 'xstate';
import { createTelemetryMachine } from '../../src/actor/createTelemetryMachine.js';
import { StoreUnavailableError } from '../../src/errors.js';
import { createStorage, type HeartbeatLease } from '../../src/stores/index.js';
import { openLevelBackend, openPostgresBackend, type BackendName, type BackendStore } from './collectorBackends.js';
import { createFaultSchedule, type FaultSchedule, type Seam } from './faultSchedule.js';
import { createFlakyDisk, type FlakyDisk } from './flakyDisk.js';
import { telemetryInput } from './fixtures.js';
import { replyEnded } from './pgWire.js';
import type { TestPostgres } from './postgres.js';
import { serveCollector, type ServedCollector } from './servedCollector.js';
import { keyOf, startTcpProxy, type TcpProxy } from './tcpProxy.js';
import { openTempDb } from './tempDb.js';
import { pollUntil } from '../harness/net.js';

type Machine = ReturnType<typeof createTelemetryMachine>;

/** One actor and the proxy its heartbeats go through (its exchanges are what reached it). */
export interface Sender {
  name: string;
  actor: Actor<Machine>;
  proxy: TcpProxy;
}

/** PostgreSQL behind a proxy: `down` makes it unreachable (every exchange reset before it is forwarded). */
export interface Database {
  proxy: TcpProxy;
  down: boolean;
  /** The collector's database, through the proxy. */
  url: string;
}

export interface FaultWorld {
  schedule: FaultSchedule;
  backend: BackendStore;
  served: ServedCollector;
  /** Every idempotency key the actors have sent so far. */
  keys: Set<string>;
  disk?: FlakyDisk;
  database?: Database;
  closers: Array<() => Promise<unknown>>;
}

/** How the actors run: their loop, timeout, and a retry count for each. */
export interface SenderShape {
  loopSeconds: number;
  timeoutSeconds: number;
  /** Installations of their own (a LevelDB session each, a fake lease whose claims may throw), by their retries. */
  installations: number[];
  /** PostgreSQL only: replicas of one deployment (its session and real lease in the collector's database), by their retries. */
  replicas: number[];
}

const UUIDS = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** The heartbeat keys a PostgreSQL message carries (in a write's parameters, whatever its statement or prepared name). */
export const keysIn = (message: Buffer, keys: ReadonlySet<string>): string[] => (message.toString('latin1').match(UUIDS) ?? []).filter((id) => keys.has(id));

/** The backend, its store's faults and the collector served over it; `postgres` for the PostgreSQL one. */
export async function openFaultWorld(name: BackendName, seed: number, postgres: () => TestPostgres): Promise<FaultWorld> {
  const schedule = createFaultSchedule(seed);
  const keys = new Set<string>();
  if (name === 'LevelDB') {
    // One write of each kind fails, at seeded places among the first 25 (each failure stops the store's
    // writes for a recovery of 250 ms or more, which outlasts the retries of some actors).
    const [before, after] = ['before', 'after'].map((kind, i) => 2 * Math.floor(schedule.moments(`store write ${kind}`, 1, 2, 12)[0]!) + i);
    let writes = 0;
    const disk = createFlakyDisk(() => {
      writes += 1;
      return writes === before ? 'before' : writes === after ? 'after' : undefined;
    });
    const backend = await openLevelBackend({ disk: disk.wrap });
    return { schedule, backend, served: await serveCollector(backend), keys, disk, closers: [() => backend.close()] };
  }
  // As on LevelDB, one write of each kind fails at a seeded place among the first few that carry a key (a busy
  // machine makes few writes in a run, and the seam alone drew no lost answer in some); the seam decides the rest.
  const place = (i: number) => 2 * Math.floor(schedule.moments(`store write ${i}`, 1, 1, 4)[0]!) + i;
  const writes = schedule.seam('store writes', { pass: 0.92, reset: 0.04, dropReply: 0.04 }, { [place(0)]: 'reset', [place(1)]: 'dropReply' });
  const database: Database = { proxy: undefined as unknown as TcpProxy, down: false, url: '' };
  database.proxy = await startTcpProxy({
    target: Number(new URL(postgres().adminUrl).port),
    decide: (request) => (database.down ? 'reset' : keysIn(request, keys).length > 0 ? writes.next() : 'pass'),
    replyComplete: replyEnded,
  });
  const through = (url: string) => Object.assign(new URL(url), { port: String(database.proxy.port) }).toString();
  const backend = await openPostgresBackend(postgres(), { through });
  database.url = through(backend.url!);
  return { schedule, backend, served: await serveCollector(backend), keys, database, closers: [() => database.proxy.close(), () => backend.close()] };
}

/** A fake lease (these installations have no peer): granted, unless the seam says the claim throws, as the PostgreSQL lease does when its database is unreachable. */
function flakyLease(claims: Seam<'granted' | 'throws'>): HeartbeatLease {
  return {
    async claim() {
      if (claims.next() === 'throws') throw new StoreUnavailableError('heartbeat lease unavailable: ECONNRESET (fake)');
      return { claimed: true, ageMs: 0 };
    },
  };
}

/** Starts every sender of `shape`. */
export async function startSenders(world: FaultWorld, shape: SenderShape): Promise<Sender[]> {
  const sessions = await openTempDb();
  world.closers.push(() => sessions.cleanup());
  const senders: Sender[] = [];
  for (const [i, retries] of shape.installations.entries()) {
    const lease = flakyLease(world.schedule.seam(`claims ${i}`, { granted: 0.92, throws: 0.08 }));
    const machine = createTelemetryMachine({ db: sessions.db.sublevel(`installation-${i}`), lease });
    senders.push(await startSender(world, `installation ${i}`, machine, { ...shape, retries }));
  }
  for (const [i, retries] of (world.database === undefined ? [] : shape.replicas).entries()) {
    const storage = await createStorage({ home: '/nonexistent', dbPath: '/nonexistent/db', databaseUrl: world.database!.url });
    await storage.open();
    world.closers.push(() => storage.close());
    const machine = createTelemetryMachine({ sessions: storage.sessions, lease: storage.lease });
    senders.push(await startSender(world, `replica ${i}`, machine, { ...shape, retries }));
  }
  return senders;
}

/** A sender through a proxy of its own (its answers' fates are its own seam), retargeted at each collector restart. */
async function startSender(world: FaultWorld, name: string, machine: Machine, shape: Omit<SenderShape, 'installations' | 'replicas'> & { retries: number }): Promise<Sender> {
  const answers = world.schedule.seam(`answers ${name}`, { pass: 0.8, dropReply: 0.1, reset: 0.1 });
  const decide = (request: Buffer) => {
    const key = keyOf(request);
    if (key !== undefined) world.keys.add(key);
    return answers.next();
  };
  const proxy = await startTcpProxy({ target: world.served.port, decide });
  world.served.onRestart((port) => proxy.retarget(port));
  world.closers.push(() => proxy.close());
  const { loopSeconds, timeoutSeconds, retries } = shape;
  const actor = createActor(machine, { input: telemetryInput(`${proxy.origin}/api/collector`, { loopSeconds, timeoutSeconds, retries }) });
  actor.start();
  actor.send({ type: 'telemetry.start' });
  return { name, actor, proxy };
}

/** A collector restart, once a LevelDB store has recovered from a failed write (so what that write came to is known). */
export const restartCollector = (world: FaultWorld) => world.served.restart(async () => void (await pollUntil(() => world.disk?.recovering() !== true)));

/** Stops the actors, the collector, the proxies and the backend. */
export async function closeFaultWorld(world: FaultWorld, senders: Sender[]): Promise<void> {
  for (const { actor } of senders) actor.stop();
  await world.served.close();
  for (const close of world.closers.splice(0).reverse()) await close();
}
