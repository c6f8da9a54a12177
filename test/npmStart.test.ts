// `npm start` as the README tells people to run it: no rebuild when dist is fresh, and SIGTERM to npm stops the server.
import { execFile, spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, type TestContext } from 'vitest';
import { LIMITS } from './harness/limits.js';
import { cleanEnv, createCliSandbox } from './helpers/cli.js';
import { pollUntil } from './harness/net.js';

const root = path.resolve(import.meta.dirname, '..');
const builtFiles = ['dist/src/cli.js', 'dist/src/server/server.js', 'dist/machines/telemetryMachine.js'];

const mtimes = () => Promise.all(builtFiles.map(async (file) => (await stat(path.join(root, file))).mtimeMs));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `npm start` in a temp home until the server listens. `ownGroup` puts npm in its own process group, as a
 * shell does for a foreground job, so a test can send SIGINT to the whole group the way Ctrl-C does.
 */
async function startWithNpm(context: TestContext, ownGroup: boolean) {
  const cli = createCliSandbox();
  context.onTestFinished(() => cli.cleanup());
  const home = await cli.tempHome();
  const npm = spawn('npm', ['start'], { cwd: root, env: cleanEnv({ TELEMETRY_HOME: home }), stdio: ['ignore', 'pipe', 'pipe'], detached: ownGroup });
  const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
  let stdout = '';
  npm.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  npm.stderr.resume();
  // The limit tells "started" from "hung" (npm and tsc come before the server); the speed is for `npm run bench`.
  await pollUntil(() => stdout.includes('"msg":"Server listening"'), { timeoutMs: LIMITS.startMs * 2 });
  const { pid } = JSON.parse(await readFile(path.join(home, 'server.json'), 'utf8')) as { pid: number };
  context.onTestFinished(() => void (alive(pid) && process.kill(pid, 'SIGKILL')));
  return { npm, exited, server: pid, stdout: () => stdout };
}

const messages = (stdout: string) => [...stdout.matchAll(/"msg":"([^"]*)"/g)].map((match) => match[1]);

// One at a time: both run npm, tsc and a server.
describe('npm start', { timeout: LIMITS.testMs * 2 }, () => {
  it('reuses a fresh build, and SIGTERM to npm stops the server it started', async (context) => {
    // Bring dist up to date first, as `npm test` has; after that a start must not write it again.
    await promisify(execFile)(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.build.json'], { cwd: root });
    const before = await mtimes();
    const run = await startWithNpm(context, false);
    run.npm.kill('SIGTERM');
    await run.exited;
    // The server itself must be gone too, not left running without its parent (what `sh -c node ...` did).
    await pollUntil(() => !alive(run.server), { timeoutMs: LIMITS.shutdownMs });
    expect(run.stdout()).toContain('"msg":"Shutting down"');
    expect(await mtimes()).toEqual(before);
  });

  it('Ctrl-C (SIGINT to the whole foreground group) stops the server once, cleanly: npm exits 0', async (context) => {
    const run = await startWithNpm(context, true);
    process.kill(-run.npm.pid!, 'SIGINT');
    expect(await run.exited).toBe(0);
    await pollUntil(() => !alive(run.server), { timeoutMs: LIMITS.shutdownMs });
    // npm passing its own SIGINT on would make a second signal: the server would exit at once with 1.
    expect(messages(run.stdout()).filter((msg) => msg === 'Signal received')).toHaveLength(1);
    expect(messages(run.stdout())).not.toContain('Second signal: exiting at once');
  });
});
