// The group-commit queue both collector stores share: bounds (count, bytes, wait), and what a failed write does.
import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../src/errors.js';
import type { Heartbeat } from '../src/heartbeat.js';
import { approximateBytes, createGroupCommit, type QueueBounds } from '../src/stores/groupCommit.js';
import { sampleHeartbeat } from './helpers/fixtures.js';
import { LIMITS } from './harness/limits.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * A fake store write (the real ones are in test/postgres.load.test.ts): each commit waits until the test
 * lets it go, then fails as `fail` says for that group, or succeeds and records the group.
 */
function fakeStore(options: { fail?: (group: readonly Heartbeat[]) => Error | undefined; unavailable?: (error: unknown) => Error | undefined; bounds?: Partial<QueueBounds> } = {}) {
  const committed: Heartbeat[] = [];
  const commits: number[] = [];
  let gate = deferred();
  const record = createGroupCommit<Heartbeat>({
    async commit(group) {
      await gate.promise;
      commits.push(group.length);
      const error = options.fail?.(group);
      if (error !== undefined) throw error;
      committed.push(...group);
    },
    unavailable: options.unavailable ?? (() => undefined),
    bounds: options.bounds,
  });
  return {
    record,
    committed,
    commits,
    /** Lets every commit through from now on. */
    open: () => gate.resolve(),
    /** Holds commits again. */
    close: () => void (gate = deferred()),
  };
}

const settle = (promises: Promise<void>[]) => Promise.allSettled(promises);
const hasNul = (group: readonly Heartbeat[]) => group.some((h) => h.payload.environment.includes('\u0000'));

describe('group commit: a write that fails', () => {
  it('is split when the failure is its own: the good heartbeats commit, only the bad one is rejected, with its own error', async () => {
    const store = fakeStore({ fail: (group) => (hasNul(group) ? Object.assign(new Error('invalid byte sequence'), { code: '22021' }) : undefined) });
    const first = store.record(sampleHeartbeat());
    const good = Array.from({ length: 40 }, () => sampleHeartbeat());
    const bad = sampleHeartbeat({ environment: '\u0000' });
    const queued = [...good.slice(0, 20), bad, ...good.slice(20)].map(store.record);
    store.open();
    const results = await settle([first, ...queued]);
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect((rejected[0] as PromiseRejectedResult).reason).toMatchObject({ code: '22021' });
    expect((rejected[0] as PromiseRejectedResult).reason).not.toBeInstanceOf(StoreUnavailableError);
    expect(results[21]!.status).toBe('rejected');
    expect(store.committed).toHaveLength(41);
    // Halving: about 2 log2(41) writes for one bad heartbeat, not one per heartbeat.
    expect(store.commits.length).toBeLessThanOrEqual(2 + 2 * Math.ceil(Math.log2(41)));
  });

  it('refuses the group and everything queued with the store\'s error when the store is unavailable, without splitting', async () => {
    const down = new StoreUnavailableError('PostgreSQL is unavailable: ECONNREFUSED');
    let failing = true;
    const store = fakeStore({ fail: () => (failing ? Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) : undefined), unavailable: () => down });
    const pending = Array.from({ length: 30 }, () => store.record(sampleHeartbeat()));
    store.open();
    const results = await settle(pending);
    expect(results.every((r) => r.status === 'rejected' && r.reason === down)).toBe(true);
    expect(store.commits).toEqual([1]);
    failing = false;
    await store.record(sampleHeartbeat());
    expect(store.committed).toHaveLength(1);
  });
});

describe('group commit: results per entry', () => {
  it('resolves each entry with its own result, and rejects only the entry the write says failed', async () => {
    const conflict = new Error('This idempotency-key was already used with a different body');
    const record = createGroupCommit<{ n: number }, string>({
      commit: async (group) => group.map(({ n }) => (n === 3 ? conflict : n % 2 === 0 ? 'counted' : 'duplicate')),
      unavailable: () => undefined,
    });
    const results = await Promise.allSettled([0, 1, 2, 3, 4].map((n) => record({ n })));
    expect(results).toEqual([
      { status: 'fulfilled', value: 'counted' },
      { status: 'fulfilled', value: 'duplicate' },
      { status: 'fulfilled', value: 'counted' },
      { status: 'rejected', reason: conflict },
      { status: 'fulfilled', value: 'counted' },
    ]);
  });
});

describe('group commit: the queue is bounded', () => {
  it('refuses at once past maxQueued, and accepts again once the queue has been written', async () => {
    const store = fakeStore({ bounds: { maxQueued: 5 } });
    const inFlight = store.record(sampleHeartbeat());
    const queued = Array.from({ length: 5 }, () => store.record(sampleHeartbeat()));
    const started = performance.now();
    const refused = await store.record(sampleHeartbeat()).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StoreUnavailableError);
    expect(String((refused as Error).message)).toMatch(/too many heartbeats waiting/);
    // Refused while the write it would wait for is still held: no timeout was waited for.
    expect(performance.now() - started).toBeLessThan(LIMITS.promptMs);
    store.open();
    await Promise.all([inFlight, ...queued]);
    await store.record(sampleHeartbeat());
    expect(store.committed).toHaveLength(7);
  });

  it('refuses at once past maxQueuedBytes, counting the strings a heartbeat holds', async () => {
    const big = sampleHeartbeat({ environment: 'x'.repeat(200) });
    const store = fakeStore({ bounds: { maxQueuedBytes: 3 * approximateBytes(big) } });
    const inFlight = store.record(big);
    const queued = [store.record(big), store.record(big), store.record(big)];
    await expect(store.record(big)).rejects.toBeInstanceOf(StoreUnavailableError);
    // 'production' became 200 characters: 190 more, at two bytes each.
    expect(approximateBytes(big)).toBe(approximateBytes(sampleHeartbeat()) + 380);
    store.open();
    await Promise.all([inFlight, ...queued]);
  });

  it('refuses a heartbeat that waited maxWaitMs for its write to start, while that write still hangs', async () => {
    const store = fakeStore({ bounds: { maxWaitMs: 200 } });
    const inFlight = store.record(sampleHeartbeat());
    const started = performance.now();
    const waited = await store.record(sampleHeartbeat()).catch((error: unknown) => error);
    const ms = performance.now() - started;
    expect(waited).toBeInstanceOf(StoreUnavailableError);
    expect(String((waited as Error).message)).toMatch(/waited 200 ms/);
    expect(ms).toBeGreaterThanOrEqual(190);
    expect(ms).toBeLessThan(LIMITS.promptMs);
    store.open();
    await inFlight;
    expect(store.committed).toHaveLength(1);
  });
});
