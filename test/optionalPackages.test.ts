// Optional peer dependencies: a missing one becomes one line naming what to install; any other failure stays itself.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { MissingPackageError } from '../src/errors.js';
import { importOptional } from '../src/optionalPackages.js';

const MISSING = 'telemetry-actor-test-no-such-package';

describe('importOptional', () => {
  it('turns the loader not finding the package into one line naming what to install (exit code 1)', async () => {
    const error = await importOptional(() => import(MISSING), 'The test feature', [MISSING, 'ws']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingPackageError);
    expect((error as MissingPackageError).message).toBe(`The test feature needs the packages ${MISSING} and ws, which this installation lacks: npm install ${MISSING} ws`);
    expect((error as MissingPackageError).exitCode).toBe(1);
  });

  it('knows require()\'s words too: the CLI\'s CommonJS bundle requires pg and ws (src/bin.cts)', async () => {
    const required = async () => createRequire(import.meta.url)(MISSING) as unknown;
    const error = await importOptional(required, 'The test feature', [MISSING]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingPackageError);
    // Another package missing is not "pg is missing".
    await expect(importOptional(required, 'The test feature', ['pg'])).rejects.toMatchObject({ code: 'MODULE_NOT_FOUND' });
  });

  it('leaves other failures alone: another missing package, or an error inside one that is installed', async () => {
    await expect(importOptional(() => import(MISSING), 'The test feature', ['pg'])).rejects.toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
    const inside = new Error('boom');
    await expect(importOptional(() => Promise.reject(inside), 'The test feature', ['pg'])).rejects.toBe(inside);
  });

  it('returns the module when its packages are there', async () => {
    const { validate } = await importOptional(() => import('uuid'), 'The test feature', ['uuid']);
    expect(validate('0b5d6a86-5f4e-4c43-9a55-3f1d2c7e8a90')).toBe(true);
  });
});
