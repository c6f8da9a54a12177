// The `telemetry-actor` program: runs the CLI and exits with its code. scripts/bundle.mjs bundles the CLI from
// here into dist/bundle/cli.cjs, which the bin (src/bin.cts) runs; `node dist/src/cli.js` runs it unbundled.
import { main } from './cli/main.js';

// Exit at once: a command must not linger on keep-alive sockets; stdout and pino are written synchronously.
// No top-level await: the bundle is CommonJS, the format V8's code cache can be given to (src/bin.cts).
void main(process.argv.slice(2)).then((code) => process.exit(code));
