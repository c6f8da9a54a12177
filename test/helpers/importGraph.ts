// The import graph of the TypeScript sources, and the layering rules checked over it (test/layering.test.ts).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** One import of one file: `to` is a repo-relative file path for relative imports, else the package name. */
export interface ImportEdge {
  from: string;
  to: string;
  /** The specifier as written, for messages. */
  specifier: string;
  line: number;
  kind: 'static' | 'dynamic' | 'type';
  /** True when `to` is an npm package (or node: builtin), false when it is a file of this repo. */
  external: boolean;
}

/** Source text by repo-relative path (forward slashes), e.g. `src/cli/main.ts`. */
export type Sources = Map<string, string>;

/** Reads every .ts file under the given repo-relative folders. */
export async function readSources(root: string, folders: string[]): Promise<Sources> {
  const sources: Sources = new Map();
  for (const folder of folders) {
    for (const entry of await readdir(path.join(root, folder), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.d.ts')) continue;
      const file = path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/');
      sources.set(file, await readFile(path.join(root, file), 'utf8'));
    }
  }
  return sources;
}

// Comments are blanked (newlines kept, so line numbers hold); strings are skipped whole so '//' in a URL stays.
function blankComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"/g, (match) =>
    match.startsWith('/') ? match.replace(/[^\n]/g, ' ') : match,
  );
}

