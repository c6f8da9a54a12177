// The CLI's client for the server that owns this TELEMETRY_HOME: found through server.json, asked over
// loopback with node:http (a JSON request needs nothing more), and trusted only if it is that very server.
import { UserError } from '../errors.js';
import { INSTANCE_HEADER } from '../server/httpApi.js';
import { ROUTES } from '../server/routes.js';
import { liveServerInfo, removeServerInfo } from '../server/serverInfo.js';
import type { TelemetryStatus } from '../server/status.js';
import type { StoredSession } from '../stores/index.js';

/** How long a command waits for the local server before it counts as gone. */
const ASK_TIMEOUT_MS = 2_000;

/** The live server of a home, as the CLI talks to it. */
export interface LocalServer {
  url: string;
  pid: number;
  status(): Promise<TelemetryStatus>;
  readSession(): Promise<StoredSession | undefined>;
  getOrCreateSession(): Promise<StoredSession>;
  resetSession(): Promise<boolean>;
}

class StaleServerInfo extends Error {}

interface Answer {
  status: number;
  instance: string | undefined;
  body: unknown;
}

// node:http (with net and its stream machinery) is loaded only when a server.json names a live server:
// `status` on a home with no server never pays for it.
async function requestJson(url: string, method: string, token: string | undefined): Promise<Answer> {
  const { default: http } = await import('node:http');
  // The session's changes take JSON only (a web page cannot send that without asking first): an empty object.
  const body = method === 'GET' ? undefined : '{}';
  const headers = {
    accept: 'application/json',
    ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(body.length) }),
    ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
  };
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, timeout: ASK_TIMEOUT_MS, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('error', reject).on('end', () => {
        const instance = res.headers[INSTANCE_HEADER];
        try {
          resolve({ status: res.statusCode ?? 0, instance: typeof instance === 'string' ? instance : undefined, body: JSON.parse(text) });
        } catch (error) {
          reject(error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${ASK_TIMEOUT_MS} ms`)));
    req.on('error', reject).end(body);
  });
}

/**
 * The server that owns this home, or undefined when none does. server.json is trusted only when its process
 * is alive and the server at its URL answers with its instance; otherwise the file is stale and removed.
 * `token` is TELEMETRY_READ_TOKEN as this command sees it: a server that has one answers nothing without it.
 * @throws UserError when the server wants a read token this command does not have.
 */
export async function findLocalServer(home: string, token?: string): Promise<LocalServer | undefined> {
  const info = await liveServerInfo(home);
  if (info === undefined) return undefined;
  const ask = async (path: string, method = 'GET'): Promise<Record<string, unknown>> => {
    const answer = await requestJson(`${info.url}${path}`, method, token);
    if (answer.instance !== info.instance) throw new StaleServerInfo();
    if (answer.status === 401) {
      const which = token === undefined ? 'set TELEMETRY_READ_TOKEN for this command too' : 'TELEMETRY_READ_TOKEN here is not the server\'s';
      throw new UserError(`The server at ${info.url} (pid ${info.pid}) needs its read token: ${which}`);
    }
    if (answer.status !== 200) throw new Error(`${method} ${info.url}${path} answered HTTP ${answer.status}`);
    return answer.body as Record<string, unknown>;
  };
  try {
    await ask(ROUTES.telemetry);
  } catch (error) {
    // Another server now answers at that URL (the pid was reused): the file is stale. No answer: not ours to ask.
    if (error instanceof StaleServerInfo) await removeServerInfo(home);
    if (error instanceof UserError) throw error;
    return undefined;
  }
  return {
    url: info.url,
    pid: info.pid,
    status: async () => (await ask(ROUTES.telemetry)) as unknown as TelemetryStatus,
    readSession: async () => ((await ask(ROUTES.session)).session ?? undefined) as StoredSession | undefined,
    getOrCreateSession: async () => (await ask(ROUTES.session, 'POST')).session as StoredSession,
    resetSession: async () => (await ask(ROUTES.session, 'DELETE')).reset === true,
  };
}
