// The CLI as npm installs it: a symlink in node_modules/.bin pointing at dist/src/bin.cjs, which runs the
// bundle (dist/bundle/cli.cjs) through V8's code cache.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from './harness/limits.js';
import { cleanEnv, createCliSandbox } from './helpers/cli.js';

const root = path.resolve(import.meta.dirname, '..');
const run = promisify(execFile);

describe('bin', () => {
  let dir: string;
  let link: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'telemetry-bin-'));
    link = path.join(dir, 'telemetry-actor');
    await symlink(path.join(root, 'dist', 'src', 'bin.cjs'), link);
  });

  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('runs through a symlink, as node_modules/.bin/telemetry-actor', async () => {
    const { version } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { version: string };
    // node <symlink>: argv[1] is the link, as when npm's .bin entry runs it.
    const { stdout } = await run(process.execPath, [link, '--version']);
    expect(stdout.trim()).toBe(version);
  });

  it('package.json bin points at the built CLI with a node shebang', async () => {
    const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin['telemetry-actor']).toBe('dist/src/bin.cjs');
    const head = (await readFile(path.join(root, 'dist', 'src', 'bin.cjs'), 'utf8')).split('\n')[0];
    expect(head).toBe('#!/usr/bin/env node');
  });
});

describe('the bundle and its code cache', { timeout: LIMITS.testMs }, () => {
  let pkg: string;
  let home: string;
  const bin = () => path.join(pkg, 'dist', 'src', 'bin.cjs');
  const caches = async () => (await readdir(path.join(pkg, 'dist', 'bundle'))).filter((file) => file.endsWith('.v8cache'));
  const env = () => cleanEnv({ TELEMETRY_HOME: home });

  beforeAll(async () => {
    // A copy of the built package with no cache yet, as an install made by another Node version has.
    pkg = await mkdtemp(path.join(os.tmpdir(), 'telemetry-bundle-'));
    home = path.join(pkg, 'home');
    await cp(path.join(root, 'dist'), path.join(pkg, 'dist'), { recursive: true });
    await cp(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
    await symlink(path.join(root, 'node_modules'), path.join(pkg, 'node_modules'));
    for (const file of await caches()) await rm(path.join(pkg, 'dist', 'bundle', file));
  });

  afterAll(() => rm(pkg, { recursive: true, force: true }));

  /** Starts the copy's server, runs `status --json` against it (the bundle's import() of node:http), stops it. */
  async function serveOnce(): Promise<{ code: number | null; status: { state: string } }> {
    const sandbox = createCliSandbox();
    try {
      const server = await sandbox.startServerProcess({ TELEMETRY_HOME: home }, { entry: bin() });
      const status = await sandbox.runCli(['status', '--json'], { TELEMETRY_HOME: home }, { entry: bin() });
      const { code } = await server.stop();
      return { code, status: JSON.parse(status.stdout) as { state: string } };
    } finally {
      await sandbox.cleanup();
    }
  }

  it('is written as the first server exits cleanly (not by other commands), then taken by V8 and used', async () => {
    await run(process.execPath, [bin(), '--version'], { env: env() });
    expect(await caches()).toEqual([]);

    const first = await serveOnce();
    expect(first.code).toBe(0);
    expect(first.status.state).toBeDefined();
    expect(await caches()).toEqual([`cli.cjs.${process.version}-${process.arch}.v8cache`]);

    const { compileCli } = createRequire(import.meta.url)(bin()) as { compileCli(): { cache: string } };
    expect(compileCli().cache).toBe('used');
    // From the cache, the bundle's import() still works: Node 20 would lose its callback (see src/bin.cts).
    const second = await serveOnce();
    expect(second.code).toBe(0);
    expect(second.status.state).toBeDefined();
  });

  it('a damaged cache is refused by V8 and the CLI runs without it', async () => {
    const [file] = await caches();
    await writeFile(path.join(pkg, 'dist', 'bundle', file ?? `cli.cjs.${process.version}-${process.arch}.v8cache`), 'not a code cache');
    const { compileCli } = createRequire(import.meta.url)(bin()) as { compileCli(): { cache: string } };
    expect(compileCli().cache).toBe('rejected');
    const { stdout } = await run(process.execPath, [bin(), '--version'], { env: env() });
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('a checkout built with tsc alone (no bundle) is told what to run, in one line, exit 1', async () => {
    const bundle = path.join(pkg, 'dist', 'bundle');
    await rename(bundle, `${bundle}.away`);
    try {
      const failed = await run(process.execPath, [bin(), '--version'], { env: env() }).catch((error: { code: number; stderr: string }) => error);
      expect(failed).toMatchObject({ code: 1, stderr: `telemetry-actor: ${path.join(bundle, 'cli.cjs')} is missing; run npm run build\n` });
    } finally {
      await rename(`${bundle}.away`, bundle);
    }
  });
});