// import x from '…', import { a, type B } from '…', import * as n from '…', export { a } from '…', export * from '…'.
const STATIC = /^(import|export)\s+(type\s+)?(?:[\w$*{},\s]*?\s+from\s+)?(['"])([^'"]+)\3\s*;?/;
const DYNAMIC = /(typeof\s+)?\bimport\(\s*(['"])([^'"]+)\2\s*\)/g;

function resolve(from: string, specifier: string): { to: string; external: boolean } {
  if (!specifier.startsWith('.')) {
    const parts = specifier.split('/');
    return { to: specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier), external: true };
  }
  const joined = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  return { to: joined.replace(/\.js$/, '.ts'), external: false };
}

/**
 * Every import, export-from and import('…') of every file. Throws on a statement that starts with
 * `import` but cannot be read, so an import the parser misses fails the test instead of passing silently.
 */
export function parseImports(sources: Sources): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const [file, text] of sources) {
    const code = blankComments(text);
    const lineOf = (index: number) => code.slice(0, index).split('\n').length;
    const add = (specifier: string, index: number, kind: ImportEdge['kind']) =>
      edges.push({ from: file, specifier, line: lineOf(index), kind, ...resolve(file, specifier) });
    for (const start of code.matchAll(/^(?:import|export)\b/gm)) {
      const statement = code.slice(start.index).match(STATIC);
      if (statement !== null) {
        const specifier = statement[4] ?? '';
        add(specifier, start.index, statement[2] === undefined ? 'static' : 'type');
      } else if (start[0] === 'import' && !/^import\s*\(/.test(code.slice(start.index))) {
        throw new Error(`${file}:${lineOf(start.index)}: cannot read this import statement`);
      }
    }
    for (const call of code.matchAll(DYNAMIC)) add(call[3] ?? '', call.index, call[1] === undefined ? 'dynamic' : 'type');
  }
  return edges;
}

/** A layer: files it holds and its rank (a file may import its own rank and lower ones only). */
interface Layer {
  name: string;
  rank: number;
  holds: (file: string) => boolean;
}

const under = (folder: string) => (file: string) => file.startsWith(`${folder}/`);

/** Low to high. src/index.ts (the `.` entry) sits with the actor it exports; scripts may import anything. */
export const LAYERS: Layer[] = [
  { name: 'machines', rank: 0, holds: under('machines') },
  { name: 'ground floor', rank: 1, holds: (f) => /^src\/[^/]+\.ts$/.test(f) && f !== 'src/cli.ts' && f !== 'src/index.ts' },
  { name: 'settings', rank: 2, holds: under('src/settings') },
  { name: 'stores', rank: 2, holds: under('src/stores') },
  { name: 'actor', rank: 3, holds: (f) => under('src/actor')(f) || f === 'src/index.ts' },
  { name: 'collector', rank: 4, holds: under('src/collector') },
  { name: 'server', rank: 5, holds: under('src/server') },
  { name: 'cli', rank: 6, holds: (f) => under('src/cli')(f) || f === 'src/cli.ts' },
  { name: 'scripts', rank: 7, holds: under('scripts') },
];

/** Each store backend folder, and the npm packages only it may import. */
export const BACKENDS = [
  { folder: 'src/stores/level', packages: ['level', 'classic-level'] },
  { folder: 'src/stores/postgres', packages: ['pg'] },
];

const layerOf = (file: string) => LAYERS.find((layer) => layer.holds(file));
const where = (edge: ImportEdge) => `${edge.from}:${edge.line} imports '${edge.specifier}'`;

/** Every layering rule broken by these imports, one readable line each (empty when all hold). */
export function layeringViolations(sources: Sources, edges: ImportEdge[]): string[] {
  const problems: string[] = [];
  for (const file of sources.keys()) if (layerOf(file) === undefined) problems.push(`${file} is in no layer: add its folder to LAYERS`);
  for (const edge of edges) {
    const from = layerOf(edge.from);
    if (edge.from.startsWith('machines/') && edge.to !== 'xstate' && !(edge.to.startsWith('machines/') && !edge.external)) {
      problems.push(`${where(edge)}: machines/ may import only xstate and sibling machine files`);
    }
    if (!edge.external && !sources.has(edge.to)) problems.push(`${where(edge)}: no such file ${edge.to}`);
    for (const backend of BACKENDS) {
      if (!edge.external && under(backend.folder)(edge.to) && !edge.from.startsWith('src/stores/')) {
        problems.push(`${where(edge)}: ${backend.folder}/ is reached only through src/stores/ (createStorage)`);
      }
      if (edge.external && backend.packages.includes(edge.to) && !under(backend.folder)(edge.from)) {
        problems.push(`${where(edge)}: only ${backend.folder}/ may import the '${edge.to}' package`);
      }
    }
    const to = edge.external ? undefined : layerOf(edge.to);
    if (from !== undefined && to !== undefined && to.rank > from.rank) {
      problems.push(`${where(edge)}: the ${from.name} layer may not import the higher ${to.name} layer`);
    }
  }
  return problems;
}

/** Every import cycle among files (all kinds of import count), each as `a -> b -> a`. */
export function importCycles(edges: ImportEdge[]): string[] {
  const next = new Map<string, string[]>();
  for (const edge of edges) if (!edge.external) next.set(edge.from, [...(next.get(edge.from) ?? []), edge.to]);
  const cycles: string[] = [];
  const done = new Set<string>();
  const visit = (file: string, trail: string[]) => {
    const seen = trail.indexOf(file);
    if (seen !== -1) return void cycles.push([...trail.slice(seen), file].join(' -> '));
    if (done.has(file)) return;
    for (const to of next.get(file) ?? []) visit(to, [...trail, file]);
    done.add(file);
  };
  for (const file of [...next.keys()].sort()) visit(file, []);
  return cycles;
}

/**
 * What loading `entry` loads: static runtime imports followed transitively (type-only imports are erased,
 * dynamic ones wait until called). Maps each file or package reached to the chain that reaches it.
 */
export function staticReach(entry: string, edges: ImportEdge[]): Map<string, string[]> {
  const reached = new Map<string, string[]>([[entry, [entry]]]);
  const queue = [entry];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const edge of edges) {
      if (edge.from !== file || edge.kind !== 'static' || reached.has(edge.to)) continue;
      reached.set(edge.to, [...(reached.get(file) ?? []), edge.to]);
      if (!edge.external) queue.push(edge.to);
    }
  }
  return reached;
}
