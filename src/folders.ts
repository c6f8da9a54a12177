// The folders the server writes (TELEMETRY_HOME, the LevelDB folder): made with mkdir -p, failing with one honest line.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { errorCode, UserError } from './errors.js';

/** What the codes a folder cannot be made with mean, for the one-line error. */
const FOLDER_ERRORS: Record<string, string> = {
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a file stands where a folder should be',
  EEXIST: 'a file stands where the folder should be',
  ENOSPC: 'no space left on the device',
};

function describeFolderError(error: unknown): string {
  const code = errorCode(error);
  if (code === undefined) return String(error);
  return FOLDER_ERRORS[code] === undefined ? code : `${code} (${FOLDER_ERRORS[code]})`;
}

/** mkdir -p whose error names the real cause: Node's recursive mkdir says ENOENT on a read-only file system. */
async function makeFolder(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    // The first missing folder from the top, made alone, fails with the honest code (EROFS, EACCES, ENOTDIR).
    let missing = dir;
    while (path.dirname(missing) !== missing && !existsSync(path.dirname(missing))) missing = path.dirname(missing);
    throw await mkdir(missing).then(() => error, (honest: unknown) => honest);
  }
}

/**
 * Makes `dir` and any missing parent; throws UserError `Cannot create <what> <dir>: <code> (<meaning>)`.
 * `what` names the folder the way the user knows it: `TELEMETRY_HOME`, `the database folder`.
 */
export async function makeFolderOrExplain(dir: string, what: string): Promise<void> {
  try {
    await makeFolder(dir);
  } catch (error) {
    throw new UserError(`Cannot create ${what} ${dir}: ${describeFolderError(error)}`, { cause: error });
  }
}

/** Makes TELEMETRY_HOME (whatever the backend: the server writes server.json there). */
export const makeHome = (home: string): Promise<void> => makeFolderOrExplain(home, 'TELEMETRY_HOME');
