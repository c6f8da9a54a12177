// Repeating faults log a few lines a minute and one summary, never a line (and a stack) per occurrence.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createActor, toPromise } from 'xstate';
import { createTelemetryMachine } from '../src/actor/createTelemetryMachine.js';
import { createCollector } from '../src/collector/collector.js';
import { limitRepeats } from '../src/logLimit.js';
import type { CollectorStore } from '../src/stores/index.js';
import { sampleHeartbeat, telemetryInput } from './helpers/fixtures.js';
import { startEndpoint, type TestEndpoint } from './helpers/endpoint.js';
import { captureLogs } from './helpers/logs.js';
import { openTempDb } from './helpers/tempDb.js';
import { listenLocal, pollUntil } from './harness/net.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('limitRepeats', () => {
  it('writes perWindow lines of one message, then one summary when the window closes', async () => {
    const logs = captureLogs();
    const limited = limitRepeats(logs.logger, { perWindow: 3, windowMs: 100 });
    for (let i = 0; i < 50; i += 1) limited.warn({ i }, 'Something repeats');
    limited.error({}, 'Another fault');
    expect(logs.withMessage('Something repeats')).toHaveLength(3);
    expect(logs.withMessage('Another fault')).toHaveLength(1);
    await pollUntil(() => logs.withMessage('more in the last').length > 0);
    expect(logs.withMessage('more in the last')).toEqual([
      expect.objectContaining({ level: 40, msg: 'Something repeats … 47 more in the last 0.1 s', suppressed: 47 }),
    ]);
    // A new window writes again.
    limited.warn({}, 'Something repeats');
    expect(logs.withMessage('Something repeats')).toHaveLength(5);
  });
});

describe('repeating faults in the real components', () => {
  it("the collector's 'Failed to record heartbeat' (a store that keeps failing): one line with a stack, not one per request", async () => {
    const logs = captureLogs();
    // A fake: the real full disk is in test/durability.test.ts; here only the log volume is counted.
    const failingStore: CollectorStore = {
      record: () => Promise.reject(Object.assign(new Error('IO error: No space left on device'), { code: 'LEVEL_IO_ERROR' })),
      stats: () => Promise.reject(new Error('unused')),
      export: () => Promise.reject(new Error('unused')),
      purge: () => Promise.reject(new Error('unused')),
    };
    const collector = await createCollector({ store: failingStore, logger: logs.logger });
    closers.push(async () => collector.close());
    const server = http.createServer((req, res) => void collector.handlePost(req, res));
    await listenLocal(server);
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const statuses: number[] = [];
    for (let i = 0; i < 100; i += 1) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(sampleHeartbeat()) });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(new Set(statuses)).toEqual(new Set([500]));
    const lines = logs.withMessage('Failed to record heartbeat');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.err?.stack).toContain('No space left');
  });

  it('the overrun warning of a loop whose every send outlasts the interval: at most 10 a minute', async () => {
    const endpoint: TestEndpoint = await startEndpoint();
    closers.push(() => endpoint.close());
    const logs = captureLogs();
    // Each reading of the clock is 2 s later: every send "takes" longer than the 1 s loop.
    let clock = Date.parse('2026-11-29T00:00:00Z');
    const now = () => (clock += 2_000);
    const temp = await openTempDb();
    closers.push(() => temp.cleanup());
    const machine = createTelemetryMachine({ db: temp.db, logger: logs.logger, now });
    const actor = createActor(machine, { input: telemetryInput(`${endpoint.origin}/`, { loopSeconds: 1, maxLoops: 60 }) });
    actor.start();
    actor.send({ type: 'telemetry.start' });
    const output = await toPromise(actor);
    expect(output).toMatchObject({ stopReason: 'completed', heartbeatsSent: 60 });
    expect(endpoint.requests).toHaveLength(60);
    expect(logs.withMessage('took longer than the loop interval')).toHaveLength(10);
  });
});
