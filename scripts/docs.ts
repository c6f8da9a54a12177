// `npm run docs`: regenerates the docs that are derived from code (statecharts, settings table).
import { writeStatechartsDoc } from './diagram.js';
import { writeSettingsDoc } from './settingsDoc.js';

writeStatechartsDoc('docs/statecharts.md');
writeSettingsDoc('docs/settings.md');
process.stdout.write('wrote docs/statecharts.md and docs/settings.md\n');
