// Fault matrix, storage side: the real server process with its LevelDB held, corrupt, unwritable or killed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Level } from 'level';
import { afterAll, describe, expect, test, type ExpectStatic } from 'vitest';
import { isStoredSession, SESSION_KEY } from '../src/stores/session.js';
import { CONFIGURATION_SUBLEVEL } from '../src/stores/level/sessionStore.js';
import { LIMITS } from './harness/limits.js';
import { cleanupAll, makeTemp, pool, runCli, sleep, spawnCli, startServerProcess } from './helpers/faultServer.js';
import { pollUntil } from './harness/net.js';

const undo: Array<() => void> = [];
afterAll(async () => {
  for (const step of undo.splice(0).reverse()) step();
  await cleanupAll();
});

/** The raw TELEMETRY_SESSION value in <home>/db, or undefined when there is no database or no value. */
async function storedRaw(home: string): Promise<string | undefined> {
  if (!existsSync(path.join(home, 'db'))) return undefined;
  const db = new Level<string, string>(path.join(home, 'db'), { valueEncoding: 'utf8' });
  await db.open();
  try {
    return await db.sublevel<string, string>(CONFIGURATION_SUBLEVEL, { valueEncoding: 'utf8' }).get(SESSION_KEY);
  } finally {
    await db.close();
  }
}

async function writeRaw(home: string, value: string): Promise<void> {
  const db = new Level<string, string>(path.join(home, 'db'), { valueEncoding: 'utf8' });
  await db.open();
  await db.sublevel<string, string>(CONFIGURATION_SUBLEVEL, { valueEncoding: 'utf8' }).put(SESSION_KEY, value);
  await db.close();
}

/**
 * Remounts `mnt` read-only, retrying for a while: once in a full run (never in this file alone) the kernel said
 * "mount point is busy" (a file still open for writing there) right after the database closed. Who held it was
 * not found; what the test is about starts only once the remount holds.
 */
async function remountReadOnly(mnt: string): Promise<void> {
  const remounted = () => {
    try {
      execFileSync('mount', ['-o', 'remount,ro', mnt], { stdio: 'pipe' });
      return true;
    } catch {
      return false;
    }
  };
  await pollUntil(remounted, { timeoutMs: LIMITS.waitMs, everyMs: 100 });
}

/** Start-up fails: exit 1, one stderr line matching `line`, no stack (runCli rejects if it hangs instead). */
async function expectStartFailure(expect: ExpectStatic, home: string, line: RegExp) {
  const result = await runCli(['server'], { TELEMETRY_HOME: home, TELEMETRY_PORT: '0' });
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(new RegExp(`^telemetry-actor: ${line.source}\\n$`));
  expect(result.stdout).not.toMatch(/"stack"|Server listening/);
}

/** A command that exists and works here, or false (permissions, no binary, not root). */
function can(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// Probed while the file is collected (skipIf needs the answer then), in a folder removed at once.
const probe = mkdtempSync(path.join(os.tmpdir(), 'telemetry-probe-'));
const isRoot = process.getuid?.() === 0;
const canMount = isRoot && can('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', probe]) && can('umount', [probe]);
const canChattr = isRoot && can('chattr', ['+i', probe]) && can('chattr', ['-i', probe]);
rmSync(probe, { recursive: true, force: true });

