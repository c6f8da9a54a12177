// The LevelDB under TELEMETRY_HOME: its folders made with honest errors, opened with a clear one when locked.
import { Level } from 'level';
import { errorCode, StoreLockedError, UserError } from '../../errors.js';
import { makeFolderOrExplain, makeHome } from '../../folders.js';

/** Creates the server's database handle (not yet open). */
export function createDatabase(dbPath: string): Level<string, string> {
  return new Level<string, string>(dbPath, { valueEncoding: 'utf8' });
}

function isLocked(error: unknown): boolean {
  return errorCode((error as { cause?: unknown } | null)?.cause) === 'LEVEL_LOCKED';
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
  await makeHome(home);
  await makeFolderOrExplain(db.location, 'the database folder');
}
