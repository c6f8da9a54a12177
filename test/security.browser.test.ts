// The HTTP surface against real web pages in Chromium (docs/security.md): a page on a rebinding name mapped to
// 127.0.0.1 (same origin as the server), a page on a foreign origin (evil.test), and the console's read token.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { createCliSandbox, getJson, type CliSandbox } from './helpers/cli.js';
import { describeBrowser, launchBrowser, type BrowserSession } from './helpers/browser.js';
import { request } from './helpers/request.js';
import { LIMITS, scaled } from './harness/limits.js';
import { listenLocal, pollUntil } from './harness/net.js';

// Chromium takes up to ~8 s to start on a loaded 2-core machine; a minute tells a slow start from a hang.
const BROWSER_MS = scaled(60_000);
const TEST_MS = scaled(90_000);
const TOKEN = 'console-read-token-0123456789';

/** A page on another site: its own server on 127.0.0.1, reached as http://evil.test:PORT. */
async function startEvilSite(pages: Record<string, string>): Promise<{ origin: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const body = pages[req.url ?? '/'];
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8' }).end(body ?? '');
  });
  await listenLocal(server);
  const origin = `http://evil.test:${(server.address() as AddressInfo).port}`;
  return { origin, close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))) };
}

/** What evil.test's page does on load: every write a page can send without asking, then a form that navigates. */
function csrfPage(target: string): string {
  return `<!doctype html><body>
<form id="form" method="POST" action="${target}" enctype="text/plain"><input name='{"a":"' value='"}'></form>
<script>
  navigator.sendBeacon(${JSON.stringify(target)}, new Blob(['{}'], { type: 'text/plain' }));
  const sent = [
    fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', body: '{}' }),
    fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', body: new FormData() }),
    fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' }),
  ];
  Promise.allSettled(sent).then(() => setTimeout(() => document.getElementById('form').submit(), 200));
</script></body>`;
}

