// The heartbeat as received on the wire carries nothing that identifies the host, the user or the install.
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActor, toPromise } from 'xstate';
import { createTelemetryMachine } from '../src/actor/createTelemetryMachine.js';
import { reply, startEndpoint, type TestEndpoint } from './helpers/endpoint.js';
import { openTempDb, type TempDb } from './helpers/tempDb.js';
import { telemetryInput } from './helpers/fixtures.js';

let server: TestEndpoint;
let temp: TempDb;
let raw: string;
const CANARY = `privacy-canary-${Math.random().toString(36).slice(2)}`;

// One real heartbeat, sent by the real actor through LevelDB and HTTP, as a collector would receive it.
beforeAll(async () => {
  server = await startEndpoint(reply(202));
  temp = await openTempDb();
  process.env.TELEMETRY_PRIVACY_CANARY = CANARY;
  const actor = createActor(createTelemetryMachine({ db: temp.db }), {
    input: telemetryInput(`${server.origin}/api/collector`, { maxLoops: 1 }),
  }).start();
  actor.send({ type: 'telemetry.start' });
  await toPromise(actor);
  raw = server.requests[0]!.body;
});
afterAll(async () => {
  delete process.env.TELEMETRY_PRIVACY_CANARY;
  await server.close();
  await temp.cleanup();
});

/** Every string value in a parsed JSON document, at any depth. */
function stringValues(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(stringValues);
  return [];
}

/**
 * True when `secret` shows up in the body. A long secret is searched in the raw text; a short one
 * (a user called `root`, a host called `ci`) could sit inside innocent words, so it counts only
 * as a whole JSON value or a whole path/word segment of one.
 */
function leaks(body: string, secret: string): boolean {
  if (secret.length >= 6) return body.includes(secret);
  return stringValues(JSON.parse(body)).some((value) => value === secret || value.split(/[\\/\s@:]+/).includes(secret));
}

describe('privacy', () => {
  it('received exactly one heartbeat to inspect', () => {
    expect(server.requests).toHaveLength(1);
    expect(raw.length).toBeGreaterThan(0);
  });

  it('holds no hostname', () => {
    expect(leaks(raw, os.hostname())).toBe(false);
  });

  it('holds no user name or home folder', () => {
    const { username, homedir } = os.userInfo();
    expect(leaks(raw, username)).toBe(false);
    expect(leaks(raw, homedir)).toBe(false);
  });

  it('holds no working directory or database path', () => {
    expect(raw).not.toContain(process.cwd());
    expect(raw).not.toContain(temp.location);
    expect(raw).not.toContain(os.tmpdir() + '/');
  });

  it('holds no environment variable value or IP address', () => {
    expect(raw).not.toContain(CANARY);
    expect(raw).not.toContain('127.0.0.1');
    const ips = Object.values(os.networkInterfaces())
      .flat()
      .map((iface) => iface?.address)
      .filter((address): address is string => typeof address === 'string' && address.length >= 6);
    for (const ip of ips) expect(leaks(raw, ip), ip).toBe(false);
  });

  it('holds only the documented fields', () => {
    const body = JSON.parse(raw) as { payload: Record<string, unknown> };
    expect(Object.keys(body).sort()).toEqual(['payload', 'source', 'type']);
    expect(Object.keys(body.payload)).toHaveLength(9);
  });
});
