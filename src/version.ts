// The package's own version, read once from package.json (shipped beside dist/).
import { readFileSync } from 'node:fs';

const pkgUrl = new URL(import.meta.url.includes('/dist/') ? '../../package.json' : '../package.json', import.meta.url);

/** telemetry-actor's version, used as server_version, api_version and in the user-agent. */
export const VERSION: string = (JSON.parse(readFileSync(pkgUrl, 'utf8')) as { version: string }).version;

/** The API version the reference server speaks. */
export const API_VERSION = '0.1.0';

/** The `source` of every heartbeat this package sends. */
export const SOURCE = 'telemetry_actor';
