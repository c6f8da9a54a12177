// B3: SIGTERM to process exit while the heartbeat hangs at the endpoint, vs the same server with telemetry off.
import { fmt, median, runIfMain } from './common.js';
import { startRecordingEndpoint } from './recordingEndpoint.js';
import { startServerProcess } from './serverProcess.js';

export const meta = {
  id: 'B3',
  figure: 'SIGTERM -> exit, heartbeat hanging, median of 10',
  target: '<= 300 ms',
  needsServer: true,
};

const SAMPLES = 10;

/** Starts a server, waits until it is in the state to measure, SIGTERMs it and times the exit. */
async function sigtermOnce(endpoint, telemetry) {
  const arrived = telemetry ? endpoint.nextRequest() : undefined;
  const env = telemetry
    ? { TELEMETRY_ENDPOINT: `${endpoint.origin}/api/collector`, TELEMETRY_LOOP_SECONDS: '600', TELEMETRY_TIMEOUT_SECONDS: '30' }
    : { TELEMETRY_ENABLED: 'false' };
  const server = await startServerProcess({ env });
  if (arrived) await arrived; // the heartbeat is now hanging at the endpoint
  const t0 = performance.now();
  const { code, at } = await server.stop();
  if (code !== 0) throw new Error(`server exited with ${code} after SIGTERM: ${server.lines.slice(-3).join(' | ')}`);
  return at - t0;
}

export async function measure() {
  const endpoint = await startRecordingEndpoint();
  try {
    const ours = [];
    const base = [];
    for (let i = 0; i < SAMPLES; i += 1) {
      ours.push(await sigtermOnce(endpoint, true));
      base.push(await sigtermOnce(endpoint, false));
    }
    const [m, b] = [median(ours), median(base)];
    return {
      ours: fmt(m, ' ms'),
      baseline: `${fmt(b, ' ms')} (telemetry off)`,
      ratio: fmt(m / b),
      pass: m <= 300,
      notes: `ours ${fmt(Math.min(...ours), ' ms')}..${fmt(Math.max(...ours), ' ms')}; off ${fmt(Math.min(...base), ' ms')}..${fmt(Math.max(...base), ' ms')}`,
    };
  } finally {
    await endpoint.close();
  }
}

runIfMain(import.meta.url, meta, measure);
