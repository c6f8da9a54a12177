// Who owns a home's database: while a live server does, commands ask it through its API and never open the
// database; a stale server.json is ignored and removed; a start never fails on a command's brief lock.
import { writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCliSandbox, readStoredSessionValue, startCountingEndpoint } from './helpers/cli.js';

const cli = createCliSandbox();
afterEach(() => cli.cleanup());

describe('database ownership', { timeout: 60_000 }, () => {
  it('preview, send and status work while a server with telemetry off owns the home', async () => {
    const home = await cli.tempHome();
    const server = await cli.startServerProcess({ TELEMETRY_HOME: home }, { args: ['--no-telemetry'] });
    const endpoint = await startCountingEndpoint(202);
    try {
      const env = { TELEMETRY_HOME: home, TELEMETRY_ENDPOINT: endpoint.url };
      const preview = await cli.runCli(['preview'], env);
      expect(preview).toMatchObject({ code: 0 });
      const send = await cli.runCli(['send'], env);
      expect(send.stderr).toBe('');
      expect(send.code).toBe(0);
      expect(endpoint.requests).toHaveLength(1);
      const status = JSON.parse((await cli.runCli(['status', '--json'], env)).stdout) as { server: string; state: string };
      expect(status).toMatchObject({ server: server.url, state: 'disabled' });
      // The session `send` made was made by the server, in its own database.
      const sent = JSON.parse(endpoint.requests[0]!.body) as { payload: { session_id: string } };
      expect(await server.stop()).toMatchObject({ code: 0 });
      expect(JSON.parse((await readStoredSessionValue(home))!)).toMatchObject({ session_id: sent.payload.session_id });
    } finally {
      await endpoint.close();
    }
  });

  it('a server.json left by a dead process is ignored and removed', async () => {
    const home = await cli.tempHome();
    // pid 2^22 + 1 is above Linux's pid_max: no such process can exist.
    await writeFile(path.join(home, 'server.json'), JSON.stringify({ pid: 4_194_305, url: 'http://127.0.0.1:9', started_at: '2026-01-01T00:00:00.000Z', home, instance: 'x' }));
    const status = await cli.runCli(['status', '--json'], { TELEMETRY_HOME: home });
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ server: null, state: 'not running' });
    expect(existsSync(path.join(home, 'server.json'))).toBe(false);
  });

  it('a server.json naming a live pid whose URL is now another home\'s server is not trusted', async () => {
    const other = await cli.startServerProcess({ TELEMETRY_HOME: await cli.tempHome() });
    const home = await cli.tempHome();
    // A live pid (this test process) and the URL of a server that serves another home.
    await writeFile(path.join(home, 'server.json'), JSON.stringify({ pid: process.pid, url: other.url, started_at: '2026-01-01T00:00:00.000Z', home, instance: 'not-that-one' }));
    const status = await cli.runCli(['status', '--json'], { TELEMETRY_HOME: home });
    expect(JSON.parse(status.stdout)).toMatchObject({ server: null, state: 'not running', session_id: null });
    expect(existsSync(path.join(home, 'server.json'))).toBe(false);
  });

  // Generous (120 s): five starts and stops with a CLI spawned in a loop beside them take ~10 s quiet, ~60 s under load.
  it('server starts never fail while status is polled in a loop on the same home', { timeout: 120_000 }, async () => {
    const home = await cli.tempHome();
    let polling = true;
    const poller = (async () => {
      let runs = 0;
      while (polling) {
        await cli.runCli(['status'], { TELEMETRY_HOME: home });
        runs += 1;
      }
      return runs;
    })();
    try {
      for (let i = 0; i < 5; i += 1) {
        const server = await cli.startServerProcess({ TELEMETRY_HOME: home }, { args: ['--no-telemetry'] });
        expect(await server.stop()).toMatchObject({ code: 0 });
      }
    } finally {
      polling = false;
    }
    expect(await poller).toBeGreaterThan(0);
  });
});
