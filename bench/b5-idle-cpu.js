// B5: CPU time of the server over 30 s with telemetry in `waiting`, vs the same server with telemetry off.
// The two servers idle side by side: each one's CPU time is its own (per-thread scheduler counters), and
// two idle processes do not contend for 2 cores, so this halves the figure's wall time.
import { fmt, runIfMain, sleep, waitUntil } from './common.js';
import { cpuTimeMs, getJson, startServerProcess, wakeups } from './serverProcess.js';

export const meta = {
  id: 'B5',
  figure: 'server CPU time over 30 s, telemetry `waiting`',
  target: 'difference <= 5 ms',
  needsServer: true,
};

const WINDOW_MS = 30_000;
/** Start-up work settles first: the first heartbeat, its keep-alive socket timing out (4 s), lazy compiles. */
const SETTLE_MS = 12_000;
/**
 * V8's memory reducer runs full GCs (60-120 ms of CPU over all threads) at varying times in the first
 * half minute of both servers alike (seen with --trace-gc); left on, they swamp a 5 ms target either way.
 */
const NODE_ARGS = ['--no-memory-reducer'];

export async function measure() {
  const [ours, off] = await Promise.all([
    // Reports to its own collector, as a default install does; 600 s between heartbeats.
    startServerProcess({ nodeArgs: NODE_ARGS, env: { TELEMETRY_LOOP_SECONDS: '600' } }),
    startServerProcess({ nodeArgs: NODE_ARGS, env: { TELEMETRY_ENABLED: 'false' } }),
  ]);
  for (const [name, server] of [['telemetry on', ours], ['telemetry off', off]]) {
    server.exited.then(({ code, signal }) => {
      if (!server.stopping) console.error(`B5: the ${name} server exited early (${code ?? signal}): ${server.lines.slice(-3).join(' | ')}`);
    });
  }
  try {
    await waitUntil(async () => {
      const status = await getJson(`${ours.url}/api/telemetry`);
      return status.state === 'waiting' && status.heartbeats_sent >= 1;
    }, 15_000, 50);
    await sleep(SETTLE_MS);
    const sample = () => Promise.all([cpuTimeMs(ours.pid), cpuTimeMs(off.pid), wakeups(ours.pid), wakeups(off.pid)]);
    const start = await sample();
    await sleep(WINDOW_MS);
    const end = await sample();
    const [oursMs, offMs, oursWakeups, offWakeups] = end.map((value, i) => value - start[i]);
    // Read after the window, so the check costs nothing inside it.
    const status = await getJson(`${ours.url}/api/telemetry`);
    if (status.state !== 'waiting' || status.heartbeats_sent !== 1) {
      throw new Error(`telemetry left waiting during the window: ${status.state}, ${status.heartbeats_sent} sent`);
    }
    const diff = oursMs - offMs;
    return {
      ours: fmt(oursMs, ' ms'),
      baseline: `${fmt(offMs, ' ms')} (telemetry off)`,
      ratio: fmt(oursMs / offMs),
      pass: diff <= 5,
      notes:
        `difference ${fmt(diff, ' ms')} over ${WINDOW_MS / 1000} s, from ${SETTLE_MS / 1000} s after the first heartbeat; ` +
        `wakeups (voluntary context switches, all threads) ${oursWakeups} vs ${offWakeups}; both servers side by side, ${NODE_ARGS.join(' ')}`,
    };
  } finally {
    await Promise.all([ours.stop(), off.stop()]);
  }
}

runIfMain(import.meta.url, meta, measure);
