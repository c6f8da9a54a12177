// After tsc: bundles the CLI (dist/src/cli.js) into dist/bundle/cli.cjs, the one file the bin (src/bin.cts) runs,
// then runs a server from it once so the bin writes V8's code cache for it. See docs/architecture.md ("The bin").
//
// In the bundle: our code, xstate, pino and uuid. Outside it, required from node_modules: level (its native
// binding is found relative to its own folder), undici (half a megabyte of it, the llhttp WebAssembly mostly, for
// code that runs after the server answers, at its first heartbeat) and the optional peers. The library entries
// (`.`, `./server`, ...) are not bundled.
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { createSandbox } from '../test/harness/process.js';

const OUT_DIR = path.resolve('dist/bundle');
const OUT = path.join(OUT_DIR, 'cli.cjs');
// Our compiled modules, by absolute path: wherever the checkout is, nothing in node_modules matches.
const OURS = new RegExp(`^${path.resolve('dist').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[\\\\/](src|machines)[\\\\/].*\\.js$`);
const EXTERNAL = /^(level|undici(\/.*)?|pg|pino-pretty|ws|@statelyai\/inspect)$/;

/**
 * Our compiled modules, made bundle-ready:
 * - `createRequire(import.meta.url)('x')` becomes `require('x')`, which esbuild follows (pino) or leaves (undici);
 * - every other `import.meta.url` becomes the URL of the module's own file in dist, so paths built from it
 *   (package.json, the console's static files, the heartbeat schema) still point where they did;
 * - `import('x')` of what stays outside becomes `__importExternal('x')`, the bin's own import() (src/bin.cts says why).
 */
const distModules = {
  name: 'dist-modules',
  setup(build) {
    build.onResolve({ filter: EXTERNAL }, (args) => ({ path: args.path, external: true }));
    build.onLoad({ filter: OURS }, (args) => {
      const ownUrl = `__fileUrl(${JSON.stringify(path.relative(OUT_DIR, args.path))})`;
      const contents = readFileSync(args.path, 'utf8')
        .replace(/createRequire\(import\.meta\.url\)\(('[^']+')\)/g, 'require($1)')
        .replace(/const require = createRequire\(import\.meta\.url\);/g, '')
        .replaceAll('import.meta.url', ownUrl)
        .replace(/\bimport\(('[^']+')\)/g, (call, specifier) => (EXTERNAL.test(specifier.slice(1, -1)) || specifier.startsWith("'node:") ? `__importExternal(${specifier})` : call));
      return { contents, loader: 'js' };
    });
  },
};

// `npm start` runs this each time: a bundle newer than everything it is made from, with its cache, is kept.
if (fresh()) process.exit(0);

const built = await esbuild.build({
  entryPoints: ['dist/src/cli.js'],
  outfile: OUT,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // ASCII only (esbuild's default, said here because src/bin.cts reads the file as latin1).
  charset: 'ascii',
  banner: { js: "const __fileUrl = (file) => require('node:url').pathToFileURL(require('node:path').join(__dirname, file)).href;" },
  plugins: [distModules],
  logLevel: 'warning',
});
// A warning here is a bundle that runs wrong (an import.meta left empty, a require it cannot follow): no build.
if (built.warnings.length > 0) throw new Error(`esbuild warned ${built.warnings.length} time(s) (above): the bundle would not run as the modules do`);

// A cache for another bundle would be refused by V8 only if the length differs: old ones go.
for (const file of readdirSync(OUT_DIR)) if (file.endsWith('.v8cache') || file.endsWith('.tmp')) rmSync(path.join(OUT_DIR, file));
await warmUp();

/** Whether the bundle and this Node's cache exist and are newer than the compiled code, the installed packages and this script. */
function fresh() {
  const cache = `${OUT}.${process.version}-${process.arch}.v8cache`;
  if (!existsSync(OUT) || !existsSync(cache)) return false;
  const built = statSync(OUT).mtimeMs;
  const inputs = ['dist/src', 'dist/machines'].flatMap((dir) => readdirSync(dir, { recursive: true }).filter((file) => file.endsWith('.js') && !file.includes('static')).map((file) => path.join(dir, file)));
  inputs.push('node_modules/.package-lock.json', fileURLToPath(import.meta.url));
  return inputs.every((file) => !existsSync(file) || statSync(file).mtimeMs <= built);
}

/**
 * Runs `telemetry-actor server` on a temp home (port 0, telemetry on, its own collector: nothing leaves the
 * machine) through the tests' process harness, waits for the first heartbeat, asks /api/health once and stops
 * it: the bin writes the code cache as it exits.
 */
async function warmUp() {
  const sandbox = createSandbox();
  try {
    const server = await sandbox.startServerProcess({ TELEMETRY_LOG_LEVEL: 'debug' });
    await server.waitForLine((line) => line.msg === 'Heartbeat sent');
    await server.get('/api/health');
    const exit = await server.stop();
    if (exit.code !== 0) throw new Error(`the warm-up server exited with ${exit.code ?? exit.signal}: ${server.stderr().trim()}`);
    if (!readdirSync(OUT_DIR).some((file) => file.endsWith('.v8cache'))) throw new Error('the warm-up server wrote no code cache');
  } finally {
    await sandbox.cleanup();
  }
}
