// The generated statecharts as a reader sees them: rendered by the current Mermaid in Chromium, every transition present.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { toMermaid } from '../scripts/diagram.js';
import { SVG_DOCS, loadMermaid, renderSvg } from '../scripts/renderDiagrams.js';
import { scaled } from './harness/limits.js';
import { describeBrowser, launchBrowser, type BrowserSession } from './helpers/browser.js';

// Chromium takes up to ~8 s to start on a loaded 2-core machine; a minute tells a slow start from a hang.
const BROWSER_MS = scaled(60_000);

function allNodes(node: AnyStateNode): AnyStateNode[] {
  return [node, ...Object.values(node.states).flatMap(allNodes)];
}

/** Every transition with a target, as `<event word>` text the way any reader would name it (from the definition). */
function definitionEvents(machine: AnyStateMachine): string[] {
  const words: string[] = [];
  for (const node of allNodes(machine.root)) {
    const groups = [...node.transitions.values(), ...(node.always?.length ? [node.always] : [])];
    for (const t of groups.flat()) {
      if (!t.target?.length) continue;
      const type = String(t.eventType);
      const actor = /^xstate\.(done|error)\.actor\.(.+)$/.exec(type);
      const delayed = /^xstate\.after\.(\w+)\./.exec(type);
      words.push(actor ? `${actor[1]}: ${actor[2]}` : delayed ? `after ${delayed[1]}` : type === '' ? 'always' : type);
    }
  }
  return words;
}

describeBrowser('the statecharts in Chromium with the current Mermaid', () => {
  let browser: BrowserSession;
  beforeAll(async () => {
    browser = await launchBrowser();
    await loadMermaid(browser.page);
  }, BROWSER_MS);
  afterAll(() => browser?.close());

  for (const { id, machine, file } of SVG_DOCS) {
    it(`${id}: every arrow of the diagram and every transition of the definition is drawn`, async () => {
      const diagram = toMermaid(machine);
      const svg = await renderSvg(browser.page, `${id}-check`, diagram);
      const drawn = await browser.page.evaluate((markup) => {
        document.body.innerHTML = markup;
        return {
          paths: document.querySelectorAll('.edgePaths path').length,
          // The HTML label inside each edge's foreignObject: one text line per transition.
          labels: [...document.querySelectorAll('.edgeLabel')]
            .filter((label): label is HTMLElement => label instanceof HTMLElement)
            .flatMap((label) => label.innerText.split('\n')),
          states: [...document.querySelectorAll('g.node, g.statediagram-cluster')].map((node) => node.id),
        };
      }, svg);
      const arrows = [...diagram.matchAll(/^\s*(\S+) --> (\S+)(?: : (.*))?$/gm)];
      // One path per arrow of the text, plus a dotted one per note: Mermaid dropped none (11 drops repeated self-loops).
      const notes = diagram.match(/^\s*note /gm)?.length ?? 0;
      expect(drawn.paths).toBe(arrows.length + notes);
      const labelLines = arrows.flatMap(([, , , label]) => (label ? label.replaceAll('#58;', ':').split('<br/>') : []));
      for (const line of labelLines) expect(drawn.labels, line).toContain(line);
      for (const word of definitionEvents(machine)) {
        expect(drawn.labels.some((label) => label.startsWith(word)), `${id}: ${word}`).toBe(true);
      }
      for (const node of allNodes(machine.root).slice(1)) {
        expect(drawn.states.some((state) => state.includes(`-${node.key}-`)), node.key).toBe(true);
      }
      // The committed picture draws the same labels (regenerate with `npm run docs:svg`).
      const committed = await readFile(file, 'utf8');
      for (const line of labelLines) expect(committed, `${file} is stale: run npm run docs:svg`).toContain(line);
      expect(browser.errors).toEqual([]);
    }, BROWSER_MS);
  }
});
