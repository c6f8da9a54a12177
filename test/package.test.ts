// The package as a user gets it: packed from a clean copy of the repo (prepack builds), installed from the
// tarball into a separate consumer project, type-checked there with TypeScript 7 and 5.4, and run there.
// One tarball and one consumer project serve every check; the slow part is npm and tsc, not the code.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scaled } from './harness/limits.js';
import { readStoredSessionValue, startCountingEndpoint } from './helpers/cli.js';
import { listenLocal } from './harness/net.js';

const root = path.resolve(import.meta.dirname, '..');
const run = promisify(execFile);
// Under load npm install and tsc 5.4 each took about a minute here; these limits only tell "finished" from "hung".
const SETUP_TIMEOUT_MS = scaled(600_000);
const STEP_TIMEOUT_MS = scaled(300_000);

/** This environment minus npm's lifecycle variables (a child npm must not think it runs inside `npm test`) and every switch. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^(npm_|TELEMETRY_|PREFECT_|DO_NOT_TRACK$|INIT_CWD$)/i.test(key)) env[key] = value;
  return { ...env, ...extra };
}

async function sh(file: string, args: string[], cwd: string): Promise<string> {
  const { stdout } = await run(file, args, { cwd, env: childEnv(), maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** A copy of the repo as a fresh clone has it (tracked and new files, nothing ignored: no dist/), sharing node_modules. */
async function cleanCopy(dest: string): Promise<void> {
  const listed = await sh('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], root);
  for (const file of listed.split('\0').filter((name) => name !== '' && existsSync(path.join(root, name)))) {
    await mkdir(path.dirname(path.join(dest, file)), { recursive: true });
    await cp(path.join(root, file), path.join(dest, file));
  }
  await symlink(path.join(root, 'node_modules'), path.join(dest, 'node_modules'), 'dir');
}

interface PackedFile {
  path: string;
  mode: number;
}

const CONSUMER_A = `// Consumer file one: a real Level and a MemoryLevel into the actor and the collector, no cast.
import { Level } from 'level';
import { MemoryLevel } from 'memory-level';
import { createTelemetryMachine, resolveTelemetry } from 'telemetry-actor';
import { createCollector } from 'telemetry-actor/collector';

export const fromLevel = createTelemetryMachine({ db: new Level('./data/a') });
export const fromMemory = createTelemetryMachine({ db: new MemoryLevel() });
export const collectorOnLevel = () => createCollector({ db: new Level<string, string>('./data/a2', { valueEncoding: 'utf8' }) });
export const collectorInMemory = () => createCollector({ db: new MemoryLevel() });
export const resolved = resolveTelemetry({ name: 'MYAPP_TELEMETRY', source: 'a', serverVersion: '1', env: { DO_NOT_TRACK: '1' } });
`;

const CONSUMER_B = `// Consumer file two: the same calls again (a second file passing a Level is what once failed).
import { Level } from 'level';
import { MemoryLevel } from 'memory-level';
import { createTelemetryMachine } from 'telemetry-actor';
import { createCollector } from 'telemetry-actor/collector';

const db = new Level<string, string>('./data/b', { valueEncoding: 'utf8' });
export const machines = [createTelemetryMachine({ db }), createTelemetryMachine({ db: new MemoryLevel<string, string>() })];
export const collectors = () => Promise.all([createCollector({ db }), createCollector({ db: new MemoryLevel() })]);
`;

const TSCONFIG = {
  // skipLibCheck off: the packed .d.ts files themselves are checked by each compiler, not only their use.
  compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, skipLibCheck: false, types: ['node'], outDir: 'build', rootDir: 'src' },
  include: ['src'],
};

async function readmeExample(): Promise<string> {
  const match = /```ts readme-example\n([\s\S]*?)```/.exec(await readFile(path.join(root, 'README.md'), 'utf8'));
  if (match?.[1] === undefined) throw new Error('README.md has no ```ts readme-example block');
  return match[1];
}

