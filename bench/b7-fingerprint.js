// B7-FP: the collector's per-heartbeat fingerprint (the idempotency key's "same body?" check): the previous form,
// sha256 (createHash) of the generic sorted-keys text, against fingerprintOf, which builds the same text for the
// validated shape and hashes it in one call. CPU time per heartbeat, the two alternated in blocks.
import { createHash, randomUUID } from 'node:crypto';
import { fmt, median, runIfMain } from './common.js';

export const meta = {
  id: 'B7-FP',
  figure: 'idempotency fingerprint per heartbeat (CPU), fingerprintOf vs sha256 of the generic sorted-keys text',
  target: 'ours/before <= 0.7, same text',
};

const BODIES = 1_000;
const PASSES = 100;
const BLOCKS = Number(process.env.BENCH_FP_BLOCKS ?? 10);

const { canonical, fingerprintOf } = await import('../dist/src/stores/counting.js');
const before = (body) => createHash('sha256').update(canonical(body)).digest('base64url');

function bodies() {
  return Array.from({ length: BODIES }, (_, i) => ({
    source: 'telemetry_actor',
    type: 'heartbeat',
    payload: {
      platform: 'Linux', architecture: 'x86_64', node_version: '20.20.2', runtime: 'node', environment: 'production',
      api_version: '0.1.0', server_version: `0.1.${i % 30}`, session_id: randomUUID(), session_start_timestamp: new Date(i * 1000).toISOString(),
    },
  }));
}

/** CPU microseconds per call of `fingerprint` over every body, PASSES times. */
function block(fingerprint, list) {
  const cpu = process.cpuUsage();
  for (let pass = 0; pass < PASSES; pass += 1) for (const body of list) fingerprint(body);
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / (PASSES * list.length);
}

export async function measure() {
  const list = bodies();
  if (list.some((body) => before(body) !== fingerprintOf(body))) throw new Error('fingerprintOf differs from the previous form');
  block(before, list);
  block(fingerprintOf, list);
  const [ours, base] = [[], []];
  for (let i = 0; i < BLOCKS; i += 1) {
    if (i % 2 === 0) (base.push(block(before, list)), ours.push(block(fingerprintOf, list)));
    else (ours.push(block(fingerprintOf, list)), base.push(block(before, list)));
  }
  const ratio = median(ours) / median(base);
  return {
    ours: `${fmt(median(ours))} us`,
    baseline: `${fmt(median(base))} us`,
    ratio: fmt(ratio),
    pass: ratio <= 0.7,
    notes: `CPU per heartbeat, medians of ${BLOCKS} alternated blocks of ${PASSES} x ${BODIES} bodies; both give the same fingerprint for every body`,
  };
}

runIfMain(import.meta.url, meta, measure);
