// After tsc: the bin is executable, and the console's static files and the heartbeat schema sit beside the compiled code,
// Chart.js's browser build among them (a devDependency, shipped as a built asset with its license, never installed by users).
import { chmodSync, cpSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const STATIC = 'dist/src/server/console/static';
chmodSync('dist/src/bin.cjs', 0o755);
cpSync('src/server/console/static', STATIC, { recursive: true });
const chart = path.dirname(createRequire(import.meta.url).resolve('chart.js'));
cpSync(path.join(chart, 'chart.umd.min.js'), path.join(STATIC, 'chart.umd.min.js'));
cpSync(path.join(chart, '..', 'LICENSE.md'), path.join(STATIC, 'chart.js-LICENSE.md'));
cpSync('src/collector/heartbeat.schema.json', 'dist/src/collector/heartbeat.schema.json');
