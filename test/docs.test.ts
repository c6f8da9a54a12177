// Docs that match the code: every setting, command and state the code has is documented.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { telemetryMachine } from '../machines/telemetryMachine.js';
import { SENT_FIELDS } from '../src/actor/createTelemetryMachine.js';
import { withCommandsTable } from '../scripts/commandsDoc.js';
import { withSettingsTable } from '../scripts/settingsDoc.js';
import { NOT_SETTINGS_PREFIX, SETTINGS, serverFlags } from '../src/settings/index.js';

const root = path.resolve(import.meta.dirname, '..');
const read = (file: string) => readFile(path.join(root, file), 'utf8');

describe('docs', () => {
  it('settings.md holds the table generated from src/settings/table.ts (run npm run docs if not)', async () => {
    const doc = await read('docs/settings.md');
    expect(doc).toBe(withSettingsTable(doc));
    for (const row of Object.values(SETTINGS) as Array<{ env: string; alias?: string }>) {
      expect(doc, row.env).toContain(`| \`${row.env}\` |`);
      if (row.alias !== undefined) expect(doc, row.alias).toContain(`\`${row.alias}\``);
    }
  });

  it('the README holds the command table generated from src/cli/commands.ts (run npm run docs if not)', async () => {
    const readme = await read('README.md');
    expect(readme).toBe(withCommandsTable(readme));
    // Every server flag of the settings table (--inspect-port and --database-url were once missing by hand).
    for (const flag of Object.values(serverFlags())) expect(readme, flag.usage).toContain(`[${flag.usage}]`);
  });

  it('settings.md names the TELEMETRY_ prefix that is no setting (never warned about)', async () => {
    expect(await read('docs/settings.md')).toContain(`\`${NOT_SETTINGS_PREFIX}*\``);
  });

  it('privacy.md names every payload field that is sent', async () => {
    const doc = await read('docs/privacy.md');
    for (const field of SENT_FIELDS) expect(doc, field).toContain(`| \`${field}\` |`);
  });

  it('architecture.md describes every telemetry state', async () => {
    const doc = await read('docs/architecture.md');
    for (const state of Object.keys(telemetryMachine.root.states)) expect(doc, state).toContain(`| \`${state}\` |`);
  });

  it('the README links every doc in docs/', async () => {
    const readme = await read('README.md');
    const docs = (await readdir(path.join(root, 'docs'))).filter((file) => file.endsWith('.md'));
    expect(docs).toContain('security.md');
    for (const doc of docs) expect(readme, doc).toContain(`(docs/${doc})`);
  });
});

describe('README links', () => {
  it('every docs/ link points to a file that exists', async () => {
    const readme = await read('README.md');
    const links = [...readme.matchAll(/\]\((docs\/[^)#]+)\)/g)].map((m) => m[1] as string);
    expect(links.length).toBeGreaterThan(5);
    for (const link of links) await expect(read(link), link).resolves.toBeTypeOf('string');
  });
});