describeBrowser('web pages against the server, in Chromium', () => {
  let browser: BrowserSession;
  let cli: CliSandbox;
  beforeAll(async () => {
    browser = await launchBrowser({ loopbackNames: ['evil.test', 'rebind.test'] });
  }, BROWSER_MS);
  afterAll(() => browser?.close());
  beforeEach(() => {
    cli = createCliSandbox();
  });
  afterEach(() => cli.cleanup());

  it('a page on a rebinding name (rebind.test → 127.0.0.1, the server\'s own port) reads nothing', async () => {
    const server = await cli.startServerProcess({ TELEMETRY_HOME: await cli.tempHome() });
    const sessionId = await (async () => {
      let id: unknown = null;
      await pollUntil(async () => (id = (await getJson(`${server.url}/api/telemetry`)).body.session_id) !== null);
      return String(id);
    })();
    const origin = `http://rebind.test:${new URL(server.url).port}`;
    const page = await browser.context.newPage();
    // A document of that origin, loaded from 127.0.0.1 once the name points there (Chromium's Private Network
    // Access would stop a page it still counts as public; Firefox and Safari have no such check). Its script runs
    // with the origin http://rebind.test:PORT, the server's own as far as the browser can tell.
    await page.goto(`${origin}/attack`);
    const answers = await page.evaluate(async () => {
      const paths = ['/api/telemetry/session', '/api/telemetry', '/api/services', '/api/collector/stats', '/'];
      const read = async (path: string) => {
        const res = await fetch(path);
        return { path, status: res.status, text: await res.text() };
      };
      const stream = await new Promise<string>((resolve) => {
        const events = new EventSource('/api/events');
        events.addEventListener('telemetry', (e) => (events.close(), resolve((e as MessageEvent<string>).data)));
        events.onerror = () => (events.close(), resolve('refused'));
      });
      return { reads: await Promise.all(paths.map(read)), stream };
    });
    expect(answers.reads.map((a) => [a.path, a.status])).toEqual(answers.reads.map((a) => [a.path, 403]));
    expect(answers.reads.filter((a) => a.text.includes(sessionId))).toEqual([]);
    expect(answers.stream).toBe('refused');
    // Opening the console itself under that name: the refusal, not the page.
    const opened = await page.goto(`${origin}/`);
    expect(opened?.status()).toBe(403);
    expect(await page.content()).not.toContain(sessionId);
    await page.close();
  }, TEST_MS);

  it('a page on evil.test writes no session (form, sendBeacon, no-cors fetch) and cannot frame the console', async () => {
    const server = await cli.startServerProcess({ TELEMETRY_HOME: await cli.tempHome() }, { args: ['--no-telemetry'] });
    const target = `${server.url}/api/telemetry/session`;
    const evil = await startEvilSite({ '/': csrfPage(target), '/frame': `<iframe id="console" src="${server.url}/"></iframe>` });
    try {
      const page = await browser.context.newPage();
      const answered: Array<[string, number]> = [];
      page.on('response', (res) => res.url() === target && answered.push([res.request().resourceType(), res.status()]));
      const submitted = page.waitForResponse((res) => res.url() === target && res.request().resourceType() === 'document', { timeout: LIMITS.waitMs });
      await page.goto(`${evil.origin}/`);
      expect((await submitted).status()).toBe(403);
      // Every write reached the server (and was refused); none wrote a session.
      await pollUntil(() => answered.length >= 5);
      expect(answered.filter(([, status]) => status !== 403)).toEqual([]);
      expect((await request(`${server.url}/api/telemetry/session`)).json).toEqual({ session: null });
      await page.close();

      // A page of its own: the form's navigation above may still be committing.
      const framing = await browser.context.newPage();
      // The frame's first real navigation: the console, or Chromium's error page once the answer forbids framing.
      const framed = framing.waitForEvent('framenavigated', {
        predicate: (f) => f !== framing.mainFrame() && !['', 'about:blank'].includes(f.url()),
        timeout: LIMITS.waitMs,
      });
      await framing.goto(`${evil.origin}/frame`);
      const frame = await framed;
      // ERR_BLOCKED_BY_RESPONSE: the console never loads in it.
      expect(frame.url()).toBe('chrome-error://chromewebdata/');
      expect(await frame.$('#session')).toBeNull();
      await framing.close();
    } finally {
      await evil.close();
    }
  }, TEST_MS);

  it('the console asks once for the read token, keeps it for the tab, and streams with one-time tickets', async () => {
    const server = await cli.startServerProcess({
      TELEMETRY_HOME: await cli.tempHome(),
      TELEMETRY_TRUST_PROXY: 'true',
      TELEMETRY_READ_TOKEN: TOKEN,
      TELEMETRY_LOOP_SECONDS: '1',
    });
    browser.requests.length = 0;
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/`);
    await page.waitForSelector('#token-form:not([hidden])');
    await page.fill('#token', 'not-the-token-at-all');
    await page.click('#token-form button');
    await expect.poll(() => page.textContent('#token-note'), { timeout: LIMITS.waitMs }).toContain('refused');
    await page.fill('#token', TOKEN);
    await page.click('#token-form button');
    await page.waitForSelector('#link[data-live="true"]');
    const status = (await request(`${server.url}/api/telemetry`, { headers: { authorization: `Bearer ${TOKEN}` } })).json!;
    await expect.poll(() => page.textContent('#session code'), { timeout: LIMITS.waitMs }).toBe(status.session_id);
    // Kept for this tab: a reload goes live without asking again.
    await page.reload();
    await page.waitForSelector('#link[data-live="true"]');
    expect(await page.isHidden('#token-form')).toBe(true);
    // The token travels in a header only, never in a URL a proxy would log.
    expect(browser.requests.filter((url) => url.includes(TOKEN))).toEqual([]);
    expect(browser.requests.some((url) => url.includes('/api/events?ticket='))).toBe(true);
    await page.close();
  }, TEST_MS);
});
