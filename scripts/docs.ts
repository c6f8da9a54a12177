// `npm run docs`: regenerates the docs that are derived from code (statecharts, settings table, command table).
import { writeCommandsDoc } from './commandsDoc.js';
import { writeStatechartsDoc } from './diagram.js';
import { writeSettingsDoc } from './settingsDoc.js';

writeStatechartsDoc('docs/statecharts.md');
writeSettingsDoc('docs/settings.md');
writeCommandsDoc('README.md');
process.stdout.write('wrote docs/statecharts.md, docs/settings.md and the command table of README.md\n');
