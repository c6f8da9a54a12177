// The package's own version, read once from package.json (shipped beside dist/).
// Through require rather than `import ... from 'node:fs'`: the ESM namespace of node:fs touches its lazy
// getters and loads ~36 stream modules, which every entry point and CLI command paid for (H2, H4).
import { createRequire } from 'node:module';

const pkgPath = import.meta.url.includes('/dist/') ? '../../package.json' : '../package.json';

/** telemetry-actor's version, used as server_version, api_version and in the user-agent. */
export const VERSION: string = (createRequire(import.meta.url)(pkgPath) as { version: string }).version;

/** The API version the reference server speaks. */
export const API_VERSION = '0.1.0';

/** The `source` of every heartbeat this package sends. */
export const SOURCE = 'telemetry_actor';
