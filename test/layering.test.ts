// The layering the design depends on, checked over the import graph of src/, machines/ and scripts/.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importCycles, layeringViolations, parseImports, readSources, staticReach, type ImportEdge, type Sources } from './helpers/importGraph.js';

const root = path.resolve(import.meta.dirname, '..');
let sources: Sources;
let edges: ImportEdge[];

beforeAll(async () => {
  sources = await readSources(root, ['src', 'machines', 'scripts']);
  edges = parseImports(sources);
});

/** The rules run over a small made-up tree, so each one is shown to catch what it is for. */
function check(files: Record<string, string>): string[] {
  const made: Sources = new Map(Object.entries(files));
  const madeEdges = parseImports(made);
  return [...layeringViolations(made, madeEdges), ...importCycles(madeEdges)];
}

describe('the import graph of this repository', () => {
  it('is read: every kind of import is found', () => {
    expect(sources.size).toBeGreaterThan(40);
    const kinds = new Set(edges.map((edge) => edge.kind));
    expect([...kinds].sort()).toEqual(['dynamic', 'static', 'type']);
    // One known edge of each kind, so a parser that finds nothing cannot pass the rules below.
    expect(edges).toContainEqual(expect.objectContaining({ from: 'src/cli.ts', to: 'src/cli/main.ts', kind: 'static' }));
    expect(edges).toContainEqual(expect.objectContaining({ from: 'src/stores/index.ts', to: 'src/stores/level/index.ts', kind: 'dynamic' }));
    expect(edges).toContainEqual(expect.objectContaining({ from: 'src/stores/level/database.ts', to: 'level', external: true }));
  });

  it('keeps every layering rule', () => {
    expect(layeringViolations(sources, edges), 'layering violations').toEqual([]);
  });

  it('has no import cycle', () => {
    expect(importCycles(edges), 'import cycles').toEqual([]);
  });

  it('the `.` entry loads neither the server, the CLI, the collector, a database driver, nor uuid before a session is made', () => {
    const reach = staticReach('src/index.ts', edges);
    expect(reach.has('src/actor/createTelemetryMachine.ts')).toBe(true);
    // uuid is imported at the first session made or checked (src/stores/session.ts), the rest only by the server.
    expect(edges).toContainEqual(expect.objectContaining({ from: 'src/stores/session.ts', to: 'uuid', kind: 'dynamic' }));
    const notAtImport = ['level', 'classic-level', 'pg', 'uuid', 'ws', '@statelyai/inspect', 'pino-pretty', 'chart.js'];
    const forbidden = [...reach.entries()]
      .filter(([target]) => /^src\/(server|cli|collector)\/|^src\/cli\.ts$/.test(target) || notAtImport.includes(target))
      .map(([target, chain]) => `${target} is loaded by the . entry through ${chain.join(' -> ')}`);
    expect(forbidden).toEqual([]);
  });

  it('docs/architecture.md shows every folder of src/ in its tree', async () => {
    const doc = await readFile(path.join(root, 'docs', 'architecture.md'), 'utf8');
    const folders = new Set([...sources.keys()].filter((file) => file.startsWith('src/')).map((file) => path.posix.dirname(file)));
    expect(folders.size).toBeGreaterThan(5);
    // A folder is shown by its own name on a line of the tree, e.g. `  level/` or `src/`.
    const missing = [...folders].filter((folder) => !new RegExp(`^\\s*${path.posix.basename(folder)}/`, 'm').test(doc));
    expect(missing, 'folders missing from the tree in docs/architecture.md').toEqual([]);
  });
});

describe('each rule catches what it is for', () => {
  it('machines/ importing anything but xstate and sibling machine files', () => {
    const problems = check({
      'machines/a.ts': "import { setup } from 'xstate';\nimport { b } from './b.js';\nimport { log } from '../src/logger.js';",
      'machines/b.ts': "import os from 'node:os';",
      'src/logger.ts': '',
    });
    expect(problems).toEqual([
      "machines/a.ts:3 imports '../src/logger.js': machines/ may import only xstate and sibling machine files",
      "machines/a.ts:3 imports '../src/logger.js': the machines layer may not import the higher ground floor layer",
      "machines/b.ts:1 imports 'node:os': machines/ may import only xstate and sibling machine files",
    ]);
  });

  it('a store backend folder reached from outside src/stores/, and its package imported outside it', () => {
    const problems = check({
      'src/stores/index.ts': "export { x } from './level/x.js';",
      'src/stores/level/x.ts': "import { Level } from 'level';",
      'src/stores/postgres/y.ts': "import pg from 'pg';",
      'src/server/s.ts': "import { x } from '../stores/level/x.js';\nimport { ClassicLevel } from 'classic-level';",
      'src/actor/a.ts': "const pg = await import('pg');",
    });
    expect(problems).toEqual([
      "src/server/s.ts:1 imports '../stores/level/x.js': src/stores/level/ is reached only through src/stores/ (createStorage)",
      "src/server/s.ts:2 imports 'classic-level': only src/stores/level/ may import the 'classic-level' package",
      "src/actor/a.ts:1 imports 'pg': only src/stores/postgres/ may import the 'pg' package",
    ]);
  });

  it('a lower layer importing a higher one, type-only and dynamic imports included', () => {
    const problems = check({
      'src/heartbeat.ts': "import type { Settings } from './settings/load.js';",
      'src/settings/load.ts': '',
      'src/actor/a.ts': "const { s } = await import('../server/s.js');",
      'src/server/s.ts': "import {\n  main,\n} from '../cli/main.js';",
      'src/cli/main.ts': "import { s } from '../server/s.js';\nimport { a } from '../actor/a.js';",
      'scripts/docs.ts': "import { main } from '../src/cli/main.js';",
    });
    expect(problems).toEqual([
      "src/heartbeat.ts:1 imports './settings/load.js': the ground floor layer may not import the higher settings layer",
      "src/actor/a.ts:1 imports '../server/s.js': the actor layer may not import the higher server layer",
      "src/server/s.ts:1 imports '../cli/main.js': the server layer may not import the higher cli layer",
      'src/cli/main.ts -> src/server/s.ts -> src/cli/main.ts',
    ]);
  });

  it('an import cycle inside one layer, and a file in no layer', () => {
    const problems = check({
      'src/stores/a.ts': "export * from './b.js';",
      'src/stores/b.ts': "// import { nothing } from './c.js';\nimport { a } from './a.js';",
      'src/extra/x.ts': "const url = 'http://127.0.0.1/import'; // import('./y.js')",
    });
    expect(problems).toEqual(['src/extra/x.ts is in no layer: add its folder to LAYERS', 'src/stores/a.ts -> src/stores/b.ts -> src/stores/a.ts']);
  });

  it('an import statement the parser cannot read fails loudly instead of being skipped', () => {
    expect(() => check({ 'src/a.ts': "import {\n  a, // the first\n} from './b.js';" })).not.toThrow();
    expect(() => check({ 'src/a.ts': "import { a = 1 } from './b.js';" })).toThrow(/src\/a\.ts:1: cannot read this import statement/);
  });
});
