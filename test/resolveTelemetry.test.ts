// resolveTelemetry, the embedder's call: every opt-out wins, variables override the host's defaults, the
// notice names the host's switches, and the `.` entry stays lean (no server, CLI, collector or `level`).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { MemoryLevel } from 'memory-level';
import { createActor, toPromise } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createTelemetryMachine, DEFAULT_OPT_OUT_HINT, resolveTelemetry, SettingsError, UserError, type ResolveTelemetryOptions } from '../src/index.js';
import { captureLogs } from './helpers/logs.js';
import { startEndpoint } from './helpers/endpoint.js';

const HOST = { name: 'MYAPP_TELEMETRY', source: 'my_server', serverVersion: '1.2.3', endpoint: 'http://127.0.0.1:9/api/collector' } satisfies ResolveTelemetryOptions;

describe('resolveTelemetry: opt-outs', () => {
  const cases: Array<[string, NodeJS.ProcessEnv]> = [
    ['MYAPP_TELEMETRY', { MYAPP_TELEMETRY: 'false' }],
    ['TELEMETRY_ENABLED', { TELEMETRY_ENABLED: 'off' }],
    ['PREFECT_SERVER_ANALYTICS_ENABLED', { PREFECT_SERVER_ANALYTICS_ENABLED: 'false' }],
    ['DO_NOT_TRACK', { DO_NOT_TRACK: '1' }],
  ];
  for (const [layer, env] of cases) {
    it(`${layer} alone turns it off and names itself`, () => {
      expect(resolveTelemetry({ ...HOST, env })).toEqual({ enabled: false, disabledBy: layer });
    });
  }

  it("the host's flag wins over every variable, under the name the host gives it", () => {
    const env = { DO_NOT_TRACK: '1', MYAPP_TELEMETRY: 'false' };
    expect(resolveTelemetry({ ...HOST, env, flag: true, flagName: '--no-stats' })).toEqual({ enabled: false, disabledBy: '--no-stats' });
  });

  it('with no opt-out (DO_NOT_TRACK=0 is none) it is on', () => {
    expect(resolveTelemetry({ ...HOST, env: { DO_NOT_TRACK: '0', MYAPP_TELEMETRY: 'yes' } })).toMatchObject({ enabled: true, disabledBy: null });
  });

  it('off reads nothing else: a bad TELEMETRY_LOOP_SECONDS or a missing endpoint does not stop the host', () => {
    const { endpoint: _, ...noEndpoint } = HOST;
    expect(resolveTelemetry({ ...noEndpoint, env: { DO_NOT_TRACK: 'true', TELEMETRY_LOOP_SECONDS: 'soon' } })).toMatchObject({ enabled: false });
  });

  it('a host variable that is not a boolean word is a SettingsError naming it', () => {
    expect(() => resolveTelemetry({ ...HOST, env: { MYAPP_TELEMETRY: 'nope' } })).toThrow(SettingsError);
    expect(() => resolveTelemetry({ ...HOST, env: { MYAPP_TELEMETRY: 'nope' } })).toThrow(/^MYAPP_TELEMETRY="nope" is not valid/);
  });
});

describe('resolveTelemetry: the input', () => {
  it("fills the table's defaults and the host's identity", () => {
    const resolved = resolveTelemetry({ ...HOST, env: {} });
    expect(resolved.input).toEqual({
      endpoint: HOST.endpoint, loopSeconds: 600, timeoutSeconds: 10, environment: 'production', retries: 0,
      source: 'my_server', serverVersion: '1.2.3', apiVersion: '1.2.3',
      optOutHint: 'MYAPP_TELEMETRY=false, TELEMETRY_ENABLED=false or DO_NOT_TRACK=1',
    });
  });

  it("TELEMETRY_* variables (and aliases) override the host's values", () => {
    const env = { TELEMETRY_ENDPOINT: 'http://127.0.0.1:1/c', TELEMETRY_LOOP_SECONDS: '5', TELEMETRY_RETRIES: '2', PREFECT_API_TELEMETRY_ENVIRONMENT: 'staging' };
    const resolved = resolveTelemetry({ ...HOST, env, loopSeconds: 60, retries: 1, environment: 'dev', timeoutSeconds: 3 });
    expect(resolved.input).toMatchObject({ endpoint: 'http://127.0.0.1:1/c', loopSeconds: 5, retries: 2, environment: 'staging', timeoutSeconds: 3 });
  });

  it('on with no endpoint at all is a UserError (exit 2) saying what to set', () => {
    const { endpoint: _, ...noEndpoint } = HOST;
    const attempt = () => resolveTelemetry({ ...noEndpoint, env: {} });
    expect(attempt).toThrow(UserError);
    expect(attempt).toThrow(/pass `endpoint` or set TELEMETRY_ENDPOINT/);
  });

  it("a bad host value fails like a bad variable (loopSeconds: 0 would spin)", () => {
    expect(() => resolveTelemetry({ ...HOST, env: {}, loopSeconds: 0 })).toThrow(/^loopSeconds="0" is not valid/);
    expect(() => resolveTelemetry({ ...HOST, env: {}, endpoint: 'ftp://x' })).toThrow(/^endpoint="ftp:\/\/x" is not valid/);
  });

  it('a bad proxy variable matters only when telemetry is on', () => {
    expect(() => resolveTelemetry({ ...HOST, env: { HTTPS_PROXY: 'host:3128' } })).toThrow(/^HTTPS_PROXY=/);
    expect(resolveTelemetry({ ...HOST, env: { HTTPS_PROXY: 'host:3128', DO_NOT_TRACK: '1' } }).enabled).toBe(false);
  });
});

