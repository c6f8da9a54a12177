// B4: heap used after a full GC at 1k and at 10k heartbeat cycles of one actor (run with --expose-gc).
import { Level } from 'level';
import { Agent } from 'undici';
import { createActor } from 'xstate';
import { createTelemetryMachine } from '../dist/src/index.js';
import { actorInput, fmt, runIfMain, tempDir, waitUntil } from './common.js';
import { startEndpoint } from './endpoint.js';

export const meta = {
  id: 'B4',
  figure: 'heap used after GC at 1k and 10k cycles (one actor)',
  target: 'growth <= 1 MB',
  nodeArgs: ['--expose-gc'],
};

const CHECKPOINTS = [1_000, 10_000];
const TIME_LIMIT_MS = 60_000;
const MB = 1024 * 1024;

function heapAfterGc() {
  // Two passes: the first can leave weakly held or finalizable objects for the second.
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
}

export async function measure() {
  if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');
  const endpoint = await startEndpoint('204');
  const temp = await tempDir();
  const db = new Level(temp.dir);
  const dispatcher = new Agent({ keepAliveTimeout: 4_000 });
  const actor = createActor(createTelemetryMachine({ db, dispatcher }), { input: actorInput(`${endpoint.origin}/api/collector`) });
  try {
    const heap = new Map();
    // Measured inside the snapshot listener, so each checkpoint is taken at the same point of a cycle.
    actor.subscribe((snapshot) => {
      const sent = snapshot.context.heartbeatsSent;
      if (CHECKPOINTS.includes(sent) && !heap.has(sent)) heap.set(sent, heapAfterGc());
    });
    actor.start();
    actor.send({ type: 'telemetry.start' });
    await waitUntil(() => heap.size === CHECKPOINTS.length || actor.getSnapshot().status !== 'active', TIME_LIMIT_MS, 20);
    if (heap.size < CHECKPOINTS.length) throw new Error(`actor stopped early: ${actor.getSnapshot().context.lastError}`);
    const [at1k, at10k] = CHECKPOINTS.map((n) => heap.get(n));
    const growth = at10k - at1k;
    return {
      ours: `${fmt(at1k / MB, ' MB')} -> ${fmt(at10k / MB, ' MB')} (${growth >= 0 ? '+' : ''}${fmt(growth / MB, ' MB')})`,
      baseline: '—',
      ratio: '—',
      pass: growth <= MB,
      notes: `${fmt(growth / (CHECKPOINTS[1] - CHECKPOINTS[0]), ' bytes')} per cycle between the checkpoints`,
    };
  } finally {
    actor.stop();
    await dispatcher.close();
    await db.close();
    await temp.cleanup();
    await endpoint.close();
  }
}

runIfMain(import.meta.url, meta, measure);
