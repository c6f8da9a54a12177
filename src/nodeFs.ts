// node:fs through require. Its ESM namespace (`import { x } from 'node:fs'`) touches every lazy getter, ReadStream's
// among them, and so loads Node's ~20 stream modules: a CLI command that reads a file or two and prints a few
// lines paid several ms for them (H2). The CommonJS module is the one Node already loaded at start.
import { createRequire } from 'node:module';

export const fs = createRequire(import.meta.url)('node:fs') as typeof import('node:fs');
