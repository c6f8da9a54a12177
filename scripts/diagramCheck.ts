// What a rendered statechart must draw: every arrow of its Mermaid text, every transition and state of the
// machine. `npm run docs:svg` refuses a picture that misses one; test/diagram.browser.test.ts checks the committed ones.
import type { Page } from 'playwright-core';
import type { AnyStateMachine, AnyStateNode } from 'xstate';

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

/** The label lines of the Mermaid text's arrows, as a reader sees them. */
export function labelLines(diagram: string): string[] {
  const arrows = [...diagram.matchAll(/^\s*(\S+) --> (\S+)(?: : (.*))?$/gm)];
  return arrows.flatMap(([, , , label]) => (label ? label.replaceAll('#58;', ':').split('<br/>') : []));
}

/** What an SVG of Mermaid's draws, read in the page: edge paths, edge label lines, state ids. */
export function drawingOf(page: Page, svg: string) {
  return page.evaluate((markup) => {
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
}

/** What the drawing of `diagram` (the Mermaid text of `machine`) misses, one line each; empty when complete. */
export function missingFromDrawing(machine: AnyStateMachine, diagram: string, drawn: Awaited<ReturnType<typeof drawingOf>>): string[] {
  const missing: string[] = [];
  // One path per arrow of the text, plus a dotted one per note (Mermaid 11 dropped repeated self-loops).
  const arrows = diagram.match(/^\s*(\S+) --> (\S+)/gm)?.length ?? 0;
  const notes = diagram.match(/^\s*note /gm)?.length ?? 0;
  if (drawn.paths !== arrows + notes) missing.push(`${arrows + notes} arrows in the text, ${drawn.paths} drawn`);
  for (const line of labelLines(diagram)) if (!drawn.labels.includes(line)) missing.push(`the label line "${line}"`);
  for (const word of definitionEvents(machine)) {
    if (!drawn.labels.some((label) => label.startsWith(word))) missing.push(`the transition "${word}"`);
  }
  for (const node of allNodes(machine.root).slice(1)) {
    if (!drawn.states.some((state) => state.includes(`-${node.key}-`))) missing.push(`the state ${node.key}`);
  }
  return missing;
}