/** The consumer project: the tarball, the databases the files pass, TypeScript 5.4 and Node's types. */
async function makeConsumer(dir: string, tarball: string): Promise<void> {
  const versions = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
  const dependencies = {
    'telemetry-actor': `file:${tarball}`,
    level: versions.dependencies.level,
    xstate: versions.dependencies.xstate,
    'memory-level': versions.devDependencies['memory-level'],
    '@types/node': versions.devDependencies['@types/node'],
    typescript: '5.4.5',
  };
  await mkdir(path.join(dir, 'src'), { recursive: true });
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies }, null, 2));
  await writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
  await writeFile(path.join(dir, 'src', 'a.ts'), CONSUMER_A);
  await writeFile(path.join(dir, 'src', 'b.ts'), CONSUMER_B);
  await writeFile(path.join(dir, 'src', 'example.ts'), await readmeExample());
  // From the local tarball; its dependencies from npm's cache (warm after `npm ci`), the registry only for a miss.
  await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], dir);
}

/** Runs `node build/example.js` in the consumer until it exits or `until` holds; returns its code and stdout. */
function runExample(cwd: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [path.join('build', 'example.js')], { cwd, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exit = new Promise<{ code: number | null; stdout: string }>((resolve) => child.once('exit', (code) => resolve({ code, stdout })));
  return { child, exit };
}

/** Not installed with the package: the server loads each only for the feature that needs it. */
const OPTIONAL_PEERS = ['pg', '@statelyai/inspect', 'ws', 'pino-pretty'];
/**
 * What `npm install telemetry-actor` may bring. Measured: 31 (the package, xstate, undici, uuid, pino with its 12
 * and level with its 13); 68 before pg, chart.js, ws, @statelyai/inspect and pino-pretty left the dependencies.
 * One to spare for a new dependency of a dependency; a heavy one of ours fails here.
 */
const LIBRARY_MAX_PACKAGES = 32;
/** The same install on disk: 17 MB when measured, most of it classic-level's prebuilt binaries (34 MB before). */
const LIBRARY_MAX_MB = 20;

/** Packages and megabytes of `npm install <tarball>` in an empty folder. */
async function installWeight(tarball: string, dir: string): Promise<{ packages: string[]; megabytes: number }> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'library-user', private: true }));
  await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], dir);
  const listed = await sh('npm', ['ls', '--all', '--parseable'], dir);
  const packages = listed.trim().split('\n').slice(1).map((file) => path.relative(path.join(dir, 'node_modules'), file).split(path.sep).join('/'));
  const megabytes = Number((await sh('du', ['-sm', 'node_modules'], dir)).split('\t')[0]);
  return { packages: [...new Set(packages)].sort(), megabytes };
}

/** Runs file with args in cwd under childEnv(env) to its exit; never rejects. */
function runIn(file: string, args: string[], env: Record<string, string>, cwd = os.tmpdir()): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env: childEnv(env), timeout: STEP_TIMEOUT_MS }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

