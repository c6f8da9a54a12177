// The console over plain HTTP (the browser tests look at it in Chromium): page, files, live stream, favicon.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ROUTES } from '../src/server/routes.js';
import { createCliSandbox, getJson, type CliSandbox } from './helpers/cli.js';

let cli: CliSandbox;
beforeEach(() => {
  cli = createCliSandbox();
});
afterEach(() => cli.cleanup());

/** Reads Server-Sent Events from url until `count` events have arrived. */
async function readEvents(url: string, count: number): Promise<Array<{ event: string; data: unknown }>> {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal });
  expect(res.headers.get('content-type')).toBe('text/event-stream');
  const events: Array<{ event: string; data: unknown }> = [];
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    text += decoder.decode(chunk, { stream: true });
    for (let end = text.indexOf('\n\n'); end !== -1; end = text.indexOf('\n\n')) {
      const block = text.slice(0, end);
      text = text.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) });
    }
    if (events.length >= count) break;
  }
  controller.abort();
  return events;
}

describe('GET / and the console files', () => {
  it('serves the page with a policy that forbids requests elsewhere, and every file it loads', async () => {
    const home = await cli.tempHome();
    const server = await cli.startServerProcess({ TELEMETRY_HOME: home, TELEMETRY_ENABLED: 'false' });
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    const loaded = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((u) => !u.startsWith('data:'));
    expect(loaded.sort()).toEqual([ROUTES.consoleScript, ROUTES.consoleStyle].sort());
    // The script loads the plots and the statechart itself, from this server.
    for (const path of [...loaded, ROUTES.consoleChart, ROUTES.consoleDiagram]) {
      const res = await fetch(`${server.url}${path}`, { headers: { 'accept-encoding': 'gzip' } });
      expect(res.status, path).toBe(200);
      expect((await res.arrayBuffer()).byteLength, path).toBeGreaterThan(100);
    }
    const script = await (await fetch(`${server.url}${ROUTES.consoleScript}`)).text();
    // Nothing in the page's own code names another host.
    expect(script).not.toMatch(/https?:\/\//);
  });

  it('answers /favicon.ico with 404 JSON, not the page', async () => {
    const home = await cli.tempHome();
    const server = await cli.startServerProcess({ TELEMETRY_HOME: home, TELEMETRY_ENABLED: 'false' });
    const res = await getJson(`${server.url}/favicon.ico`);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: 'Not found' });
  });
});

describe('GET /api/events', () => {
  it('starts with the /api/telemetry status and the exact heartbeat body, then follows the loop', async () => {
    const home = await cli.tempHome();
    const server = await cli.startServerProcess({ TELEMETRY_HOME: home, TELEMETRY_LOOP_SECONDS: '1' });
    const events = await readEvents(`${server.url}${ROUTES.events}`, 6);
    const status = (await getJson(`${server.url}${ROUTES.telemetry}`)).body as unknown as { session_id: string };
    const telemetry = events.filter((e) => e.event === 'telemetry').map((e) => e.data as { session_id: string | null });
    // The first may come before the session is loaded; the rest carry the same session as the API.
    expect(telemetry.at(-1)!.session_id).toBe(status.session_id);
    const preview = events.find((e) => e.event === 'preview')!.data as { payload: { session_id: string } };
    expect(preview.payload.session_id).toBe(status.session_id);
    // The loop at 1 s: sending and waiting both go by as pushed events, with no request from the client.
    const states = events.filter((e) => e.event === 'telemetry').map((e) => (e.data as { state: string }).state);
    expect(states).toEqual(expect.arrayContaining(['sending', 'waiting']));
    expect(events.some((e) => e.event === 'collector')).toBe(true);
  });

  it('with telemetry off, says which setting decided and sends no preview', async () => {
    const home = await cli.tempHome();
    const server = await cli.startServerProcess({ TELEMETRY_HOME: home, DO_NOT_TRACK: '1' });
    const [first] = await readEvents(`${server.url}${ROUTES.events}`, 1);
    expect(first).toMatchObject({ event: 'telemetry', data: { enabled: false, state: 'disabled', disabled_by: 'DO_NOT_TRACK' } });
  });
});
