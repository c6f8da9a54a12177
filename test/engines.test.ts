// `npm ci` on any Node the README names prints no EBADENGINE line: every package in the lockfile, dev tools
// included, accepts the package's own Node floor (engines.node) and the Node running the tests. Mermaid (Node
// >= 22) was a dev dependency once, and vite 7 wants 20.19: either would fail here.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');

interface LockEntry {
  version?: string;
  engines?: Record<string, string> | string[];
}

const readJson = async <T>(file: string) => JSON.parse(await readFile(path.join(root, file), 'utf8')) as T;

type Lock = { packages: Record<string, LockEntry> };

/** The packages whose declared Node range does not accept `node`: "name@version wants range". */
function refusing(lock: Lock, node: string): string[] {
  return Object.entries(lock.packages)
    .filter(([where, entry]) => where !== '' && !Array.isArray(entry.engines) && entry.engines?.node !== undefined)
    .filter(([, entry]) => !semver.satisfies(node, (entry.engines as Record<string, string>).node!, { includePrerelease: true }))
    .map(([where, entry]) => `${where.replace(/^.*node_modules\//, '')}@${entry.version} wants ${(entry.engines as Record<string, string>).node}`);
}

describe('npm ci on the Node versions the package supports', () => {
  it("installs nothing that refuses the package's own floor (engines.node) or this Node", async () => {
    const { engines } = await readJson<{ engines: { node: string } }>('package.json');
    const lock = await readJson<Lock>('package-lock.json');
    const floor = semver.minVersion(engines.node)!.version;
    expect(floor).toBe('20.18.1');
    expect(refusing(lock, floor)).toEqual([]);
    expect(refusing(lock, process.versions.node)).toEqual([]);
  });

  it('names a package that would print EBADENGINE (the lockfile entries vite 7 and mermaid once had)', () => {
    const lock: Lock = {
      packages: {
        '': { engines: { node: '>=1' } },
        'node_modules/vite': { version: '7.3.1', engines: { node: '^20.19.0 || >=22.12.0' } },
        'node_modules/mermaid/node_modules/commander': { version: '14.0.0', engines: { node: '>=22' } },
        'node_modules/old': { version: '1.0.0', engines: ['node >= 0.4'] },
      },
    };
    expect(refusing(lock, '20.18.1')).toEqual(['vite@7.3.1 wants ^20.19.0 || >=22.12.0', 'commander@14.0.0 wants >=22']);
    expect(refusing(lock, '22.12.0')).toEqual([]);
  });
});
