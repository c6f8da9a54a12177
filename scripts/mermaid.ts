// Mermaid for `npm run docs:svg`, fetched on demand at one pinned version rather than installed by `npm ci`:
// Mermaid 12 (and its chevrotain, commander, @mermaid-js/parser) declare Node >= 22, so as a dev dependency
// every `npm ci` on the supported Node 20 printed EBADENGINE warnings. It runs in Chromium, never in Node.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The one Mermaid the pictures are drawn with, and the registry's integrity of its tarball (checked). */
export const MERMAID = {
  version: '12.3.0',
  integrity: 'sha512-4113TdXeLAsMruJ79OpFL5O8+LTFXhQqZ260rF3tgUmiNAtRm4Uume04I+65PRN6yZ69J4f8rVYWW8zRk65UYw==',
};

/** Where the browser bundle is kept once fetched (node_modules/.cache: `npm ci` starts it afresh). */
export const MERMAID_BUNDLE = path.resolve(import.meta.dirname, '..', 'node_modules', '.cache', 'telemetry-actor', `mermaid-${MERMAID.version}.min.js`);

/** Fetches mermaid@MERMAID.version with `npm pack` (npm's cache first), checks its integrity, keeps dist/mermaid.min.js. */
async function fetchBundle(): Promise<void> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'telemetry-actor-mermaid-'));
  try {
    const { stdout } = await run('npm', ['pack', `mermaid@${MERMAID.version}`, '--json', '--prefer-offline', '--pack-destination', tmp], { cwd: tmp });
    const [packed] = JSON.parse(stdout) as Array<{ filename: string; integrity: string }>;
    if (packed?.integrity !== MERMAID.integrity) throw new Error(`its integrity is ${packed?.integrity}, not the pinned ${MERMAID.integrity}`);
    await run('tar', ['-xzf', path.join(tmp, packed.filename), '-C', tmp, 'package/dist/mermaid.min.js']);
    await mkdir(path.dirname(MERMAID_BUNDLE), { recursive: true });
    await copyFile(path.join(tmp, 'package', 'dist', 'mermaid.min.js'), MERMAID_BUNDLE);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** The path of Mermaid's browser bundle, fetched the first time; throws one line saying what it needs. */
export async function mermaidBundle(): Promise<string> {
  if (existsSync(MERMAID_BUNDLE)) return MERMAID_BUNDLE;
  try {
    await fetchBundle();
  } catch (error) {
    // npm's first error line says why (its last one only points at a log file).
    const npmLines = (error as { stderr?: string }).stderr?.split('\n').filter((line) => line.startsWith('npm error') && !line.includes('complete log'));
    const reason = npmLines?.[0] ?? (error as Error).message;
    throw new Error(`mermaid@${MERMAID.version} could not be fetched from the npm registry (needed once, then kept in ${path.dirname(MERMAID_BUNDLE)}): ${reason}`);
  }
  return MERMAID_BUNDLE;
}
