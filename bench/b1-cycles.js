// B1: heartbeat cycles per second back to back against a loopback 204, ours vs a hand-written undici loop.
import { Level } from 'level';
import { Agent, request } from 'undici';
import { createActor } from 'xstate';
import { buildHeartbeat, createTelemetryMachine } from '../dist/src/index.js';
import { actorInput, fmt, runIfMain, tempDir, waitUntil } from './common.js';
import { startEndpoint } from './endpoint.js';

export const meta = {
  id: 'B1',
  figure: 'heartbeat cycles/s, loopSeconds 1e-6, loopback 204',
  target: 'ours/baseline >= 0.9',
};

const ROUNDS = 5;
const ROUND_MS = 1_500;
const WARMUP_MS = 1_000;

/** One round of the actor: heartbeats flat out for `ms`, then telemetry.stop. Returns cycles/s. */
async function actorRound(machine, endpoint, ms) {
  const actor = createActor(machine, { input: actorInput(endpoint) });
  actor.start();
  const started = performance.now();
  actor.send({ type: 'telemetry.start' });
  await new Promise((resolve) => setTimeout(resolve, ms));
  const elapsed = performance.now() - started;
  const sent = actor.getSnapshot().context.heartbeatsSent;
  actor.send({ type: 'telemetry.stop' });
  await waitUntil(() => actor.getSnapshot().status === 'done', 5_000, 1);
  if (actor.getSnapshot().context.lastError) throw new Error(`actor failed: ${actor.getSnapshot().context.lastError}`);
  return (sent / elapsed) * 1000;
}

/** One round of the baseline: request + dump in a loop, same dispatcher, same headers and body. */
async function baselineRound(dispatcher, endpoint, session, ms) {
  const fields = { source: 'telemetry_actor', environment: 'production', apiVersion: '0.1.0', serverVersion: '0.1.0', ...session };
  const started = performance.now();
  const end = started + ms;
  let sent = 0;
  while (performance.now() < end) {
    const response = await request(endpoint, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/json', 'x-telemetry-event': 'telemetry_actor', 'user-agent': 'telemetry-actor/0.1.0' },
      body: JSON.stringify(buildHeartbeat(fields)),
    });
    await response.body.dump();
    if (response.statusCode !== 204) throw new Error(`baseline got HTTP ${response.statusCode}`);
    sent += 1;
  }
  return (sent / (performance.now() - started)) * 1000;
}

export async function measure() {
  const endpoint = await startEndpoint('204');
  const temp = await tempDir();
  const db = new Level(temp.dir);
  const dispatcher = new Agent({ keepAliveTimeout: 4_000 });
  try {
    const machine = createTelemetryMachine({ db, dispatcher });
    const url = `${endpoint.origin}/api/collector`;
    const session = { sessionId: '6f1c1f64-3f0e-4a57-9d0b-1a0c3a3b5e21', sessionStartTimestamp: new Date().toISOString() };
    // Warm both paths up (JIT, connection) before the rounds that count.
    await actorRound(machine, url, WARMUP_MS);
    await baselineRound(dispatcher, url, session, WARMUP_MS);
    const ours = [];
    const base = [];
    for (let i = 0; i < ROUNDS; i += 1) {
      // Alternate which goes first, so drift in machine load falls on both alike.
      if (i % 2 === 0) {
        ours.push(await actorRound(machine, url, ROUND_MS));
        base.push(await baselineRound(dispatcher, url, session, ROUND_MS));
      } else {
        base.push(await baselineRound(dispatcher, url, session, ROUND_MS));
        ours.push(await actorRound(machine, url, ROUND_MS));
      }
    }
    const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const ratio = mean(ours) / mean(base);
    return {
      ours: `${fmt(mean(ours))}/s`,
      baseline: `${fmt(mean(base))}/s`,
      ratio: fmt(ratio),
      pass: ratio >= 0.9,
      notes: `rounds ours ${ours.map((x) => fmt(x)).join(', ')}; baseline ${base.map((x) => fmt(x)).join(', ')}`,
    };
  } finally {
    await dispatcher.close();
    await db.close();
    await temp.cleanup();
    await endpoint.close();
  }
}

runIfMain(import.meta.url, meta, measure);
