// The committed statechart pictures as a reader sees them, in Chromium: every arrow of the generated diagram and
// every transition and state of the definition is drawn (so a picture is neither incomplete nor stale).
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { toMermaid } from '../scripts/diagram.js';
import { drawingOf, labelLines, missingFromDrawing } from '../scripts/diagramCheck.js';
import { SVG_DOCS } from '../scripts/renderDiagrams.js';
import { scaled } from './harness/limits.js';
import { describeBrowser, launchBrowser, type BrowserSession } from './helpers/browser.js';

// Chromium takes up to ~8 s to start on a loaded 2-core machine; a minute tells a slow start from a hang.
const BROWSER_MS = scaled(60_000);

describeBrowser('the committed statecharts in Chromium', () => {
  let browser: BrowserSession;
  beforeAll(async () => {
    browser = await launchBrowser();
  }, BROWSER_MS);
  afterAll(() => browser?.close());

  for (const { id, machine, file } of SVG_DOCS) {
    it(`${id}: ${file} draws every arrow of the diagram and every transition and state of the definition`, async () => {
      const diagram = toMermaid(machine);
      const committed = await readFile(file, 'utf8');
      const drawn = await drawingOf(browser.page, committed);
      // The check can fail: the drawing has edges, and the text has labelled arrows to look for.
      expect(drawn.paths).toBeGreaterThan(3);
      expect(labelLines(diagram).length).toBeGreaterThan(3);
      expect(missingFromDrawing(machine, diagram, drawn), `${file} is stale or incomplete: run npm run docs:svg`).toEqual([]);
      expect(browser.errors).toEqual([]);
    }, BROWSER_MS);
  }
});
