// The server's optional peer dependencies (pg, @statelyai/inspect, ws, pino-pretty): not installed with the
// package, loaded only by the feature that asks for one, and a missing one said in one line, not a loader stack.
import { errorCode, MissingPackageError } from './errors.js';

/**
 * True when error is the module loader not finding one of packages (not an error inside one that is there):
 * import()'s words, or require()'s, which is how the CLI's CommonJS bundle loads pg and ws (src/bin.cts).
 */
export function isMissingPackage(error: unknown, packages: readonly string[]): boolean {
  const message = (error as { message?: unknown } | null)?.message;
  if (typeof message !== 'string') return false;
  const code = errorCode(error);
  const says = code === 'ERR_MODULE_NOT_FOUND' ? 'Cannot find package' : code === 'MODULE_NOT_FOUND' ? 'Cannot find module' : undefined;
  return says !== undefined && packages.some((name) => message.includes(`${says} '${name}'`));
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
