// The server's optional peer dependencies (pg, @statelyai/inspect, ws, pino-pretty): not installed with the
// package, loaded only by the feature that asks for one, and a missing one said in one line, not a loader stack.
import { MissingPackageError } from './errors.js';

/** True when error is the module loader not finding one of packages (not an error inside one that is there). */
export function isMissingPackage(error: unknown, packages: readonly string[]): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === 'ERR_MODULE_NOT_FOUND' && typeof message === 'string' && packages.some((name) => message.includes(`Cannot find package '${name}'`));
}

/**
 * Runs load (a dynamic import of the module that imports packages); when one of them is not installed, throws
 * MissingPackageError naming feature and what to install.
 */
export async function importOptional<T>(load: () => Promise<T>, feature: string, packages: readonly string[]): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isMissingPackage(error, packages)) throw new MissingPackageError(feature, packages, { cause: error });
    throw error;
  }
}
