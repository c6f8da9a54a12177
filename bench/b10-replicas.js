// B10: replica dedup. 3 server processes on one PostgreSQL, 1 s loop, 20 intervals: heartbeats delivered,
// against 3 replicas each on its own LevelDB (what the seed does: every replica sends its own).
import http from 'node:http';
import { runIfMain, sleep } from './common.js';
import { startPostgres } from './postgres.js';
import { startServerProcess } from './serverProcess.js';

export const meta = {
  id: 'B10',
  figure: 'replica dedup: 3 replicas, 1 s loop, 20 intervals',
  target: 'exactly 20 heartbeats (one per interval slot)',
  needsServer: true,
};

const INTERVALS = 20;

async function countingEndpoint() {
  const arrivals = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      arrivals.push(Date.now());
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/api/collector`, arrivals, close: () => (server.closeAllConnections(), server.close()) };
}

/**
 * Heartbeats in the first INTERVALS interval slots, counted by slots rather than wall time: the fixed-rate
 * schedule drifts by each tick's lateness, so a slot ends half an interval after the previous slot's first
 * heartbeat, wherever that fell.
 */
function inSlots(arrivals) {
  let slots = 0;
  let count = 0;
  let slotStart = -Infinity;
  for (const t of arrivals) {
    if (t >= slotStart + 500) {
      if (slots === INTERVALS) break;
      slots += 1;
      slotStart = t;
    }
    count += 1;
  }
  return count;
}

async function replicas(endpoint, env) {
  const common = { TELEMETRY_ENDPOINT: endpoint.url, TELEMETRY_LOOP_SECONDS: '1', TELEMETRY_TIMEOUT_SECONDS: '2', TELEMETRY_COLLECTOR: 'off', ...env };
  return Promise.all([1, 2, 3].map(() => startServerProcess({ env: common })));
}

export async function measure() {
  const postgres = await startPostgres();
  const shared = await countingEndpoint();
  const separate = await countingEndpoint();
  try {
    const ours = await replicas(shared, { TELEMETRY_DATABASE_URL: await postgres.database() });
    const seed = await replicas(separate, {});
    await sleep((INTERVALS + 3) * 1000);
    await Promise.all([...ours, ...seed].map((s) => s.stop()));
    const n = inSlots(shared.arrivals);
    // Three replicas that do not share a store send independently, so the slots above would merge their
    // sends: the baseline counts a plain window of INTERVALS seconds from its first heartbeat.
    const base = separate.arrivals.filter((t) => t < separate.arrivals[0] + INTERVALS * 1000).length;
    return { ours: `${n} heartbeats`, baseline: `${base} heartbeats (3 LevelDB replicas)`, ratio: (n / base).toFixed(3), pass: n === INTERVALS };
  } finally {
    shared.close();
    separate.close();
    await postgres.stop();
  }
}

runIfMain(import.meta.url, meta, measure);
