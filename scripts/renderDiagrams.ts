// Renders the generated Mermaid statecharts to SVG in Chromium, with the Mermaid from node_modules (no network).
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnyStateMachine } from 'xstate';
import type { Page } from 'playwright-core';
import { serverMachine } from '../machines/serverMachine.js';
import { telemetryMachine } from '../machines/telemetryMachine.js';
import { toMermaid } from './diagram.js';
import { launchChromium } from './chromium.js';

/** The SVG files `npm run docs:svg` writes, and the machine each one draws. */
export const SVG_DOCS: Array<{ file: string; id: string; machine: AnyStateMachine }> = [
  { file: 'docs/telemetry-machine.svg', id: 'telemetry', machine: telemetryMachine },
  { file: 'docs/server-machine.svg', id: 'server', machine: serverMachine },
];

/** Mermaid's browser bundle in node_modules. */
export const MERMAID_BUNDLE = path.join(path.dirname(createRequire(import.meta.url).resolve('mermaid')), 'mermaid.min.js');

/** Loads Mermaid into a blank page, inline (no request), once per page. */
export async function loadMermaid(page: Page): Promise<void> {
  await page.setContent('<!doctype html><html><body></body></html>');
  await page.addScriptTag({ path: MERMAID_BUNDLE });
  await page.evaluate(() => {
    const { mermaid } = globalThis as unknown as { mermaid: { initialize(config: object): void } };
    mermaid.initialize({ startOnLoad: false, theme: 'default', securityLevel: 'strict' });
  });
}

/**
 * Renders one diagram text to SVG (Mermaid must be loaded in the page), serialised as XML: Mermaid's own
 * string is HTML (`<br>` in labels), which a browser refuses as an SVG file.
 */
export function renderSvg(page: Page, id: string, text: string): Promise<string> {
  return page.evaluate(
    async ([svgId, source]) => {
      const { mermaid } = globalThis as unknown as { mermaid: { render(id: string, text: string): Promise<{ svg: string }> } };
      const holder = document.createElement('div');
      holder.innerHTML = (await mermaid.render(svgId, source)).svg;
      return new XMLSerializer().serializeToString(holder.firstElementChild!);
    },
    [id, text] as const,
  );
}

/** Writes docs/telemetry-machine.svg and docs/server-machine.svg. */
export async function writeDiagramSvgs(): Promise<void> {
  const browser = await launchChromium();
  try {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    await loadMermaid(page);
    for (const { file, id, machine } of SVG_DOCS) await writeFile(file, `${await renderSvg(page, id, toMermaid(machine))}\n`);
  } finally {
    await browser.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await writeDiagramSvgs();
  process.stdout.write(`wrote ${SVG_DOCS.map((d) => d.file).join(' and ')}\n`);
}
