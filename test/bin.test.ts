// The CLI as npm installs it: a symlink in node_modules/.bin pointing at dist/src/cli.js.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const run = promisify(execFile);

describe('bin', () => {
  let dir: string;
  let link: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'telemetry-bin-'));
    link = path.join(dir, 'telemetry-actor');
    await symlink(path.join(root, 'dist', 'src', 'cli.js'), link);
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
    expect(pkg.bin['telemetry-actor']).toBe('dist/src/cli.js');
    const head = (await readFile(path.join(root, 'dist', 'src', 'cli.js'), 'utf8')).split('\n')[0];
    expect(head).toBe('#!/usr/bin/env node');
  });
});
