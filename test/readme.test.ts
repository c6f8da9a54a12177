// The README's embedding example, compiled by tsc and run against a local endpoint, exactly as printed.
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './helpers/httpServer.js';
import { LIMITS } from './harness/limits.js';

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

describe('README embedding example', () => {
  let endpoint: TestServer;
  let workDir: string;

  beforeAll(async () => {
    endpoint = await startServer();
    workDir = await mkdtemp(path.join(os.tmpdir(), 'readme-example-'));
    await mkdir(exampleDir, { recursive: true });
    await writeFile(exampleFile, await readmeExample());
  });

  afterAll(async () => {
    await endpoint.close();
    await rm(workDir, { recursive: true, force: true });
    await rm(exampleDir, { recursive: true, force: true });
  });

  it('is at most about ten lines of code', async () => {
    const lines = (await readmeExample()).split('\n').filter((line) => line.trim() !== '');
    expect(lines.length).toBeLessThanOrEqual(14);
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
        // tsx by path: the example runs from a temp folder, where a bare 'tsx' would not resolve.
    const tsx = pathToFileURL(path.join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
    const child = spawn(process.execPath, ['--import', tsx, exampleFile], {
      cwd: workDir,
      env: { PATH: process.env.PATH, TELEMETRY_ENDPOINT: `${endpoint.origin}/api/collector` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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
    } finally {
      child.kill('SIGKILL');
    }
  });
});
