// What every backend agrees on for the session: its key, its shape, and how a new one is made and checked.
import type { StoredSession } from './types.js';

export const SESSION_KEY = 'TELEMETRY_SESSION';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

let uuidPackage: Promise<typeof import('uuid')> | undefined;

/**
 * The uuid package (v4, validate, version), imported at the first session made or checked: its twenty modules
 * cost ~15 ms that a start-up touching no session (the `.` entry at import, `--help`, a server with telemetry
 * off) does not pay. uuid is ESM only, so the import is dynamic: a require would need Node 20.19.
 */
function uuid(): Promise<typeof import('uuid')> {
  return (uuidPackage ??= import('uuid'));
}

/** The value as a session of the documented shape (a version 4 session id, an ISO 8601 UTC start), else undefined. */
export async function toStoredSession(value: unknown): Promise<StoredSession | undefined> {
  if (value === null || typeof value !== 'object') return undefined;
  const { session_id: id, session_start_timestamp: start } = value as Record<string, unknown>;
  const { validate, version } = await uuid();
  const valid = typeof id === 'string' && validate(id) && version(id) === 4 && typeof start === 'string' && ISO_UTC.test(start) && !Number.isNaN(Date.parse(start));
  return valid ? { session_id: id, session_start_timestamp: start } : undefined;
}

/** True when value is a session of the documented shape. */
export async function isStoredSession(value: unknown): Promise<boolean> {
  return (await toStoredSession(value)) !== undefined;
}

/** The stored text as a session, or undefined when it is not valid JSON of the session shape. */
export async function parseSession(raw: string): Promise<StoredSession | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  return toStoredSession(parsed);
}

/** A new anonymous session starting now, its id a random (version 4) UUID. */
export async function newSession(now: () => number = Date.now): Promise<StoredSession> {
  return { session_id: (await uuid()).v4(), session_start_timestamp: new Date(now()).toISOString() };
}
