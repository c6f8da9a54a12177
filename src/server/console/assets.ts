// The console's files, served from the package itself (Chart.js too): no CDN, no request elsewhere.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { ROUTES } from '../routes.js';

// Next to this module: in src/ as written, in dist/src/ as `npm run build` copies it (tsc copies no HTML).
const STATIC = fileURLToPath(new URL('static/', import.meta.url));
const DIAGRAM = path.join('docs', 'telemetry-machine.svg');

/** The package root (it holds docs/): three folders up from src/, four from dist/src/. */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, DIAGRAM)) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

// Only the page and what it loads may run, and only from this server: a browser-enforced "no external request".
// No page may frame it (clickjacking; X-Frame-Options: DENY, set on every answer, says the same to old browsers).
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

interface Asset {
  file: string;
  type: string;
}

const CHART = 'chart.umd.min.js';

/**
 * Chart.js's browser build: copied into dist/ by the build (scripts/postbuild.mjs) and shipped with the package,
 * so users never install chart.js; run from src/ (the tests), from the devDependency in node_modules.
 */
function chartFile(): string {
  const built = path.join(STATIC, CHART);
  return existsSync(built) ? built : path.join(path.dirname(createRequire(import.meta.url).resolve('chart.js')), CHART);
}

function assetTable(): Record<string, Asset> {
  return {
    [ROUTES.console]: { file: path.join(STATIC, 'index.html'), type: 'text/html; charset=utf-8' },
    [ROUTES.consoleScript]: { file: path.join(STATIC, 'console.js'), type: 'text/javascript; charset=utf-8' },
    [ROUTES.consoleStyle]: { file: path.join(STATIC, 'console.css'), type: 'text/css; charset=utf-8' },
    [ROUTES.consoleChart]: { file: chartFile(), type: 'text/javascript; charset=utf-8' },
    [ROUTES.consoleDiagram]: { file: path.join(packageRoot(), DIAGRAM), type: 'image/svg+xml' },
  };
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** GET handlers for the console's paths; each file is read and gzipped once, on first use. */
export function consoleAssetHandlers(): Record<string, Handler> {
  const handlers: Record<string, Handler> = {};
  for (const [route, asset] of Object.entries(assetTable())) {
    let loaded: Promise<{ plain: Buffer; gzip: Buffer }> | undefined;
    handlers[route] = async (req, res) => {
      loaded ??= readFile(asset.file).then((plain) => ({ plain, gzip: gzipSync(plain) }));
      const { plain, gzip } = await loaded;
      const gzipped = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      const body = gzipped ? gzip : plain;
      res.writeHead(200, {
        'content-type': asset.type,
        'content-length': body.length,
        'cache-control': 'no-cache',
        vary: 'accept-encoding',
        ...(gzipped ? { 'content-encoding': 'gzip' } : {}),
        ...(route === ROUTES.console ? { 'content-security-policy': CSP } : {}),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
  }
  return handlers;
}
