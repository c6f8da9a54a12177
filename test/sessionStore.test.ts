// The anonymous session in a real LevelDB: created once, reused across reopen, corrupt values replaced, one writer.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { validate as validateUuid, version as uuidVersion } from 'uuid';
import { isStoredSession, SESSION_KEY } from '../src/stores/session.js';
import { CONFIGURATION_SUBLEVEL, createLevelSessionStore } from '../src/stores/level/sessionStore.js';
import { captureLogs } from './helpers/logs.js';
import { openTempDb, type TempDb } from './helpers/tempDb.js';

let temp: TempDb;
beforeEach(async () => {
  temp = await openTempDb();
});
afterEach(async () => {
  await temp.cleanup();
});

/** The raw stored text, read the way any other tool on the database would see it. */
const rawValue = () => temp.db.sublevel<string, string>('configuration', { valueEncoding: 'utf8' }).get(SESSION_KEY);

const putRaw = (value: string) => temp.db.sublevel<string, string>('configuration', { valueEncoding: 'utf8' }).put(SESSION_KEY, value);

describe('session store', () => {
  it('creates a v4 session on first use', async () => {
    const now = Date.parse('2026-11-27T18:00:00.000Z');
    expect(await createLevelSessionStore(temp.db).read()).toBeUndefined();
    const session = await createLevelSessionStore(temp.db).getOrCreate({ now: () => now });
    expect(session.created).toBe(true);
    expect(validateUuid(session.session_id) && uuidVersion(session.session_id)).toBe(4);
    expect(session.session_start_timestamp).toBe('2026-11-27T18:00:00.000Z');
  });

  it('keeps the same id and timestamp after the database is closed and reopened', async () => {
    const first = await createLevelSessionStore(temp.db).getOrCreate();
    await temp.reopen();
    const again = await createLevelSessionStore(temp.db).getOrCreate();
    expect(again).toEqual({ ...first, created: false });
    expect(await createLevelSessionStore(temp.db).read()).toEqual({
      session_id: first.session_id,
      session_start_timestamp: first.session_start_timestamp,
    });
  });

  it('stores JSON under sublevel configuration, key TELEMETRY_SESSION', async () => {
    const session = await createLevelSessionStore(temp.db).getOrCreate();
    expect(CONFIGURATION_SUBLEVEL).toBe('configuration');
    const raw = await rawValue();
    expect(typeof raw).toBe('string');
    expect(JSON.parse(raw!)).toEqual({
      session_id: session.session_id,
      session_start_timestamp: session.session_start_timestamp,
    });
    // abstract-level's default sublevel prefix, as the contract names it.
    const keys = await temp.db.keys().all();
    expect(keys).toEqual(['!configuration!TELEMETRY_SESSION']);
  });

  it.each([
    ['not JSON', '{not json'],
    ['JSON of the wrong shape', JSON.stringify({ id: 'x' })],
    ['a non-v4 id', JSON.stringify({ session_id: '00000000-0000-1000-8000-000000000000', session_start_timestamp: '2026-01-01T00:00:00.000Z' })],
    ['a bad timestamp', JSON.stringify({ session_id: 'b3c3f6a2-3e7a-4d8e-9f2a-1c2b3d4e5f60', session_start_timestamp: 'yesterday' })],
    ['a JSON null', 'null'],
  ])('replaces %s with a fresh session and one warning', async (_what, corrupt) => {
    await putRaw(corrupt);
    const logs = captureLogs();
    const session = await createLevelSessionStore(temp.db).getOrCreate({ logger: logs.logger });
    expect(session.created).toBe(true);
    expect(await isStoredSession(JSON.parse((await rawValue())!))).toBe(true);
    expect(JSON.parse((await rawValue())!).session_id).toBe(session.session_id);
    expect(logs.at('warn')).toHaveLength(1);
    expect(logs.at('warn')[0]!.msg).toContain('not valid');
    // The replacement is stable: no second warning on the next call.
    expect((await createLevelSessionStore(temp.db).getOrCreate({ logger: logs.logger })).session_id).toBe(session.session_id);
    expect(logs.at('warn')).toHaveLength(1);
  });

  it('creates exactly one session under 20 concurrent calls', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => createLevelSessionStore(temp.db).getOrCreate()));
    const ids = new Set(results.map((r) => r.session_id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(JSON.parse((await rawValue())!).session_id).toBe(results[0]!.session_id);
  });

  it('creates a new session after deleteSession', async () => {
    const first = await createLevelSessionStore(temp.db).getOrCreate();
    expect(await createLevelSessionStore(temp.db).reset()).toBe(true);
    expect(await rawValue()).toBeUndefined();
    expect(await createLevelSessionStore(temp.db).reset()).toBe(false);
    const second = await createLevelSessionStore(temp.db).getOrCreate();
    expect(second.created).toBe(true);
    expect(second.session_id).not.toBe(first.session_id);
  });

  it('writes nothing when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stopped'));
    await expect(createLevelSessionStore(temp.db).getOrCreate({ signal: controller.signal })).rejects.toThrow('stopped');
    expect(await temp.db.keys().all()).toEqual([]);
  });

  it('writes nothing when stopped while the stored value is being read', async () => {
    const controller = new AbortController();
    // Stand-in for a stop arriving mid-read: the abort lands right after the real read returns.
    const realGet = temp.db.get.bind(temp.db);
    const abortAfterRead = (async (...args: Parameters<typeof realGet>) => {
      const value = await realGet(...args);
      controller.abort(new Error('stopped during read'));
      return value;
    }) as typeof temp.db.get;
    temp.db.get = abortAfterRead;
    await expect(createLevelSessionStore(temp.db).getOrCreate({ signal: controller.signal })).rejects.toThrow('stopped during read');
    expect(controller.signal.aborted).toBe(true);
    expect(await temp.db.keys().all()).toEqual([]);
  });

  it('a failed call does not block the next one', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(createLevelSessionStore(temp.db).getOrCreate({ signal: controller.signal })).rejects.toThrow();
    const session = await createLevelSessionStore(temp.db).getOrCreate();
    expect(session.created).toBe(true);
  });
});
