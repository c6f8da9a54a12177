// TELEMETRY_HOME on every backend: each deployment shape of docs/deployment.md starts from a home that does not
// exist yet (the server makes it, and writes server.json there), and a home that cannot be made is one clear line.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCliSandbox, getJson, startCountingEndpoint, type CliEnv, type CliSandbox } from './helpers/cli.js';
import { usePostgres } from './helpers/postgres.js';

const postgres = usePostgres();
let cli: CliSandbox;
const undo: Array<() => void> = [];

beforeEach(() => {
  cli = createCliSandbox();
});
afterEach(async () => {
  for (const step of undo.splice(0).reverse()) step();
  await cli.cleanup();
});

/** A path two folders below a new temp folder: neither the home nor its parent exists. */
const newHome = async () => path.join(await cli.makeTemp(), 'not', 'yet');

// Probed while the file is collected (skipIf needs the answer then), in a folder removed at once.
const isRoot = process.getuid?.() === 0;
const canMount = (() => {
  if (!isRoot) return false;
  const probe = mkdtempSync(path.join(os.tmpdir(), 'telemetry-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
})();

/** The three shapes of docs/deployment.md: the settings and arguments that make each. */
const SHAPES = [
  { name: '1. one machine (LevelDB)', postgres: false, args: [] as string[] },
  { name: '2. replicas on PostgreSQL (telemetry on)', postgres: true, args: [] as string[] },
  { name: '3. a collector fleet on PostgreSQL (--no-telemetry)', postgres: true, args: ['--no-telemetry'] },
];

async function shapeEnv(shape: (typeof SHAPES)[number], home: string, endpoint: string): Promise<CliEnv> {
  const env: CliEnv = { TELEMETRY_HOME: home, TELEMETRY_ENDPOINT: endpoint, TELEMETRY_COLLECTOR: 'on' };
  if (shape.postgres) env.TELEMETRY_DATABASE_URL = await postgres().freshDatabase();
  return env;
}

describe('a TELEMETRY_HOME that does not exist yet', () => {
  for (const shape of SHAPES) {
    it(`${shape.name}: the server makes it, writes server.json there, serves, and exits 0`, async () => {
      const home = await newHome();
      const endpoint = await startCountingEndpoint(202);
      try {
        const server = await cli.startServerProcess(await shapeEnv(shape, home, endpoint.url), { args: shape.args });
        expect(JSON.parse(readFileSync(path.join(home, 'server.json'), 'utf8'))).toMatchObject({ pid: server.pid, url: server.url });
        expect((await getJson(`${server.url}/api/collector/stats`)).status).toBe(200);
        // LevelDB keeps its database in the home; PostgreSQL writes nothing there but server.json.
        expect(existsSync(path.join(home, 'db'))).toBe(!shape.postgres);
        expect(await server.stop()).toMatchObject({ code: 0 });
        expect(existsSync(path.join(home, 'server.json'))).toBe(false);
      } finally {
        await endpoint.close();
      }
    });
  }
});

/** `server` fails to start: exit 1 and exactly `line` on stderr (runCli rejects if it hangs instead). */
async function expectStartFailure(env: CliEnv, line: RegExp) {
  const result = await cli.runCli(['server'], env);
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(new RegExp(`^telemetry-actor: ${line.source}\\n$`));
  expect(result.stdout).not.toMatch(/"stack"|Server listening/);
}

describe('a TELEMETRY_HOME that cannot be made, on PostgreSQL: exit 1, one clear line', () => {
  const onPostgres = async (home: string): Promise<CliEnv> => ({ TELEMETRY_HOME: home, TELEMETRY_DATABASE_URL: await postgres().freshDatabase() });

  it('below a regular file (ENOTDIR)', async () => {
    const dir = await cli.makeTemp();
    await writeFile(path.join(dir, 'file'), 'not a folder');
    await expectStartFailure(await onPostgres(path.join(dir, 'file', 'home')), /Cannot create TELEMETRY_HOME \S+: ENOTDIR \(a file stands where a folder should be\)/);
  });

  it('a regular file where the home should be (EEXIST)', async () => {
    const home = path.join(await cli.makeTemp(), 'home');
    await writeFile(home, 'not a folder');
    await expectStartFailure(await onPostgres(home), /Cannot create TELEMETRY_HOME \S+: EEXIST \(a file stands where the folder should be\)/);
  });

  // Root ignores file modes: a read-only mount binds it; anyone else is stopped by chmod 0555.
  it.skipIf(isRoot && !canMount)('below a read-only folder (EROFS as root on a ro tmpfs, else EACCES)', async () => {
    const parent = await cli.makeTemp();
    if (isRoot) {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', parent]);
      undo.push(() => execFileSync('umount', [parent]));
    } else {
      await chmod(parent, 0o555);
      undo.push(() => void chmod(parent, 0o755));
    }
    const line = isRoot ? /Cannot create TELEMETRY_HOME \S+: EROFS \(read-only file system\)/ : /Cannot create TELEMETRY_HOME \S+: EACCES \(permission denied\)/;
    await expectStartFailure(await onPostgres(path.join(parent, 'home')), line);
  });
});
