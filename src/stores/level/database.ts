// The LevelDB under TELEMETRY_HOME: its folders made with honest errors, opened with a clear one when locked.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Level } from 'level';
import { errorCode, StoreLockedError, UserError } from '../../errors.js';

/** Creates the server's database handle (not yet open). */
export function createDatabase(dbPath: string): Level<string, string> {
  return new Level<string, string>(dbPath, { valueEncoding: 'utf8' });
}

function isLocked(error: unknown): boolean {
  return errorCode((error as { cause?: unknown } | null)?.cause) === 'LEVEL_LOCKED';
}

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

/** Opens db, creating <home> if needed; throws UserError with one clear line on failure. */
export async function openDatabase(db: Level<string, string>, home: string): Promise<void> {
  // Made here rather than by level, whose recursive mkdir would report a read-only home as ENOENT.
  await makeFolders(db, home);
  try {
    await db.open();
  } catch (error) {
    if (isLocked(error)) throw new StoreLockedError(db.location, { cause: error });
    const detail = (error as { cause?: Error }).cause?.message ?? (error as Error).message;
    throw new UserError(`Cannot open the database ${db.location}: ${detail}`, { cause: error });
  }
}

/** Makes <home>, then the database folder; throws UserError naming the one that could not be made. */
async function makeFolders(db: Level<string, string>, home: string): Promise<void> {
  try {
    await makeFolder(home);
  } catch (error) {
    throw new UserError(`Cannot create TELEMETRY_HOME ${home}: ${describeFolderError(error)}`, { cause: error });
  }
  try {
    await makeFolder(db.location);
  } catch (error) {
    throw new UserError(`Cannot create the database folder ${db.location}: ${describeFolderError(error)}`, { cause: error });
  }
}
