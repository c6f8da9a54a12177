// B2: telemetry.stop while the request hangs: time until the actor is stopped and the endpoint sees the
// socket close; baseline: a modelled Prefect-style loop that notices a stop flag on a 1 s poll.
import { Level } from 'level';
import { Agent } from 'undici';
import { createActor } from 'xstate';
import { createTelemetryMachine } from '../dist/src/index.js';
import { actorInput, fmt, percentile, runIfMain, tempDir, waitUntil } from './common.js';
import { startRecordingEndpoint } from './recordingEndpoint.js';

export const meta = {
  id: 'B2',
  figure: 'telemetry.stop, request hanging -> actor stopped + socket closed (100)',
  target: 'p99 <= 20 ms',
};

const SAMPLES = 100;
const BASELINE_SAMPLES = 10;
const POLL_MS = 1_000;

/** One sample: start an actor, wait until its heartbeat hangs at the endpoint, stop it, time both ends. */
async function stopOnce(machine, endpoint) {
  const arrived = endpoint.nextRequest();
  const actor = createActor(machine, { input: actorInput(`${endpoint.origin}/api/collector`, { loopSeconds: 600 }) });
  let stoppedAt;
  actor.subscribe({ complete: () => (stoppedAt = performance.now()) });
  actor.start();
  actor.send({ type: 'telemetry.start' });
  const { closed } = await arrived;
  const t0 = performance.now();
  actor.send({ type: 'telemetry.stop' });
  const socketClosedAt = await Promise.race([closed, new Promise((r) => setTimeout(() => r(undefined), 5_000))]);
  if (socketClosedAt === undefined) throw new Error('the endpoint did not see the socket close within 5 s');
  await waitUntil(() => stoppedAt !== undefined, 5_000, 1);
  return Math.max(stoppedAt, socketClosedAt) - t0;
}

/**
 * The modelled baseline: a loop that checks a stop flag every 1000 ms, as Prefect's loop service does
 * between runs. The flag is set at a random moment in the poll period; samples run side by side, each
 * with its own timer, so 10 samples take about 2 s, not 10.
 */
async function pollBaselineOnce() {
  let stop = false;
  let noticed;
  const done = new Promise((resolve) => {
    const poll = setInterval(() => {
      if (!stop) return;
      noticed = performance.now();
      clearInterval(poll);
      resolve();
    }, POLL_MS);
  });
  await new Promise((resolve) => setTimeout(resolve, Math.random() * POLL_MS));
  const t0 = performance.now();
  stop = true;
  await done;
  return noticed - t0;
}

export async function measure() {
  const endpoint = await startRecordingEndpoint();
  const temp = await tempDir();
  const db = new Level(temp.dir);
  const dispatcher = new Agent({ keepAliveTimeout: 4_000 });
  try {
    const machine = createTelemetryMachine({ db, dispatcher });
    const baselinePromise = Promise.all(Array.from({ length: BASELINE_SAMPLES }, pollBaselineOnce));
    const ours = [];
    for (let i = 0; i < SAMPLES; i += 1) ours.push(await stopOnce(machine, endpoint));
    const base = await baselinePromise;
    const [p50, p99] = [percentile(ours, 50), percentile(ours, 99)];
    const [b50, b99] = [percentile(base, 50), percentile(base, 99)];
    return {
      ours: `p50 ${fmt(p50, ' ms')}, p99 ${fmt(p99, ' ms')}`,
      baseline: `p50 ${fmt(b50, ' ms')}, p99 ${fmt(b99, ' ms')}`,
      ratio: fmt(p99 / b99),
      pass: p99 <= 20,
      notes: `ours max ${fmt(Math.max(...ours), ' ms')}; baseline (${BASELINE_SAMPLES} samples, modelled 1 s flag poll) mean ${fmt(base.reduce((a, b) => a + b, 0) / base.length, ' ms')}`,
    };
  } finally {
    await dispatcher.close();
    await db.close();
    await temp.cleanup();
    await endpoint.close();
  }
}

runIfMain(import.meta.url, meta, measure);