describe('the packed package in a consumer project', () => {
  let tmp: string;
  let consumer: string;
  let packed: PackedFile[];
  let unpacked: string;
  let tarball: string;
  const installedBin = () => path.join(consumer, 'node_modules', 'telemetry-actor', 'dist', 'src', 'bin.cjs');
  const runBin = (args: string[], env: Record<string, string>) => runIn(process.execPath, [installedBin(), ...args], env, consumer);

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'telemetry-actor-pack-'));
    const clone = path.join(tmp, 'clone');
    await cleanCopy(clone);
    // `npm pack` runs prepack, which builds into the copy's dist/ (the repo's own dist/ is left alone).
    const [result] = JSON.parse(await sh('npm', ['pack', '--json', '--pack-destination', tmp], clone)) as Array<{ filename: string; files: PackedFile[] }>;
    packed = result!.files;
    tarball = path.join(tmp, result!.filename);
    unpacked = path.join(tmp, 'unpacked');
    await mkdir(unpacked);
    await sh('tar', ['-xzf', tarball, '-C', unpacked], tmp);
    consumer = path.join(tmp, 'consumer');
    await makeConsumer(consumer, tarball);
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
  });

  it('ships the built code, types, LICENSE and docs, and no sources or tests', async () => {
    const paths = packed.map((file) => file.path);
    for (const file of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/bin.cjs', 'dist/bundle/cli.cjs', 'dist/src/collector/index.d.ts', 'dist/src/collector/heartbeat.schema.json', 'dist/src/server/index.js', 'dist/machines/index.js', 'LICENSE', 'README.md', 'docs/embedding.md']) {
      expect(paths, file).toContain(file);
    }
    // The console's files (copied into dist/ by the build) and the statechart pictures it and the README show.
    // Chart.js's browser build is shipped as a built asset with its license, not installed as a dependency.
    for (const file of ['index.html', 'console.js', 'console.css', 'chart.umd.min.js', 'chart.js-LICENSE.md']) expect(paths, file).toContain(`dist/src/server/console/static/${file}`);
    expect(await readFile(path.join(unpacked, 'package', 'dist/src/server/console/static/chart.js-LICENSE.md'), 'utf8')).toMatch(/The MIT License[\s\S]*Chart\.js Contributors/);
    for (const file of ['docs/telemetry-machine.svg', 'docs/server-machine.svg', 'docs/console.png']) expect(paths, file).toContain(file);
    expect(paths.filter((file) => /^(src|test|bench|scripts|machines)\//.test(file) || file.endsWith('.tsbuildinfo'))).toEqual([]);
    expect(packed.find((file) => file.path === 'dist/src/bin.cjs')?.mode).toBe(0o755);
    // V8's code cache fits one Node build only: an install writes its own (src/bin.cts), none is shipped.
    expect(paths.filter((file) => file.endsWith('.v8cache'))).toEqual([]);
    const license = await readFile(path.join(unpacked, 'package', 'LICENSE'), 'utf8');
    expect(license).toMatch(/Apache License\s+Version 2\.0, January 2004/);
    expect(license).toContain('END OF TERMS AND CONDITIONS');
  });

  it('ships source maps that carry their sources (the .ts files are not shipped)', async () => {
    const maps = packed.filter((file) => file.path.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(10);
    for (const map of maps) {
      const parsed = JSON.parse(await readFile(path.join(unpacked, 'package', map.path), 'utf8')) as { sources: string[]; sourcesContent?: Array<string | null> };
      expect(parsed.sourcesContent?.length, map.path).toBe(parsed.sources.length);
      expect(parsed.sourcesContent?.every((text) => typeof text === 'string' && text.length > 0), map.path).toBe(true);
    }
  });

  it('type-checks a two-file consumer (Level and MemoryLevel, actor and collector) with TypeScript 7', async () => {
    const out = await sh(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', '.', '--noEmit'], consumer).catch((error: { stdout: string }) => error.stdout);
    expect(out).toBe('');
  }, STEP_TIMEOUT_MS);

  it('type-checks the same consumer with TypeScript 5.4, the oldest the README claims', async () => {
    const tsc = path.join(consumer, 'node_modules', '.bin', 'tsc');
    expect(await sh(tsc, ['--version'], consumer)).toContain('Version 5.4.');
    const out = await sh(tsc, ['-p', '.', '--noEmit'], consumer).catch((error: { stdout: string }) => error.stdout);
    expect(out).toBe('');
  }, STEP_TIMEOUT_MS);

  it('runs `npx telemetry-actor --version` from the installed bin', async () => {
    const { version } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { version: string };
    expect((await sh('npx', ['--offline', 'telemetry-actor', '--version'], consumer)).trim()).toBe(version);
  }, STEP_TIMEOUT_MS);

  it('serves the console from the installed package: the page, its files, Chart.js from dist (no chart.js installed), the statechart', async () => {
    expect(existsSync(path.join(consumer, 'node_modules', 'chart.js'))).toBe(false);
    const home = await mkdtemp(path.join(tmp, 'home-'));
    const bin = path.join(consumer, 'node_modules', 'telemetry-actor', 'dist', 'src', 'bin.cjs');
    const child = spawn(process.execPath, [bin, 'server'], { cwd: consumer, env: childEnv({ TELEMETRY_HOME: home, TELEMETRY_PORT: '0', DO_NOT_TRACK: '1' }), stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      await expect.poll(() => /"url":"(http:[^"]+)"/.exec(stdout)?.[1], { timeout: scaled(30_000), interval: 20 }).toBeDefined();
      const url = /"url":"(http:[^"]+)"/.exec(stdout)![1]!;
      for (const file of ['/', '/console/console.js', '/console/console.css', '/console/chart.umd.min.js', '/console/telemetry-machine.svg', '/api/collector/schema']) {
        expect((await fetch(`${url}${file}`)).status, file).toBe(200);
      }
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  }, STEP_TIMEOUT_MS);

  it('installs light for library use: only what the `.` entry needs, and level for the server and CLI', async () => {
    const weight = await installWeight(tarball, path.join(tmp, 'library'));
    // The optional peers and the browser asset are not installed; the runtime dependencies are.
    for (const name of OPTIONAL_PEERS) expect(weight.packages, name).not.toContain(name);
    for (const name of ['chart.js', 'partysocket', 'pg-pool']) expect(weight.packages, name).not.toContain(name);
    for (const name of ['telemetry-actor', 'xstate', 'undici', 'uuid', 'pino', 'level']) expect(weight.packages, name).toContain(name);
    expect(weight.packages.length, weight.packages.join(' ')).toBeLessThanOrEqual(LIBRARY_MAX_PACKAGES);
    expect(weight.megabytes).toBeLessThanOrEqual(LIBRARY_MAX_MB);
    console.log(`npm install <tarball>: ${weight.packages.length} packages, ${weight.megabytes} MB`);
  }, STEP_TIMEOUT_MS);

  it('without its optional peers the server says what to install in one line: pg, the inspector, pino-pretty', async () => {
    for (const name of OPTIONAL_PEERS) expect(existsSync(path.join(consumer, 'node_modules', name)), name).toBe(false);
    const home = await mkdtemp(path.join(tmp, 'home-'));
    const env = { TELEMETRY_HOME: home, TELEMETRY_PORT: '0', DO_NOT_TRACK: '1' };
    const postgres = await runBin(['server'], { ...env, TELEMETRY_DATABASE_URL: 'postgres://127.0.0.1:1/telemetry' });
    expect(postgres).toEqual({ code: 1, stdout: '', stderr: 'telemetry-actor: TELEMETRY_DATABASE_URL (PostgreSQL) needs the package pg, which this installation lacks: npm install pg\n' });
    const inspect = await runBin(['server', '--inspect'], env);
    expect(inspect.code).toBe(1);
    expect(inspect.stderr).toBe('telemetry-actor: --inspect (TELEMETRY_INSPECT) needs the packages @statelyai/inspect and ws, which this installation lacks: npm install @statelyai/inspect ws\n');
    // In a terminal (util-linux `script` gives it one): JSON lines and one line naming pino-pretty; a busy port ends it.
    const busy = createServer();
    await listenLocal(busy);
    try {
      const command = [process.execPath, installedBin(), 'server'].map((word) => `'${word}'`).join(' ');
      const terminal = await runIn('script', ['-qec', command, '/dev/null'], { ...env, TELEMETRY_PORT: String((busy.address() as { port: number }).port) });
      expect(terminal.code).toBe(1);
      expect(terminal.stdout).toContain('telemetry-actor: logs are JSON lines: readable ones need the package pino-pretty (npm install pino-pretty)');
      expect(terminal.stdout).toContain('{"level":50');
    } finally {
      busy.close();
    }
  }, STEP_TIMEOUT_MS);

  it('runs the README example: it delivers, and under DO_NOT_TRACK=1 it opens no socket and writes nothing', async () => {
    await sh(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', '.'], consumer);
    const endpoint = await startCountingEndpoint(202);
    try {
      const off = await runExample(consumer, { TELEMETRY_ENDPOINT: endpoint.url, DO_NOT_TRACK: '1' }).exit;
      expect(off).toEqual({ code: 0, stdout: 'Telemetry is off (DO_NOT_TRACK)\n' });
      expect(endpoint.connections()).toBe(0);
      expect(existsSync(path.join(consumer, 'data'))).toBe(false);

      const on = runExample(consumer, { TELEMETRY_ENDPOINT: endpoint.url });
      await expect.poll(() => endpoint.requests.length, { timeout: scaled(100_000), interval: 20 }).toBeGreaterThanOrEqual(1);
      on.child.kill('SIGKILL');
      await on.exit;
      expect(JSON.parse(endpoint.requests[0]!.body)).toMatchObject({ source: 'my_server', payload: { server_version: '1.0.0' } });
      expect(JSON.parse((await readStoredSessionValue(path.join(consumer, 'data'))) ?? 'null')).toMatchObject({ session_id: expect.any(String) });
    } finally {
      await endpoint.close();
    }
  }, STEP_TIMEOUT_MS);
});
