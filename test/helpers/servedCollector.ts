// The real collector served over HTTP on 127.0.0.1:0 in this process, over one backend's real store
// (collectorBackends.ts), restartable as a process restart is: connections cut, the store closed and opened again
// on the same data, a new port. It keeps what the store said of every heartbeat it was given, across restarts.
import http from 'node:http';
import { createCollector, type Collector } from '../../src/collector/collector.js';
import { sendJson } from '../../src/httpJson.js';
import type { CollectorStore, CountedHeartbeat, RecordOutcome } from '../../src/stores/collectorStore.js';
import { TEST_BOUNDS, type BackendStore } from './collectorBackends.js';
import { LIMITS } from '../harness/limits.js';
import { listenLocal } from '../harness/net.js';

/** What the store said of one heartbeat: `failed` is a rejection (the collector answered 503, 422 or 500). */
export interface StoreAnswer {
  key: string | undefined;
  outcome: RecordOutcome | 'failed';
}

export interface ServedCollector {
  /** The current port and `http://127.0.0.1:<port>` (both change at each restart). */
  readonly port: number;
  readonly origin: string;
  readonly collector: Collector;
  /** Every store answer so far, in the order they came, across restarts. */
  answers: StoreAnswer[];
  /** Called with the new port after each restart (a proxy retargets). */
  onRestart(listener: (port: number) => void): void;
  /**
   * Restarts: cuts every connection (requests in flight get no answer), lets the store's writes in flight finish,
   * runs `beforeReopen` (e.g. waits for a LevelDB recovery), closes and reopens the store, listens on a new port.
   */
  restart(beforeReopen?: () => Promise<void>): Promise<void>;
  /** Resolves once no store write is in flight. */
  settled(): Promise<void>;
  /** Stops serving (the backend is closed by its owner). */
  close(): Promise<void>;
}

/** Serves the collector on `backend`'s store: POST /api/collector and GET /api/collector/stats. */
export async function serveCollector(backend: BackendStore): Promise<ServedCollector> {
  const answers: StoreAnswer[] = [];
  const inFlight = new Set<Promise<unknown>>();
  const listeners: Array<(port: number) => void> = [];
  /** The store, with every answer kept. */
  const observed = (store: CollectorStore): CollectorStore => ({
    ...store,
    record(heartbeat: CountedHeartbeat) {
      const key = heartbeat.idempotency?.key;
      const result = store.record(heartbeat).then(
        (outcome) => (answers.push({ key, outcome }), outcome),
        (error: unknown) => (answers.push({ key, outcome: 'failed' }), Promise.reject(error)),
      );
      const tracked = result.catch(() => undefined).finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      return result;
    },
  });
  let current = await listen(await createCollector({ store: observed(backend.store), storeOptions: TEST_BOUNDS }));
  const settled = async () => {
    while (inFlight.size > 0) await Promise.all(inFlight);
  };

  return {
    get port() {
      return current.port;
    },
    get origin() {
      return current.origin;
    },
    get collector() {
      return current.collector;
    },
    answers,
    onRestart: (listener) => void listeners.push(listener),
    async restart(beforeReopen) {
      await current.close();
      await settled();
      await beforeReopen?.();
      const store = await reopenEventually(backend);
      current = await listen(await createCollector({ store: observed(store), storeOptions: TEST_BOUNDS }));
      for (const listener of listeners) listener(current.port);
    },
    settled,
    close: () => current.close(),
  };
}

/** Reopens the store, again and again while its database cannot be reached, as a supervisor restarts a process that exits. */
async function reopenEventually(backend: BackendStore): Promise<CollectorStore> {
  const deadline = Date.now() + LIMITS.waitMs;
  for (;;) {
    try {
      return await backend.reopen();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** A collector listening on 127.0.0.1: its port and origin, and `close` (the collector's purge timer, every connection, the server). */
export interface ListeningCollector {
  readonly port: number;
  readonly origin: string;
  close(): Promise<void>;
}

/** Serves `collector` on 127.0.0.1:0: POST /api/collector, GET /api/collector/stats, 404 for anything else. */
export async function listenCollector(collector: Collector): Promise<ListeningCollector> {
  const server = http.createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/api/collector') void collector.handlePost(req, res);
    else if (req.method === 'GET' && req.url === '/api/collector/stats') void collector.handleStats(req, res);
    else sendJson(res, 404, { error: 'Not found' });
  });
  const port = await listenLocal(server);
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    async close() {
      collector.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function listen(collector: Collector) {
  return { collector, ...(await listenCollector(collector)) };
}
