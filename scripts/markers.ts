// A generated block inside a hand-written doc: the text between a start and an end marker, replaced whole.
import { readFileSync, writeFileSync } from 'node:fs';

/** A doc's generated block: its markers and what goes between them. */
export interface GeneratedBlock {
  start: string;
  end: string;
  text: () => string;
}

/** The doc with the block's text between its markers; throws if the markers are missing. */
export function withBlock(doc: string, block: GeneratedBlock, file: string): string {
  const start = doc.indexOf(block.start);
  const end = doc.indexOf(block.end);
  if (start === -1 || end < start) throw new Error(`${file} has no ${block.start} ... ${block.end} markers`);
  return `${doc.slice(0, start + block.start.length)}\n${block.text()}\n${doc.slice(end)}`;
}

export function writeBlock(file: string, block: GeneratedBlock): void {
  writeFileSync(file, withBlock(readFileSync(file, 'utf8'), block, file));
}
