// After tsc: the bin is executable, and the console's static files and the heartbeat schema sit beside the compiled code.
import { chmodSync, cpSync } from 'node:fs';

chmodSync('dist/src/cli.js', 0o755);
cpSync('src/server/console/static', 'dist/src/server/console/static', { recursive: true });
cpSync('src/collector/heartbeat.schema.json', 'dist/src/collector/heartbeat.schema.json');
