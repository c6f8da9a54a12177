// A real LevelDB in a fresh temp folder for tests, reopenable, removed on cleanup.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Level } from 'level';

export interface TempDb {
  /** The open database (utf8 keys and values, as the server opens its own). */
  db: Level<string, string>;
  /** The folder holding the database files. */
  location: string;
  /** Closes the current handle and opens the same folder again (a "restart"); updates `db`. */
  reopen(): Promise<Level<string, string>>;
  /** Closes the database and removes the folder. Safe to call twice. */
  cleanup(): Promise<void>;
}

/** Opens a LevelDB in a new folder under os.tmpdir(). Call `cleanup()` in afterEach. */
export async function openTempDb(prefix = 'telemetry-actor-test-'): Promise<TempDb> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  const location = path.join(dir, 'db');
  const open = async () => {
    const db = new Level<string, string>(location);
    await db.open();
    return db;
  };
  const temp: TempDb = {
    db: await open(),
    location,
    async reopen() {
      await temp.db.close();
      temp.db = await open();
      return temp.db;
    },
    async cleanup() {
      if (temp.db.status !== 'closed') await temp.db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return temp;
}
