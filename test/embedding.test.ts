// docs/embedding.md's recipes, exactly as printed: type-checked, then each run against a counting endpoint on
// 127.0.0.1: it serves, a heartbeat arrives, and SIGTERM stops the actor so the process exits on its own.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { scaled } from './harness/limits.js';
import { startCountingEndpoint, type CountingEndpoint } from './helpers/cli.js';

const root = path.resolve(import.meta.dirname, '..');
// Inside the package, so `import ... from 'telemetry-actor'` resolves to this package (dist/), and express,
// fastify and level to its node_modules.
const recipeDir = path.join(root, 'test', '.embedding-recipes');
const TSX = pathToFileURL(path.join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const RECIPES = ['node-http.ts', 'express.ts', 'fastify.ts'];
// A cold tsx start takes ~1 s alone and up to ~20 s on this loaded machine; 100 s tells "slow" from "hung".
const WAIT_MS = scaled(100_000);

/** The pino JSON lines among a recipe's stdout. */
function parseLogLines(stdout: string): Array<Record<string, unknown>> {
  return stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The `embedding-recipe=<file>` blocks of docs/embedding.md, by file name. */
async function recipes(): Promise<Map<string, string>> {
  const doc = await readFile(path.join(root, 'docs', 'embedding.md'), 'utf8');
  return new Map([...doc.matchAll(/```ts embedding-recipe=(\S+)\n([\s\S]*?)```/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
}

beforeAll(async () => {
  await mkdir(recipeDir, { recursive: true });
  for (const [file, text] of await recipes()) await writeFile(path.join(recipeDir, file), text);
});
afterAll(() => rm(recipeDir, { recursive: true, force: true }));

/** Starts a recipe in a fresh temp folder (its ./data/db lands there) with only PATH and `env` set. */
async function startRecipe(context: TestContext, file: string, env: Record<string, string>) {
  const cwd = await mkdtemp(path.join(os.tmpdir(), 'embedding-recipe-'));
  const child = spawn(process.execPath, ['--import', TSX, path.join(recipeDir, file)], {
    cwd,
    env: { PATH: process.env.PATH, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  context.onTestFinished(async () => {
    child.kill('SIGKILL');
    await rm(cwd, { recursive: true, force: true });
  });
  const logs = () => parseLogLines(stdout);
  const url = async () => {
    await context.expect.poll(() => logs().find((line) => line.msg === 'Listening'), { timeout: WAIT_MS, interval: 20 }).toBeDefined();
    return String(logs().find((line) => line.msg === 'Listening')?.url);
  };
  return { child, exit, logs, url, cwd, stderr: () => stderr };
}

async function countingEndpoint(context: TestContext): Promise<CountingEndpoint> {
  const endpoint = await startCountingEndpoint(202);
  context.onTestFinished(() => endpoint.close());
  return endpoint;
}

describe('docs/embedding.md recipes', () => {
  it('has the shared file and one recipe per framework, and they type-check', async () => {
    expect([...(await recipes()).keys()].sort()).toEqual(['telemetry.ts', ...RECIPES].sort());
    const tsc = path.join(root, 'node_modules', '.bin', 'tsc');
    const files = [...(await recipes()).keys()].map((file) => path.join(recipeDir, file));
    const args = ['--ignoreConfig', '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--types', 'node', ...files];
    const out = await promisify(execFile)(tsc, args, { cwd: root }).then(() => '', (error: { stdout: string }) => error.stdout);
    expect(out).toBe('');
  }, WAIT_MS);
});

describe.concurrent('each recipe, run', { timeout: 3 * WAIT_MS }, () => {
  for (const file of RECIPES) {
    it(`${file}: serves, sends a heartbeat, and SIGTERM stops the actor and ends the process`, async (context) => {
      const { expect } = context;
      const endpoint = await countingEndpoint(context);
      const recipe = await startRecipe(context, file, { TELEMETRY_ENDPOINT: endpoint.url });
      const res = await fetch(await recipe.url());
      expect(await res.text()).toBe('hello\n');
      await expect.poll(() => endpoint.requests.length, { timeout: WAIT_MS, interval: 20 }).toBeGreaterThanOrEqual(1);
      expect(JSON.parse(endpoint.requests[0]!.body)).toMatchObject({ source: 'my_server', payload: { server_version: '1.0.0' } });

      recipe.child.kill('SIGTERM');
      // Exit code 0 with no process.exit anywhere: the listener closed and the actor's timer is gone.
      expect(await recipe.exit, recipe.stderr()).toBe(0);
      expect(recipe.logs().find((line) => line.msg === 'Telemetry stopped')).toMatchObject({ stopReason: 'requested', heartbeatsSent: endpoint.requests.length });
    });
  }

  it('node-http.ts under a bad TELEMETRY_LOOP_SECONDS: logs one warning naming it, serves without telemetry, stops on SIGTERM', async (context) => {
    const { expect } = context;
    const endpoint = await countingEndpoint(context);
    const recipe = await startRecipe(context, 'node-http.ts', { TELEMETRY_ENDPOINT: endpoint.url, TELEMETRY_LOOP_SECONDS: 'abc' });
    expect(await (await fetch(await recipe.url())).text()).toBe('hello\n');
    const warnings = recipe.logs().filter((line) => line.level === 40);
    expect(warnings).toEqual([expect.objectContaining({ msg: 'Telemetry is off: a setting is not valid', variable: 'TELEMETRY_LOOP_SECONDS' })]);
    recipe.child.kill('SIGTERM');
    expect(await recipe.exit, recipe.stderr()).toBe(0);
    expect(endpoint.connections()).toBe(0);
    expect(existsSync(path.join(recipe.cwd, 'data'))).toBe(false);
  });

  it('node-http.ts under DO_NOT_TRACK=1: serves, opens no socket to the endpoint, writes nothing, stops on SIGTERM', async (context) => {
    const { expect } = context;
    const endpoint = await countingEndpoint(context);
    const recipe = await startRecipe(context, 'node-http.ts', { TELEMETRY_ENDPOINT: endpoint.url, DO_NOT_TRACK: '1' });
    expect(await (await fetch(await recipe.url())).text()).toBe('hello\n');
    expect(recipe.logs().find((line) => line.msg === 'Telemetry is off')).toMatchObject({ disabledBy: 'DO_NOT_TRACK' });
    recipe.child.kill('SIGTERM');
    expect(await recipe.exit).toBe(0);
    expect(endpoint.connections()).toBe(0);
    expect(existsSync(path.join(recipe.cwd, 'data'))).toBe(false);
  });
});
