// The README's embedding example, compiled by tsc and run against a local endpoint, exactly as printed:
// it delivers with no opt-out, and under each opt-out it opens no socket and writes no session.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readStoredSessionValue, startCountingEndpoint } from './helpers/cli.js';
import { startEndpoint, type TestEndpoint } from './helpers/endpoint.js';
import { LIMITS, scaled } from './harness/limits.js';

const root = path.resolve(import.meta.dirname, '..');
// Inside the package, so the example's `import ... from 'telemetry-actor'` resolves to this package (dist/).
const exampleDir = path.join(root, 'test', '.readme-example');
const exampleFile = path.join(exampleDir, 'example.ts');

async function readmeExample(): Promise<string> {
  const readme = await readFile(path.join(root, 'README.md'), 'utf8');
  const match = /```ts readme-example\n([\s\S]*?)```/.exec(readme);
  if (match?.[1] === undefined) throw new Error('README.md has no ```ts readme-example block');
  return match[1];
}

// File-wide: both describe blocks run the file.
beforeAll(async () => {
  await mkdir(exampleDir, { recursive: true });
  await writeFile(exampleFile, await readmeExample());
});
afterAll(() => rm(exampleDir, { recursive: true, force: true }));

describe('README embedding example', () => {
  let endpoint: TestEndpoint;
  let workDir: string;

  beforeAll(async () => {
    endpoint = await startEndpoint();
    workDir = await mkdtemp(path.join(os.tmpdir(), 'readme-example-'));
  });

  afterAll(async () => {
    await endpoint.close();
    await rm(workDir, { recursive: true, force: true });
  });

  it('is at most about fifteen lines of code, handling a bad setting included', async () => {
    const lines = (await readmeExample()).split('\n').filter((line) => line.trim() !== '' && !line.trim().startsWith('//'));
    expect(lines.length).toBeLessThanOrEqual(16);
  });

  it('type-checks against the published types', async () => {
    const tsc = path.join(root, 'node_modules', '.bin', 'tsc');
    const args = ['--ignoreConfig', '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--types', 'node', exampleFile];
    const result = await promisify(execFile)(tsc, args, { cwd: root }).then(
      () => ({ code: 0, out: '' }),
      (error: { code: number; stdout: string }) => ({ code: error.code, out: error.stdout }),
    );
    expect(result.out).toBe('');
    expect(result.code).toBe(0);
  });

  it('sends a heartbeat at once when run', async () => {
    const child = runExample(workDir, { TELEMETRY_ENDPOINT: `${endpoint.origin}/api/collector` });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    try {
      const [request] = await endpoint.waitForRequests(1, LIMITS.waitMs);
      expect(request?.method).toBe('POST');
      expect(request?.url).toBe('/api/collector');
      const body = JSON.parse(request?.body ?? '{}') as { source: string; payload: { server_version: string } };
      expect(body.source).toBe('my_server');
      expect(body.payload.server_version).toBe('1.0.0');
      expect(stdout).toContain('Anonymous telemetry is on');
      // The notice names the host's own switch, since resolveTelemetry honours it.
      expect(stdout).toContain('Set MYAPP_TELEMETRY=false, TELEMETRY_ENABLED=false or DO_NOT_TRACK=1 to turn it off');
    } finally {
      child.kill('SIGKILL');
    }
  });
});

// tsx by path: the example runs from a temp folder, where a bare 'tsx' would not resolve.
const TSX = pathToFileURL(path.join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/** Runs the example in cwd with only PATH and `env`: nothing inherited can turn telemetry on or off. */
function runExample(cwd: string, env: Record<string, string>) {
  return spawn(process.execPath, ['--import', TSX, exampleFile], { cwd, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Waits for the child to exit on its own; resolves with its code, stdout and stderr. */
function exited(child: ReturnType<typeof runExample>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

/** A counting endpoint and a temp folder to run the example in, both gone when the test finishes. */
async function runPlace(onTestFinished: (cleanup: () => Promise<void>) => void) {
  const counting = await startCountingEndpoint(202);
  const cwd = await mkdtemp(path.join(os.tmpdir(), 'readme-run-'));
  onTestFinished(async () => {
    await counting.close();
    await rm(cwd, { recursive: true, force: true });
  });
  return { counting, cwd };
}

describe('README embedding example with a bad setting', () => {
  it('says so in one line and runs on without telemetry: no crash, no socket, nothing written', async ({ onTestFinished }) => {
    const { counting, cwd } = await runPlace(onTestFinished);
    const run = await exited(runExample(cwd, { TELEMETRY_ENDPOINT: counting.url, TELEMETRY_LOOP_SECONDS: 'abc' }));
    expect(run.code).toBe(0);
    // Not an uncaught SettingsError with its stack: the host's one line.
    expect(run.stderr).toMatch(/^Telemetry is off: TELEMETRY_LOOP_SECONDS="abc" is not valid: expected a number of seconds [^\n]+\n$/);
    expect(counting.connections()).toBe(0);
    expect(existsSync(path.join(cwd, 'data'))).toBe(false);
  }, scaled(120_000));
});

const OPT_OUTS: Array<[string, Record<string, string>]> = [
  ['DO_NOT_TRACK', { DO_NOT_TRACK: '1' }],
  ['TELEMETRY_ENABLED', { TELEMETRY_ENABLED: 'false' }],
  ['PREFECT_SERVER_ANALYTICS_ENABLED', { PREFECT_SERVER_ANALYTICS_ENABLED: 'false' }],
  ['MYAPP_TELEMETRY', { MYAPP_TELEMETRY: 'false' }],
];

// Each run is a cold tsx start of the example: ~1 s alone, 20 s seen with five at once on a loaded machine.
// 120 s tells "exited on its own" from "kept running" (a live actor's timer would hold the process open).
describe.concurrent('README embedding example under each opt-out', { timeout: scaled(120_000) }, () => {
  for (const [name, optOut] of OPT_OUTS) {
    it(`${name}: exits on its own with no socket to the endpoint and no session written`, async ({ expect, onTestFinished }) => {
      const { counting, cwd } = await runPlace(onTestFinished);
      const run = await exited(runExample(cwd, { TELEMETRY_ENDPOINT: counting.url, ...optOut }));
      expect(run.code).toBe(0);
      expect(run.stdout.trim()).toBe(`Telemetry is off (${name})`);
      expect(counting.connections()).toBe(0);
      expect(counting.requests).toHaveLength(0);
      // Not even the database folder: off means nothing is opened.
      expect(existsSync(path.join(cwd, 'data'))).toBe(false);
    });
  }

  it('control: with no opt-out the same endpoint gets a heartbeat and the session is written', async ({ expect, onTestFinished }) => {
    const { counting, cwd } = await runPlace(onTestFinished);
    const child = runExample(cwd, { TELEMETRY_ENDPOINT: counting.url, DO_NOT_TRACK: '0' });
    const run = exited(child);
    await vi.waitUntil(() => counting.requests.length >= 1, { timeout: scaled(100_000), interval: 20 });
    child.kill('SIGKILL');
    await run;
    expect(counting.connections()).toBeGreaterThanOrEqual(1);
    expect(JSON.parse((await readStoredSessionValue(path.join(cwd, 'data'))) ?? 'null')).toMatchObject({ session_id: expect.any(String) });
  });
});
