// B8: process start to first heartbeat received, fresh TELEMETRY_HOME, vs a bare script that opens LevelDB
// and does one undici POST (bench/b8-bare.js).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cleanEnv, fmt, median, runIfMain, tempDir } from './common.js';
import { startRecordingEndpoint } from './recordingEndpoint.js';
import { startServerProcess } from './serverProcess.js';

export const meta = {
  id: 'B8',
  figure: 'process start -> first heartbeat received, fresh home, median of 5',
  target: 'ratio <= 1.5',
  needsServer: true,
};

const SAMPLES = 5;
const BARE = fileURLToPath(new URL('./b8-bare.js', import.meta.url));
const LIMIT_MS = 20_000;

function within(promise, what) {
  return Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what} took over ${LIMIT_MS} ms`)), LIMIT_MS))]);
}

async function serverOnce(endpoint) {
  const arrived = endpoint.nextRequest();
  const server = await startServerProcess({ env: { TELEMETRY_ENDPOINT: `${endpoint.origin}/api/collector` } });
  try {
    const { arrivedAt } = await within(arrived, 'the first heartbeat');
    return arrivedAt - server.spawnedAt;
  } finally {
    await server.stop();
  }
}

async function bareOnce(endpoint) {
  const temp = await tempDir();
  const arrived = endpoint.nextRequest();
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [BARE, temp.dir, `${endpoint.origin}/api/collector`], { env: cleanEnv({ TELEMETRY_HOME: temp.dir }), stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    const { arrivedAt } = await within(arrived, 'the bare POST');
    return arrivedAt - spawnedAt;
  } finally {
    if ((await within(exited, 'the bare script')) !== 0) console.error('B8: the bare script failed');
    await temp.cleanup();
  }
}

export async function measure() {
  const endpoint = await startRecordingEndpoint({ answer: true });
  try {
    const ours = [];
    const base = [];
    for (let i = 0; i < SAMPLES; i += 1) {
      ours.push(await serverOnce(endpoint));
      base.push(await bareOnce(endpoint));
    }
    const [m, b] = [median(ours), median(base)];
    return {
      ours: fmt(m, ' ms'),
      baseline: `${fmt(b, ' ms')} (bare LevelDB + POST)`,
      ratio: fmt(m / b),
      pass: m / b <= 1.5,
      notes: `ours ${ours.map((x) => fmt(x)).join(', ')} ms; bare ${base.map((x) => fmt(x)).join(', ')} ms`,
    };
  } finally {
    await endpoint.close();
  }
}

runIfMain(import.meta.url, meta, measure);
