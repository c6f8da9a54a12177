#!/usr/bin/env node
// The `telemetry-actor` bin: runs the CLI's one-file bundle (dist/bundle/cli.cjs, written by scripts/bundle.mjs)
// through V8's code cache, so a start reads one file and compiles almost nothing. Node 22 offers this as
// module.enableCompileCache(); Node 20 does not, and compiling the CLI's ~150 modules was most of the gap between
// the server's start and a bare node:http one (docs/benchmarks.md, H1).
import fs = require('node:fs');
import nodeModule = require('node:module');
import path = require('node:path');
import vm = require('node:vm');

const BUNDLE = path.join(__dirname, '..', 'bundle', 'cli.cjs');
// V8 refuses a cache made by another V8 or with other flags (the code then compiles as usual). One file per Node
// version and architecture: after a Node upgrade the next server run writes its own.
const CACHE = `${BUNDLE}.${process.version}-${process.arch}.v8cache`;

function readCache(): Buffer | undefined {
  try {
    return fs.readFileSync(CACHE);
  } catch {
    return undefined;
  }
}

/**
 * Written once, as a server exits cleanly: by then the start-up, serving and shutdown code is compiled, which is
 * what the cache is for. A temp file and a rename, so a concurrent exit or start never sees half a cache; a
 * read-only install simply runs without one.
 */
function writeCache(script: vm.Script): void {
  const temp = `${CACHE}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(temp, script.createCachedData());
    fs.renameSync(temp, CACHE);
  } catch {
    fs.rmSync(temp, { force: true });
  }
}

/**
 * The bundle's import() of what stays outside it (node:http, pino-pretty, @statelyai/inspect): Node 20 loses a
 * script's import() callback when V8 runs the script from its code cache (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING),
 * so the bin lends its own; scripts/bundle.mjs writes those calls as `__importExternal(...)`.
 */
const importExternal = (specifier: string): Promise<unknown> => import(specifier);

/** The compiled bundle, and what V8 made of the cache: `rejected` (another Node or flags) compiles as usual. */
function compileCli(): { script: vm.Script; cache: 'used' | 'rejected' | 'none' } {
  const cachedData = readCache();
  // CommonJS's own wrapper, plus the import above. esbuild writes ASCII only (its default charset), so latin1
  // reads the file as a one-byte string, the cheapest kind.
  const source = `(function (exports, require, module, __filename, __dirname, __importExternal) {${fs.readFileSync(BUNDLE, 'latin1')}\n})`;
  const script = new vm.Script(source, { filename: BUNDLE, cachedData });
  return { script, cache: cachedData === undefined ? 'none' : script.cachedDataRejected === true ? 'rejected' : 'used' };
}

/** compileCli, or one line and exit 1 for a checkout built with tsc alone (no bundle), rather than a stack. */
function compileOrExplain(): ReturnType<typeof compileCli> {
  try {
    return compileCli();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    process.stderr.write(`telemetry-actor: ${BUNDLE} is missing; run npm run build\n`);
    return process.exit(1);
  }
}

function runCli(): void {
  const { script, cache } = compileOrExplain();
  if (cache === 'none' && process.argv[2] === 'server') process.once('exit', (code) => code === 0 && writeCache(script));
  const bundle = { exports: {} };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run.call(bundle.exports, bundle.exports, nodeModule.createRequire(BUNDLE), bundle, BUNDLE, path.dirname(BUNDLE), importExternal);
}

// Required rather than run (test/bin.test.ts asks compileCli whether V8 takes the cache): nothing starts.
if (require.main === module) runCli();

export = { compileCli };
