// What a person at a terminal sees: pretty lines (pino-pretty, an optional peer dependency) and each failure once.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { describe, expect, it, type TestContext } from 'vitest';
import { LIMITS } from './harness/limits.js';
import { CLI_PATH, cleanEnv, createCliSandbox, type CliEnv } from './helpers/cli.js';
import { listenLocal } from './harness/net.js';

/**
 * Runs the CLI under a pseudo-terminal with util-linux `script` (stdout is then a TTY), as a person would;
 * resolves with its exit code and what the terminal showed, colours removed. The limit tells "exited" from "hung".
 */
function runInTerminal(args: string[], env: CliEnv, timeoutMs = LIMITS.commandMs): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, CLI_PATH, ...args].map((word) => `'${word}'`).join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let screen = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (screen += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (screen += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`no exit within ${timeoutMs} ms: ${screen}`))), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, screen: screen.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, '') });
    });
  });
}

async function busyPort(context: TestContext): Promise<number> {
  const server = createServer();
  await listenLocal(server);
  context.onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as { port: number }).port;
}

describe('in a terminal', { timeout: LIMITS.testMs }, () => {
  it('pino-pretty is an optional peer dependency and a devDependency: `npm start` here gets pretty lines', async () => {
    const pkg = JSON.parse(await readFile(path.resolve(import.meta.dirname, '../package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
    };
    // A library user does not install it; a server user who wants pretty lines does (test/package.test.ts runs without it).
    expect(pkg.dependencies['pino-pretty']).toBeUndefined();
    expect(pkg.peerDependencies['pino-pretty']).toBe(pkg.devDependencies['pino-pretty']);
    expect(pkg.peerDependenciesMeta['pino-pretty']).toEqual({ optional: true });
  });

  it('a start-up failure shows pretty lines and its reason once, and exits 1', async (context) => {
    const cli = createCliSandbox();
    context.onTestFinished(() => cli.cleanup());
    const port = await busyPort(context);
    const { code, screen } = await runInTerminal(['server'], { TELEMETRY_HOME: await cli.tempHome(), TELEMETRY_PORT: String(port) });
    expect(code).toBe(1);
    expect(screen).toContain('ERROR');
    expect(screen).toContain('Start-up failed');
    expect(screen).not.toContain('{"level"');
    const reason = `Port ${port} on 127.0.0.1 is already in use`;
    expect(screen.split(reason).length - 1, screen).toBe(1);
  });

  it('with the error line below the log level, the reason still shows once (on stderr)', async (context) => {
    const cli = createCliSandbox();
    context.onTestFinished(() => cli.cleanup());
    const port = await busyPort(context);
    const env = { TELEMETRY_HOME: await cli.tempHome(), TELEMETRY_PORT: String(port), TELEMETRY_LOG_LEVEL: 'fatal' };
    const { code, screen } = await runInTerminal(['server'], env);
    expect(code).toBe(1);
    expect(screen).toContain(`telemetry-actor: Port ${port} on 127.0.0.1 is already in use`);
    expect(screen.split(`Port ${port} on 127.0.0.1 is already in use`).length - 1, screen).toBe(1);
  });
});
