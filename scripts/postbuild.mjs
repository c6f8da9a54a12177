// After tsc: the bin is executable, and the console's static files sit beside the compiled server.
import { chmodSync, cpSync } from 'node:fs';

chmodSync('dist/src/cli.js', 0o755);
cpSync('src/server/console/static', 'dist/src/server/console/static', { recursive: true });
