// The layout rule the design depends on: machines/ imports nothing but xstate and each other.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const machinesDir = path.resolve(import.meta.dirname, '..', 'machines');

describe('machines/', () => {
  it('imports only xstate and sibling machine files (no I/O at import time)', async () => {
    const files = (await readdir(machinesDir)).filter((file) => file.endsWith('.ts'));
    expect(files).toContain('telemetryMachine.ts');
    for (const file of files) {
      const text = await readFile(path.join(machinesDir, file), 'utf8');
      const sources = [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm)].map((m) => m[1]);
      for (const source of sources) expect(source === 'xstate' || /^\.\/[\w.]+\.js$/.test(source ?? ''), `${file}: ${source}`).toBe(true);
    }
  });
});
