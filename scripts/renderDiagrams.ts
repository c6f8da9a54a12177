// Renders the generated Mermaid statecharts to SVG in Chromium, with the pinned Mermaid (scripts/mermaid.ts),
// and writes a picture only when it draws every arrow, transition and state (scripts/diagramCheck.ts).
import { writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { AnyStateMachine } from 'xstate';
import type { Page } from 'playwright-core';
import { serverMachine } from '../machines/serverMachine.js';
import { telemetryMachine } from '../machines/telemetryMachine.js';
import { toMermaid } from './diagram.js';
import { drawingOf, missingFromDrawing } from './diagramCheck.js';
import { launchChromium } from './chromium.js';
import { mermaidBundle } from './mermaid.js';

/** The SVG files `npm run docs:svg` writes, and the machine each one draws. */
export const SVG_DOCS: Array<{ file: string; id: string; machine: AnyStateMachine }> = [
  { file: 'docs/telemetry-machine.svg', id: 'telemetry', machine: telemetryMachine },
  { file: 'docs/server-machine.svg', id: 'server', machine: serverMachine },
];

/** Loads Mermaid into a blank page, inline (no request), once per page. */
async function loadMermaid(page: Page): Promise<void> {
  await page.setContent('<!doctype html><html><body></body></html>');
  await page.addScriptTag({ path: await mermaidBundle() });
  await page.evaluate(() => {
    const { mermaid } = globalThis as unknown as { mermaid: { initialize(config: object): void } };
    mermaid.initialize({ startOnLoad: false, theme: 'default', securityLevel: 'strict' });
  });
}

/**
 * Renders one diagram text to SVG (Mermaid must be loaded in the page), serialised as XML: Mermaid's own
 * string is HTML (`<br>` in labels), which a browser refuses as an SVG file.
 */
function renderSvg(page: Page, id: string, text: string): Promise<string> {
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

/** Writes docs/telemetry-machine.svg and docs/server-machine.svg; throws, writing neither, if one misses a part. */
export async function writeDiagramSvgs(): Promise<void> {
  const browser = await launchChromium();
  try {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    await loadMermaid(page);
    const pictures: Array<[string, string]> = [];
    for (const { file, id, machine } of SVG_DOCS) {
      const diagram = toMermaid(machine);
      const svg = await renderSvg(page, id, diagram);
      const missing = missingFromDrawing(machine, diagram, await drawingOf(page, svg));
      if (missing.length > 0) throw new Error(`Mermaid's picture for ${file} misses ${missing.join('; ')}`);
      pictures.push([file, `${svg}\n`]);
    }
    for (const [file, svg] of pictures) await writeFile(file, svg);
  } finally {
    await browser.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await writeDiagramSvgs();
    process.stdout.write(`wrote ${SVG_DOCS.map((d) => d.file).join(' and ')}\n`);
  } catch (error) {
    process.stderr.write(`docs:svg: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
