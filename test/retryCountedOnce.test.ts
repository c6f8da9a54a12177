// At-least-once delivery made harmless: a 202 that lands at the deadline is retried under the same
// idempotency key, and the collector counts the heartbeat once.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createActor, toPromise } from 'xstate';
import { createTelemetryMachine } from '../src/actor/createTelemetryMachine.js';
import { SENT_FIELDS } from '../src/heartbeat.js';
import { createCollector } from '../src/collector/collector.js';
import { telemetryInput } from './helpers/fixtures.js';
import { captureLogs } from './helpers/logs.js';
import { openTempDb } from './helpers/tempDb.js';
import { listenLocal } from './harness/net.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function listen(server: http.Server): Promise<string> {
  await listenLocal(server);
  closers.push(() => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('a heartbeat sent twice is counted once', () => {
  it('TELEMETRY_RETRIES=1 and a 202 that arrives after the deadline: two requests, one key, one count', { timeout: 30_000 }, async () => {
    const collectorDb = await openTempDb();
    closers.push(() => collectorDb.cleanup());
    const collector = await createCollector({ db: collectorDb.db });
    closers.push(async () => collector.close());
    const collectorUrl = await listen(http.createServer((req, res) => void collector.handlePost(req, res)));

    // In front of the real collector: passes every request on; the first answer is held until the client
    // has given up (its deadline), so the heartbeat is stored but the sender sees a timeout and retries.
    const seen: Array<{ key: string | undefined; payload: Record<string, unknown> }> = [];
    const front = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const key = req.headers['idempotency-key'] as string | undefined;
        seen.push({ key, payload: (JSON.parse(body) as { payload: Record<string, unknown> }).payload });
        const first = seen.length === 1;
        const answer = await fetch(collectorUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { 'idempotency-key': key }) },
          body,
        });
        await answer.arrayBuffer();
        if (first) await new Promise((resolve) => (res.destroyed ? resolve(undefined) : res.once('close', resolve)));
        if (!res.destroyed) res.writeHead(answer.status).end();
      });
    });
    const endpoint = await listen(front);

    const sessionDb = await openTempDb();
    closers.push(() => sessionDb.cleanup());
    const logs = captureLogs();
    const machine = createTelemetryMachine({ db: sessionDb.db, logger: logs.logger });
    const actor = createActor(machine, {
      // 2 s: the deadline the first answer misses on purpose, and ample for the others (a few ms each).
      input: telemetryInput(`${endpoint}/`, { timeoutSeconds: 2, retries: 1, loopSeconds: 1, maxLoops: 2 }),
    });
    actor.start();
    actor.send({ type: 'telemetry.start' });
    expect(await toPromise(actor)).toMatchObject({ stopReason: 'completed', heartbeatsSent: 2 });

    // Three requests: the first heartbeat twice (its retry), then the second heartbeat.
    expect(seen).toHaveLength(3);
    const stats = await collector.stats();
    expect(stats.heartbeats_total).toBe(2);
    expect(seen[0]!.key).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen[1]!.key).toBe(seen[0]!.key);
    expect(seen[2]!.key).not.toBe(seen[0]!.key);
    // The key is a header: the payload keeps exactly the documented fields.
    for (const { payload } of seen) expect(Object.keys(payload).sort()).toEqual([...SENT_FIELDS].sort());
    expect(logs.withMessage('retrying')).toHaveLength(1);
  });
});
