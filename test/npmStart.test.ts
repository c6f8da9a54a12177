// `npm start` as the README tells people to run it: no rebuild when dist is fresh, and SIGTERM to npm stops the server.
import { execFile, spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { LIMITS } from './harness/limits.js';
import { cleanEnv, createCliSandbox, eventually } from './helpers/cli.js';

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

describe('npm start', { timeout: LIMITS.testMs * 2 }, () => {
  it('reuses a fresh build, and SIGTERM to npm stops the server it started', async (context) => {
    const cli = createCliSandbox();
    context.onTestFinished(() => cli.cleanup());
    const home = await cli.tempHome();
    // Bring dist up to date first, as `npm test` has; after that a start must not write it again.
    await promisify(execFile)(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.build.json'], { cwd: root });
    const before = await mtimes();

    const npm = spawn('npm', ['start'], { cwd: root, env: cleanEnv({ TELEMETRY_HOME: home }), stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    let stdout = '';
    npm.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    npm.stderr.resume();
    // The limit tells "started" from "hung" (npm and tsc come before the server); the speed is for `npm run bench`.
    await eventually(() => stdout.includes('"msg":"Server listening"'), LIMITS.startMs * 2);
    const { pid } = JSON.parse(await readFile(path.join(home, 'server.json'), 'utf8')) as { pid: number };
    context.onTestFinished(() => void (alive(pid) && process.kill(pid, 'SIGKILL')));

    npm.kill('SIGTERM');
    await exited;
    // The server itself must be gone too, not left running without its parent (what `sh -c node ...` did).
    await eventually(() => !alive(pid), LIMITS.shutdownMs);
    expect(stdout).toContain('"msg":"Shutting down"');
    expect(await mtimes()).toEqual(before);
  });
});
