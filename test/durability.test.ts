// A 202 means the heartbeat is on disk: counted against the stats after a restart, through a full disk and
// through kill -9 at random moments of a burst. The real server process, a real file system.
import { execFileSync } from 'node:child_process';
import { openSync, writeSync, closeSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleHeartbeat } from './helpers/fixtures.js';
import { createCliSandbox, getJson, type CliSandbox, type ServerProcess } from './helpers/cli.js';
import { LIMITS } from './harness/limits.js';

let cli: CliSandbox;
const cleanups: Array<() => unknown> = [];
beforeEach(() => {
  cli = createCliSandbox();
});
afterEach(async () => {
  await cli.cleanup();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Posts one heartbeat; the status, or 0 when the connection failed (the server died mid-request). */
async function post(server: ServerProcess): Promise<number> {
  try {
    const res = await fetch(`${server.url}/api/collector`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(sampleHeartbeat()),
      // Tells a hung request from a slow one; a request cut by the kill fails at once.
      signal: AbortSignal.timeout(LIMITS.requestMs),
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** `count` posts, `parallel` at a time (none started once `stop()` says so); counts answers by status. */
async function burst(server: ServerProcess, count: number, parallel: number, statuses: Map<number, number>, stop = () => false): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count && !stop()) {
      next += 1;
      const status = await post(server);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

async function totalAfterRestart(home: string): Promise<number> {
  const server = await cli.startServerProcess({ TELEMETRY_HOME: home }, { args: ['--no-telemetry'] });
  const stats = (await getJson(`${server.url}/api/collector/stats`)).body as { heartbeats_total: number };
  expect(await server.stop()).toMatchObject({ code: 0 });
  return stats.heartbeats_total;
}

/** Mounts a 1 MiB tmpfs; undefined (and one line saying why) when this is not root or mount fails. */
function smallTmpfs(): string | undefined {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'telemetry-actor-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    console.warn(`durability: skipping the full-disk test: cannot mount a tmpfs (needs root): ${(error as Error).message.split('\n')[0]}`);
    return undefined;
  }
  cleanups.push(() => {
    execFileSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Writes zeros to `file` until the file system says ENOSPC. */
function fillDisk(file: string): void {
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(4096);
  try {
    for (;;) writeSync(fd, block);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}

describe('durability: every 202 is counted after a restart', { timeout: 3 * LIMITS.testMs }, () => {
  it('through a full disk (1 MiB tmpfs): refuses while full, recovers once freed, loses nothing answered 202', async (context) => {
    const mount = smallTmpfs();
    if (mount === undefined) return context.skip();
    const home = path.join(mount, 'home');
    const server = await cli.startServerProcess({ TELEMETRY_HOME: home }, { args: ['--no-telemetry'] });
    const statuses = new Map<number, number>();
    await burst(server, 50, 5, statuses);
    fillDisk(path.join(mount, 'filler'));
    // Until the store refuses: LevelDB's memtable and log take a little more first.
    for (let i = 0; i < 5_000 && (statuses.get(503) ?? 0) + (statuses.get(500) ?? 0) === 0; i += 1) await burst(server, 1, 1, statuses);
    expect((statuses.get(503) ?? 0) + (statuses.get(500) ?? 0)).toBeGreaterThan(0);
    await burst(server, 20, 5, statuses);
    rmSync(path.join(mount, 'filler'));
    // 300 more answered 202 (the first may meet the store still recovering: those are 503 and retried).
    const after = new Map<number, number>();
    while ((after.get(202) ?? 0) < 300) await burst(server, 300 - (after.get(202) ?? 0), 5, after);
    for (const [status, n] of after) statuses.set(status, (statuses.get(status) ?? 0) + n);
    expect(await server.stop()).toMatchObject({ code: 0 });

    const accepted = statuses.get(202) ?? 0;
    const counted = await totalAfterRestart(home);
    console.log(`durability: full disk: ${accepted} answered 202, ${counted} counted after restart; answers ${JSON.stringify([...statuses])}`);
    expect(counted).toBe(accepted);
    expect([...statuses.keys()].every((status) => [202, 503].includes(status))).toBe(true);
    expect(server.lines.filter((line) => line.msg.startsWith('Store write failed'))).toHaveLength(1);
    expect(server.lines.filter((line) => line.msg.startsWith('Store recovered'))).toHaveLength(1);
    expect(server.lines.filter((line) => line.msg === 'Failed to record heartbeat')).toHaveLength(0);
  });

  it('through kill -9 at random moments of a burst: no 202 is lost', async () => {
    const home = await cli.tempHome();
    let accepted = 0;
    let unanswered = 0;
    for (let round = 0; round < 4; round += 1) {
      const server = await cli.startServerProcess({ TELEMETRY_HOME: home }, { args: ['--no-telemetry'] });
      const statuses = new Map<number, number>();
      let killed = false;
      const running = burst(server, 1_000, 10, statuses, () => killed);
      // A random moment of the burst, measured in answers so a slow machine moves it too: after 1 to 400 202s.
      const moment = 1 + Math.floor(Math.random() * 400);
      while ((statuses.get(202) ?? 0) < moment && (statuses.get(202) ?? 0) + (statuses.get(0) ?? 0) < 1_000) {
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      server.child.kill('SIGKILL');
      killed = true;
      await running;
      await server.exited;
      accepted += statuses.get(202) ?? 0;
      unanswered += statuses.get(0) ?? 0;
    }
    const counted = await totalAfterRestart(home);
    console.log(`durability: kill -9: ${accepted} answered 202, ${counted} counted after restart, ${unanswered} cut off unanswered`);
    // Cut-off requests (at most 10 in flight per kill) may or may not have been written; an answered one must be.
    expect(counted).toBeGreaterThanOrEqual(accepted);
    expect(counted).toBeLessThanOrEqual(accepted + unanswered);
  });
});
