// The runtime file <home>/server.json: names the live server that owns a home, so commands ask it instead
// of opening its database. A file whose process is gone, or whose server answers for another home, is stale.
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fs } from '../nodeFs.js';
import { errorCode, storeLockedText } from '../errors.js';

/** What a running server writes to <home>/server.json. */
export interface ServerInfo {
  pid: number;
  url: string;
  started_at: string;
  home: string;
  /** Random per process, sent back in every API answer: a server later on the same port is not mistaken for it. */
  instance: string;
}

function serverInfoPath(home: string): string {
  return path.join(home, 'server.json');
}

/** Reads the runtime file of the server using this home, if any (not checked for liveness). */
export async function readServerInfo(home: string): Promise<ServerInfo | undefined> {
  try {
    const info = JSON.parse(await readFile(serverInfoPath(home), 'utf8')) as Partial<ServerInfo>;
    return typeof info.url === 'string' && typeof info.pid === 'number' ? (info as ServerInfo) : undefined;
  } catch {
    return undefined;
  }
}

export async function writeServerInfo(home: string, info: ServerInfo): Promise<void> {
  await writeFile(serverInfoPath(home), `${JSON.stringify(info)}\n`);
}

export async function removeServerInfo(home: string): Promise<void> {
  await rm(serverInfoPath(home), { force: true });
}

/**
 * Removes <home>/server.json if it names this process, synchronously: for the last moment of a process
 * that exits at once (a second signal), where no promise would run. Never throws.
 */
export function removeOwnServerInfoSync(home: string): void {
  try {
    const info = JSON.parse(fs.readFileSync(serverInfoPath(home), 'utf8')) as Partial<ServerInfo>;
    if (info.pid === process.pid) fs.rmSync(serverInfoPath(home), { force: true });
  } catch {
    // No file, or not ours to judge: nothing to remove.
  }
}

/** True when a process with this pid exists (signal 0 checks without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return errorCode(error) === 'EPERM';
  }
}

/** The server.json of a live process, or undefined; a file left by a dead process is removed. */
export async function liveServerInfo(home: string): Promise<ServerInfo | undefined> {
  const info = await readServerInfo(home);
  if (info === undefined) return undefined;
  if (isAlive(info.pid)) return info;
  await removeServerInfo(home);
  return undefined;
}

/** The one line said when the database is held by another process, naming the server if it is known. */
export async function lockedMessage(home: string, location: string): Promise<string> {
  const info = await liveServerInfo(home);
  const who = info === undefined ? 'another process' : `the telemetry-actor server at ${info.url} (pid ${info.pid})`;
  return storeLockedText(location, who);
}
