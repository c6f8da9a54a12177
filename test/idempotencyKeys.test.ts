// Every heartbeat the actor counts as sent reaches the collector under a key of its own: a new key for every
// heartbeat (attempt 0), whatever happened before it; retries reuse theirs. Real LevelDB, real HTTP.
import { afterEach, describe, expect, it } from 'vitest';
import { createActor, toPromise } from 'xstate';
import { createTelemetryMachine } from '../src/actor/createTelemetryMachine.js';
import { createLevelSessionStore, type HeartbeatLease, type SessionStore } from '../src/stores/index.js';
import { StoreUnavailableError } from '../src/errors.js';
import { telemetryInput } from './helpers/fixtures.js';
import { reply, startEndpoint, type TestEndpoint } from './helpers/endpoint.js';
import { openTempDb, type TempDb } from './helpers/tempDb.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function setUp(): Promise<{ endpoint: TestEndpoint; temp: TempDb }> {
  const endpoint = await startEndpoint(reply(202));
  const temp = await openTempDb();
  closers.push(() => endpoint.close(), () => temp.cleanup());
  return { endpoint, temp };
}

/** A fake lease (no shared store here) whose claims succeed, except the ones listed, which throw. */
function fakeLease(failing: number[]): HeartbeatLease & { claims: number } {
  const lease = {
    claims: 0,
    async claim() {
      lease.claims += 1;
      if (failing.includes(lease.claims)) throw new StoreUnavailableError('heartbeat lease unavailable: ECONNREFUSED (fake)');
      return { claimed: true, ageMs: 0 };
    },
  };
  return lease;
}

const keysOf = (endpoint: TestEndpoint) => endpoint.requests.map((r) => String(r.headers['idempotency-key']));

describe('idempotency keys', () => {
  it('a failed lease claim consumes no key: the next heartbeat has a new one, and every heartbeat counted as sent has its own', async () => {
    const { endpoint, temp } = await setUp();
    const lease = fakeLease([2]);
    const machine = createTelemetryMachine({ db: temp.db, lease });
    const actor = createActor(machine, { input: telemetryInput(`${endpoint.origin}/c`, { loopSeconds: 1, retries: 1, maxLoops: 3 }) });
    actor.start();
    actor.send({ type: 'telemetry.start' });
    const output = await toPromise(actor);
    expect(output).toMatchObject({ stopReason: 'completed', heartbeatsSent: 3 });
    const keys = keysOf(endpoint);
    // Before: the failed claim was a failed send, its retry reused the previous heartbeat's key ([K1, K1, K2]):
    // the collector dropped one as a duplicate while the actor counted three.
    expect(new Set(keys).size).toBe(output.heartbeatsSent);
    expect(keys).toHaveLength(output.heartbeatsSent);
    expect(lease.claims).toBe(4); // the second claim skipped its interval
  });

  it('a heartbeat whose session could not be read retries under a new key, never the previous heartbeat\'s', async () => {
    const { endpoint, temp } = await setUp();
    const real = createLevelSessionStore(temp.db);
    let reads = 0;
    // A fake over the real store: its second read (the second heartbeat) fails once.
    const sessions: SessionStore = {
      ...real,
      getOrCreate: (options) => (++reads === 3 ? Promise.reject(new Error('read failed (fake)')) : real.getOrCreate(options)),
    };
    const machine = createTelemetryMachine({ sessions });
    const actor = createActor(machine, { input: telemetryInput(`${endpoint.origin}/c`, { loopSeconds: 1, retries: 1, maxLoops: 3 }) });
    actor.start();
    actor.send({ type: 'telemetry.start' });
    const output = await toPromise(actor);
    expect(output).toMatchObject({ stopReason: 'completed', heartbeatsSent: 3 });
    expect(new Set(keysOf(endpoint)).size).toBe(3);
    expect(keysOf(endpoint)).toHaveLength(3);
  });

  it('a retried POST reuses its own key; the next heartbeat gets a new one', async () => {
    const { endpoint, temp } = await setUp();
    endpoint.script(reply(503, '', { 'retry-after': '0' }));
    const machine = createTelemetryMachine({ db: temp.db });
    const actor = createActor(machine, { input: telemetryInput(`${endpoint.origin}/c`, { loopSeconds: 1, retries: 1, maxLoops: 2 }) });
    actor.start();
    actor.send({ type: 'telemetry.start' });
    expect(await toPromise(actor)).toMatchObject({ stopReason: 'completed', heartbeatsSent: 2 });
    const keys = keysOf(endpoint);
    expect(keys).toHaveLength(3);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[0]);
  });
});
