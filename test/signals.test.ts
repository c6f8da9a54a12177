// Signals a process manager or a terminal may send: each one shuts the server down cleanly, and no signal,
// at any moment, leaves <home>/server.json behind.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI_PATH, cleanEnv, createCliSandbox, type CliSandbox } from './helpers/cli.js';
import { LIMITS } from './harness/limits.js';

let cli: CliSandbox;
beforeEach(() => {
  cli = createCliSandbox();
});
afterEach(() => cli.cleanup());

const serverJson = (home: string) => path.join(home, 'server.json');

describe('signals', { timeout: 2 * LIMITS.testMs }, () => {
  for (const signal of ['SIGHUP', 'SIGUSR2', 'SIGTERM', 'SIGINT'] as const) {
    it(`${signal} shuts down cleanly: exit 0, "Signal received", no server.json left`, async () => {
      const home = await cli.tempHome();
      const server = await cli.startServerProcess({ TELEMETRY_HOME: home, TELEMETRY_ENABLED: 'false' });
      expect(existsSync(serverJson(home))).toBe(true);
      const stopped = await server.stop(signal);
      expect(stopped).toMatchObject({ code: 0, signal: null });
      expect(server.lines.some((line) => line.msg === 'Signal received' && line.signal === signal)).toBe(true);
      expect(server.lines.some((line) => line.msg === 'Shutting down')).toBe(true);
      expect(existsSync(serverJson(home))).toBe(false);
      expect(server.stderr()).toBe('');
    });
  }

  it('a second signal exits at once, and still leaves no server.json', async () => {
    const home = await cli.tempHome();
    const server = await cli.startServerProcess({ TELEMETRY_HOME: home, TELEMETRY_ENABLED: 'false' });
    server.child.kill('SIGHUP');
    server.child.kill('SIGUSR2');
    const exited = await server.exited;
    expect(exited.signal).toBeNull();
    expect([0, 1]).toContain(exited.code);
    expect(existsSync(serverJson(home))).toBe(false);
  });

  it('SIGHUP and SIGUSR2 at spread-out moments of start-up never leave server.json', async () => {
    const home = await cli.tempHome();
    // Calibrated on this machine: how long a start takes to listen, so the kills span before and after it.
    const started = performance.now();
    const probe = await cli.startServerProcess({ TELEMETRY_HOME: home, TELEMETRY_ENABLED: 'false' });
    const startMs = performance.now() - started;
    await probe.stop('SIGTERM');
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i += 1) {
      const signal = i % 2 === 0 ? 'SIGHUP' : 'SIGUSR2';
      const child = spawn(process.execPath, [CLI_PATH, 'server'], {
        env: cleanEnv({ TELEMETRY_HOME: home, TELEMETRY_ENABLED: 'false' }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      child.stderr.resume();
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once('exit', (code, sig) => resolve({ code, signal: sig })),
      );
      // Half the kills land while it starts (0 to 0.75 of the calibrated start time: before Node is up, while
      // it loads), half just after it listens (server.json written): a busy machine moves both alike.
      if (i < 4) await new Promise((resolve) => setTimeout(resolve, (i / 4) * startMs));
      else {
        while (!out.includes('Server listening') && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 5));
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 100));
      }
      child.kill(signal);
      // Tells an exit from a hang (a clean shutdown takes well under a second).
      const result = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('hung'), LIMITS.shutdownMs))]);
      if (result === 'hung') child.kill('SIGKILL');
      expect(result).not.toBe('hung');
      outcomes.push(out.includes('Server listening') ? 'after listen' : 'before listen');
      expect(existsSync(serverJson(home))).toBe(false);
    }
    // Both kinds of moment occurred, so the kills covered the file's whole life.
    expect(new Set(outcomes)).toEqual(new Set(['before listen', 'after listen']));
  });
});