describe('the first-start notice', () => {
  async function noticeFor(input: Parameters<typeof createActor<ReturnType<typeof createTelemetryMachine>>>[1]) {
    const logs = captureLogs('info');
    const actor = createActor(createTelemetryMachine({ db: new MemoryLevel(), logger: logs.logger }), input);
    actor.start();
    actor.send({ type: 'telemetry.start' });
    await toPromise(actor);
    return logs.withMessage('Anonymous telemetry is on')[0];
  }

  it("names only the host's switches, as resolveTelemetry gives them", async () => {
    const endpoint = await startEndpoint();
    try {
      const resolved = resolveTelemetry({ ...HOST, env: { TELEMETRY_ENDPOINT: `${endpoint.origin}/c` }, flagName: '--no-stats', maxLoops: 1 });
      const notice = await noticeFor({ input: resolved.input! });
      expect(notice?.optOut).toBe('MYAPP_TELEMETRY=false, TELEMETRY_ENABLED=false, DO_NOT_TRACK=1 or --no-stats');
      expect(notice?.msg).toContain('Set MYAPP_TELEMETRY=false, TELEMETRY_ENABLED=false, DO_NOT_TRACK=1 or --no-stats to turn it off.');
      // Never the reference server's own tools, which do not exist in the host.
      expect(notice?.msg).not.toContain('telemetry-actor');
    } finally {
      await endpoint.close();
    }
  });

  it('defaults to the standard switches when the input has no hint', async () => {
    const endpoint = await startEndpoint();
    try {
      const input = { endpoint: `${endpoint.origin}/c`, loopSeconds: 600, timeoutSeconds: 10, environment: 'test', source: 's', serverVersion: '1', apiVersion: '1', retries: 0, maxLoops: 1 };
      const notice = await noticeFor({ input });
      expect(notice?.optOut).toBe(DEFAULT_OPT_OUT_HINT);
      expect(notice?.msg).toContain(`Set ${DEFAULT_OPT_OUT_HINT} to turn it off.`);
    } finally {
      await endpoint.close();
    }
  });
});

describe('the `.` entry', () => {
  const root = path.resolve(import.meta.dirname, '..');

  /** Every file and package the entry imports statically, transitively (dynamic import() is loaded only when used). */
  async function staticGraph(entry: string): Promise<{ files: Set<string>; packages: Set<string> }> {
    const files = new Set<string>();
    const packages = new Set<string>();
    const visit = async (file: string): Promise<void> => {
      if (files.has(file)) return;
      files.add(file);
      const text = await readFile(file, 'utf8');
      const specifiers = [...text.matchAll(/^\s*(?:import|export)\s(?!type\b)(?:[^'"]*?from\s+)?'([^']+)'/gm)].map((m) => m[1] ?? '');
      for (const spec of specifiers) {
        if (spec.startsWith('.')) await visit(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
        else packages.add(spec);
      }
    };
    await visit(entry);
    return { files, packages };
  }

  it('loads no server, CLI or collector module, and not the `level` package', async () => {
    const { files, packages } = await staticGraph(path.join(root, 'src', 'index.ts'));
    const relative = [...files].map((file) => path.relative(root, file));
    expect(relative).toContain(path.join('src', 'settings', 'resolveTelemetry.ts'));
    expect(relative.filter((file) => /^src[/\\](server|cli|collector)[/\\]/.test(file))).toEqual([]);
    expect([...packages].filter((name) => /(^|-)level$/.test(name))).toEqual([]);
  });
});

describe("the reference server's notice", () => {
  it('names the switches the server honours, its --no-telemetry flag included', async () => {
    const { serverInput } = await import('../src/server/serverInput.js');
    const { loadSettings } = await import('../src/settings/index.js');
    expect(serverInput(loadSettings({ TELEMETRY_HOME: '/nonexistent-home' })).telemetry.optOutHint).toBe('TELEMETRY_ENABLED=false, DO_NOT_TRACK=1 or --no-telemetry');
  });
});
