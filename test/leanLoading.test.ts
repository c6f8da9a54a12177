// What the built `.` entry loads at run time, in a fresh process: no undici, pino, LevelDB or node:net at
// import, and at the first heartbeat only the part of undici a POST needs (not its index: fetch, websocket,
// cache, mock). Guards the start-up and memory figures of docs/benchmarks.md (H1, H3, H4) from a silent
// fallback, e.g. an undici release that moves the files the sender requires.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LIMITS } from './harness/limits.js';

const dist = path.resolve(import.meta.dirname, '..', 'dist');

const SCRIPT = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const dist = process.argv[1];
const loaded = () => ({
  files: Object.keys(require.cache).map((file) => file.replaceAll('\\\\', '/')),
  net: process.moduleLoadList.includes('NativeModule net'),
});
await import(dist + '/src/index.js');
const atImport = loaded();
const { createSender } = await import(dist + '/src/actor/sender.js');
const http = await import('node:http');
const server = http.createServer((req, res) => req.resume().on('end', () => res.writeHead(204).end()));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const sent = await createSender()({
  endpoint: 'http://127.0.0.1:' + server.address().port + '/api/collector', timeoutSeconds: 5, source: 'telemetry_actor',
  environment: 'test', serverVersion: '0.1.0', apiVersion: '0.1.0', sessionId: '0b5d6a86-5f4e-4c43-9a55-3f1d2c7e8a90',
  sessionStartTimestamp: '2026-11-27T18:00:00.000Z',
});
server.close();
process.stdout.write(JSON.stringify({ atImport, afterSend: loaded(), statusCode: sent.statusCode }));
process.exit(0);
`;

interface Loaded {
  files: string[];
  net: boolean;
}

function run(): Promise<{ atImport: Loaded; afterSend: Loaded; statusCode: number }> {
  return new Promise((resolve, reject) => {
    // The limit only tells "finished" from "hung" (LIMITS.commandMs, scaled for a busy machine).
    execFile(process.execPath, ['--input-type=module', '-e', SCRIPT, dist], { timeout: LIMITS.commandMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as { atImport: Loaded; afterSend: Loaded; statusCode: number });
    });
  });
}

const from = (files: string[], pkg: string) => files.filter((file) => file.includes(`/node_modules/${pkg}/`));

describe('the `.` entry at run time', () => {
  it('loads no undici, pino, LevelDB or node:net at import, and only part of undici at the first send', async () => {
    const { atImport, afterSend, statusCode } = await run();
    for (const pkg of ['undici', 'pino', 'level', 'classic-level', 'uuid']) expect(from(atImport.files, pkg), pkg).toEqual([]);
    expect(atImport.net).toBe(false);

    expect(statusCode).toBe(204);
    const undici = from(afterSend.files, 'undici');
    expect(undici.some((file) => file.endsWith('/undici/lib/api/api-request.js'))).toBe(true);
    expect(undici.some((file) => file.endsWith('/undici/index.js'))).toBe(false);
    expect(undici.some((file) => file.includes('/lib/web/fetch/'))).toBe(false);
  });
});

const CLI = path.join(dist, 'src', 'bin.cjs');

/** Runs the built CLI in a fresh process with `script` around it; resolves with what the script printed on stderr. */
function runCli(args: string[], env: Record<string, string>, options: { closeStdout?: boolean } = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    // Node's own module list at exit: which internal modules the command loaded (streams, sockets).
    // Written with fs.writeSync from CommonJS: process.stderr (or node:fs's ESM namespace) would load streams itself.
    const report =
      "import { createRequire } from 'node:module'; const fs = createRequire(process.execPath)('fs');" +
      "process.on('exit', () => fs.writeSync(2, 'LOADED ' + JSON.stringify(process.moduleLoadList) + '\\n'));";
    const child = spawn(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(report)}`, CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The reader gone before the command prints (`telemetry-actor status | head -0`).
    if (options.closeStdout === true) child.stdout.destroy();
    else child.stdout.resume();
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    // The limit only tells "finished" from "hung".
    const timer = setTimeout(() => child.kill('SIGKILL'), LIMITS.commandMs);
    child.once('error', reject);
    child.once('exit', (code) => (clearTimeout(timer), resolve({ code, stderr })));
  });
}

const loadedOf = (stderr: string): string[] => JSON.parse(/LOADED (.*)/.exec(stderr)?.[1] ?? '[]') as string[];

describe('`telemetry-actor status` with no server', () => {
  it("loads neither Node's stream modules nor node:net (it reads a file or two and prints four lines)", async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'lean-status-'));
    try {
      const { code, stderr } = await runCli(['status'], { TELEMETRY_HOME: home });
      expect(code).toBe(0);
      const loaded = loadedOf(stderr);
      expect(loaded).toContain('NativeModule internal/util/parse_args/parse_args');
      expect(loaded.filter((m) => m === 'NativeModule stream' || m === 'NativeModule net')).toEqual([]);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('exits 0 without an error when its reader has gone (EPIPE)', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'lean-status-'));
    try {
      const { code, stderr } = await runCli(['status'], { TELEMETRY_HOME: home }, { closeStdout: true });
      expect(stderr.replace(/LOADED .*\n/, '')).toBe('');
      expect(code).toBe(0);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