describe.concurrent('storage faults', () => {
  test('the database held by a running server: a second server exits 1 naming it; the first keeps serving', async ({ expect }) => {
    const first = await startServerProcess({}, { args: ['--no-telemetry'] });
    const second = await runCli(['server'], { TELEMETRY_HOME: first.home, TELEMETRY_PORT: '0' });
    expect(second.code).toBe(1);
    const name = `the telemetry-actor server at ${first.url.replace(/\./g, '\\.')} \\(pid ${first.pid}\\)`;
    expect(second.stderr).toMatch(new RegExp(`^telemetry-actor: The database \\S+ is in use by ${name}; stop it first or use another TELEMETRY_HOME\\n$`));
    // A command asks the live owner through its API instead of failing on the lock (telemetry off or on).
    const reset = await runCli(['reset'], { TELEMETRY_HOME: first.home, TELEMETRY_PORT: '0' });
    expect(reset).toMatchObject({ code: 0, stderr: '' });
    expect(await first.get('/api/health')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await first.stop()).toMatchObject({ code: 0 });
    expect(first.stderr()).toBe('');
  });

  test.for([
    ['not JSON', 'garbage{'],
    ['JSON of the wrong shape', '{"session_id":"not-a-uuid","session_start_timestamp":"yesterday"}'],
    ['a UUID that is not v4', '{"session_id":"00000000-0000-1000-8000-000000000000","session_start_timestamp":"2026-01-01T00:00:00.000Z"}'],
  ])('a corrupt TELEMETRY_SESSION (%s) is replaced with exactly one warning', async ([, garbage], { expect }) => {
    const home = await makeTemp();
    await writeRaw(home, garbage!);
    const server = await startServerProcess({ TELEMETRY_HOME: home });
    const status = await pollUntil(() => server.get<{ state: string; session_id: string }>('/api/telemetry').then((r) => r.body), { until: (t) => t.state === 'waiting' });
    const warnings = server.lines.filter((line) => line.level === 40);
    expect(warnings.map((w) => w.msg)).toEqual(['Stored telemetry session is not valid; replacing it']);
    expect(server.lines.filter((line) => line.level >= 50)).toHaveLength(0);
    expect(await server.stop()).toMatchObject({ code: 0 });
    expect(server.stderr()).toBe('');
    const stored = JSON.parse((await storedRaw(home))!) as unknown;
    expect(await isStoredSession(stored)).toBe(true);
    expect((stored as { session_id: string }).session_id).toBe(status.session_id);
  });

  test('TELEMETRY_HOME below a regular file (ENOTDIR): exit 1, one clear line', async ({ expect }) => {
    const dir = await makeTemp();
    await writeFile(path.join(dir, 'file'), 'not a folder');
    await expectStartFailure(expect, path.join(dir, 'file', 'home'), /Cannot create TELEMETRY_HOME \S+: ENOTDIR \(a file stands where a folder should be\)/);
  });

  test('a regular file where the db folder should be: exit 1, one clear line', async ({ expect }) => {
    const home = await makeTemp();
    await writeFile(path.join(home, 'db'), 'not a folder');
    await expectStartFailure(expect, home, /Cannot create the database folder \S+: EEXIST \(a file stands where the folder should be\)/);
  });

  test.skipIf(!canMount)('a read-only file system (tmpfs mounted ro; needs root and mount): exit 1 with EROFS', async ({ expect }) => {
    const mnt = await makeTemp();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', mnt]);
    undo.push(() => execFileSync('umount', [mnt]));
    await expectStartFailure(expect, path.join(mnt, 'home'), /Cannot create TELEMETRY_HOME \S+: EROFS \(read-only file system\)/);
    await expectStartFailure(expect, mnt, /Cannot create the database folder \S+: EROFS \(read-only file system\)/);
  });

  test.skipIf(!canMount)('an existing database on a file system remounted read-only: exit 1 naming it', async ({ expect }) => {
    const mnt = await makeTemp();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt]);
    undo.push(() => execFileSync('umount', [mnt]));
    await writeRaw(mnt, '{}');
    await remountReadOnly(mnt);
    await expectStartFailure(expect, mnt, /Cannot open the database \S+: IO error: \S+LOCK: Read-only file system/);
  });

  test.skipIf(!canChattr)('an immutable TELEMETRY_HOME (chattr +i, which binds root too): exit 1 with EPERM', async ({ expect }) => {
    const home = await makeTemp();
    execFileSync('chattr', ['+i', home]);
    undo.push(() => execFileSync('chattr', ['-i', home]));
    await expectStartFailure(expect, home, /Cannot create the database folder \S+: EPERM \(operation not permitted\)/);
  });

  test.skipIf(isRoot)('a TELEMETRY_HOME without write permission (chmod 0555; root ignores it): exit 1 with EACCES', async ({ expect }) => {
    const home = await makeTemp();
    await chmod(home, 0o555);
    undo.push(() => void chmod(home, 0o755));
    await expectStartFailure(expect, home, /Cannot create the database folder \S+: EACCES \(permission denied\)/);
  });
});

describe('SIGKILL during the first start', () => {
  const KILLS = 24;
  const isNotice = (line: { msg: unknown }) => String(line.msg).startsWith('Anonymous telemetry is on');

  test(`${KILLS} kills at spread-out moments: the session is absent or complete, and once written never changes`, async () => {
    // Calibrate on this machine, at the same parallelism: how long a first start takes to write its session.
    const lanes = 4;
    const times = await pool(Array.from({ length: lanes }, (_, i) => i), lanes, async () => {
      const server = await startServerProcess({});
      await server.waitForLine(isNotice);
      const took = Date.now() - server.startedAt;
      await server.stop();
      return took;
    });
    const span = Math.max(300, Math.max(...times) * 1.5);

    /** Starts a server in `home`, SIGKILLs it once `moment` resolves, and reads what it stored. */
    const killWhen = async (home: string, moment: (proc: ReturnType<typeof spawnCli>) => Promise<unknown>) => {
      const proc = spawnCli(['server'], { TELEMETRY_HOME: home, TELEMETRY_PORT: '0' });
      await moment(proc);
      proc.child.kill('SIGKILL');
      await proc.exited;
      expect(proc.stderr()).toBe('');
      return storedRaw(home);
    };
    const after = (delayMs: number) => () => sleep(delayMs);
    const outcomes = await pool(Array.from({ length: KILLS }, (_, i) => i), lanes, async (i) => {
      const home = await makeTemp('telemetry-kill-');
      // Spread over the calibrated span; the first kill lands at spawn and the last just after the notice (the
      // session is written by then), so both sides of the write are hit even when the load changes after
      // calibrating. The kills in between are the ones that can land during the write.
      const moment =
        i === KILLS - 1
          ? (proc: ReturnType<typeof spawnCli>) => proc.waitForLine(isNotice).catch(() => undefined)
          : after(i === 0 ? 0 : (span * i) / KILLS + Math.random() * 20);
      const first = await killWhen(home, moment);
      if (first === undefined) return false;
      expect(await isStoredSession(JSON.parse(first))).toBe(true);
      // Again, at a random moment: a written session must survive any later start untouched.
      expect(await killWhen(home, after(Math.random() * span))).toBe(first);
      return true;
    });
    // Both sides of the write were hit, so the kills did cover the moment it happens.
    expect(outcomes.filter(Boolean).length).toBeGreaterThan(0);
    expect(outcomes.filter((written) => !written).length).toBeGreaterThan(0);
  }, LIMITS.testMs * 3); // 50-70 s on two busy cores; this only tells finished from hung
});
