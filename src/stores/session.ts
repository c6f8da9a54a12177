// What every backend agrees on for the session: its key, its shape, and how a new one is made.
import { isUuidV4, randomUuid } from '../uuid.js';
import type { StoredSession } from './types.js';

export const SESSION_KEY = 'TELEMETRY_SESSION';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** True when value is a session of the documented shape. */
export function isStoredSession(value: unknown): value is StoredSession {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return (
    isUuidV4(v.session_id) &&
    typeof v.session_start_timestamp === 'string' &&
    ISO_UTC.test(v.session_start_timestamp) &&
    !Number.isNaN(Date.parse(v.session_start_timestamp))
  );
}

/** The stored text as a session, or undefined when it is not valid JSON of the session shape. */
export function parseSession(raw: string): StoredSession | undefined {
  try {
    const parsed = JSON.parse(raw) as unknown;
    return isStoredSession(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** A new anonymous session starting now. */
export function newSession(now: () => number = Date.now): StoredSession {
  return { session_id: randomUuid(), session_start_timestamp: new Date(now()).toISOString() };
}
