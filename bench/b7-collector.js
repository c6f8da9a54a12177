// B7: the collector under load (autocannon, 50 connections, 10 s, POST /api/collector) vs a bare node:http
// server answering 202 to the same body; every 2xx must be counted in heartbeats_total. BENCH_B7_KEYS=1 gives
// every request an idempotency-key header of its own, as senders do (each key is then written with its heartbeat).
import autocannon from 'autocannon';
import { fmt, runIfMain } from './common.js';
import { startEndpoint } from './endpoint.js';
import { getJson, startServerProcess } from './serverProcess.js';

/** Every request a new idempotency key (BENCH_B7_KEYS=1); without, none, as B7 has always been run. */
const KEYED = process.env.BENCH_B7_KEYS === '1';

export const meta = {
  id: 'B7',
  figure: `collector: autocannon 50 conns 10 s POST /api/collector${KEYED ? ', a new idempotency-key each' : ''}`,
  target: 'ratio >= 0.5, p99 <= 20 ms, 0 errors, total = 2xx',
  needsServer: true,
};

const CONNECTIONS = 50;
const DURATION_S = 10;

const HEARTBEAT = JSON.stringify({
  source: 'telemetry_actor',
  type: 'heartbeat',
  payload: {
    platform: 'Linux',
    architecture: 'x86_64',
    node_version: process.versions.node,
    runtime: 'node',
    environment: 'production',
    api_version: '0.1.0',
    server_version: '0.1.0',
    session_id: '0b5d6a86-5f4e-4c43-9a55-3f1d2c7e8a90',
    session_start_timestamp: '2026-11-27T18:00:00.000Z',
  },
});

let keys = 0;
/** Each request a new key, as senders make one per heartbeat (retries reuse it; autocannon never retries). */
function withKey(request) {
  request.headers['idempotency-key'] = `b7-${process.pid}-${(keys += 1)}`;
  return request;
}

function load(url) {
  const request = { method: 'POST', path: '/api/collector', headers: { 'content-type': 'application/json' }, body: HEARTBEAT };
  return autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, requests: [KEYED ? { ...request, setupRequest: withKey } : request] });
}

const errorsOf = (r) => r.errors + r.timeouts + r.non2xx;

export async function measure() {
  // Telemetry off: the server's own heartbeats would add to heartbeats_total.
  const server = await startServerProcess({ env: { TELEMETRY_ENABLED: 'false', TELEMETRY_COLLECTOR: 'on' } });
  const bare = await startEndpoint('202');
  try {
    const ours = await load(`${server.url}/api/collector`);
    const { heartbeats_total: total } = await getJson(`${server.url}/api/collector/stats`);
    const base = await load(`${bare.origin}/api/collector`);
    const ratio = ours.requests.average / base.requests.average;
    const errors = errorsOf(ours);
    // autocannon drops the requests still in flight when its time is up (one per connection at most):
    // the collector may have counted those too. So: every answer was a 2xx, every 2xx was counted, and
    // nothing was counted that was not sent (2xx <= total <= sent).
    const dropped = ours.requests.sent - ours.requests.total;
    const counted = ours['2xx'] === ours.requests.total && ours['2xx'] <= total && total <= ours.requests.sent;
    const pass = ratio >= 0.5 && ours.latency.p99 <= 20 && errors === 0 && counted;
    return {
      ours: `${fmt(ours.requests.average)} req/s, p99 ${fmt(ours.latency.p99, ' ms')}, ${errors} errors`,
      baseline: `${fmt(base.requests.average)} req/s, p99 ${fmt(base.latency.p99, ' ms')}, ${errorsOf(base)} errors`,
      ratio: fmt(ratio),
      pass,
      notes:
        `heartbeats_total ${total}, 2xx ${ours['2xx']}, sent ${ours.requests.sent} (${dropped} in flight when autocannon stopped${total === ours.requests.sent ? ', all counted' : ''}); ` +
        `ours latency p50 ${fmt(ours.latency.p50, ' ms')}, max ${fmt(ours.latency.max, ' ms')}`,
    };
  } finally {
    await Promise.all([server.stop(), bare.close()]);
  }
}

runIfMain(import.meta.url, meta, measure);
