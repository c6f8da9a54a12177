// B11: `npm start` with a fresh dist -> `Server listening`, vs `node dist/src/bin.cjs server` itself: the cost of
// npm and the incremental build check (`tsc -b`), which should be about a second, not a full rebuild.
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { CLI, cleanEnv, fmt, median, ROOT, runIfMain, tempDir } from './common.js';

export const meta = {
  id: 'B11',
  figure: 'npm start (fresh dist) -> Server listening, median of 5',
  target: 'ours - baseline <= 1 s, dist not rewritten',
  needsServer: true,
};

const SAMPLES = 5;
/** A start that has not listened by then is reported as an error, so the figure stays bounded. */
const START_LIMIT_MS = 60_000;

/** Spawns `command`, times spawn -> the `Server listening` line, then SIGTERMs it and waits for the exit. */
async function timeToListening(command, args) {
  const { dir, cleanup } = await tempDir();
  const child = spawn(command, args, { cwd: ROOT, env: cleanEnv({ TELEMETRY_HOME: dir }), stdio: ['ignore', 'pipe', 'ignore'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const t0 = performance.now();
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${command} ${args.join(' ')}: not listening within ${START_LIMIT_MS} ms`)), START_LIMIT_MS);
      let text = '';
      child.stdout.setEncoding('utf8').on('data', (chunk) => {
        text += chunk;
        if (!text.includes('"msg":"Server listening"')) return;
        clearTimeout(timer);
        resolve(performance.now() - t0);
      });
    });
  } finally {
    child.kill('SIGTERM');
    await exited;
    await cleanup();
  }
}

export async function measure() {
  const built = path.join(ROOT, 'dist/src/bin.cjs');
  const before = statSync(built).mtimeMs;
  const ours = [];
  const base = [];
  for (let i = 0; i < SAMPLES; i += 1) {
    ours.push(await timeToListening('npm', ['start']));
    base.push(await timeToListening(process.execPath, [CLI, 'server']));
  }
  const rewritten = statSync(built).mtimeMs !== before;
  const [m, b] = [median(ours), median(base)];
  return {
    ours: fmt(m, ' ms'),
    baseline: `${fmt(b, ' ms')} (node dist/src/bin.cjs server)`,
    ratio: fmt(m / b),
    pass: m - b <= 1_000 && !rewritten,
    notes: `npm start ${ours.map((v) => fmt(v)).join(', ')} ms; node ${base.map((v) => fmt(v)).join(', ')} ms; dist rewritten: ${rewritten}`,
  };
}

runIfMain(import.meta.url, meta, measure);
