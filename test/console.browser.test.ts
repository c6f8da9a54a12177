// The console and the inspector bridge page in Chromium, against the real server (the built CLI as a child process).
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { createCliSandbox, getJson, type CliSandbox } from './helpers/cli.js';
import { LIMITS, scaled } from './harness/limits.js';
import { describeBrowser, isLocal, launchBrowser, type BrowserSession } from './helpers/browser.js';
import { sampleHeartbeat } from './helpers/fixtures.js';
import { freePort } from './harness/net.js';

// Chromium takes up to ~8 s to start on a loaded 2-core machine; a minute tells a slow start from a hang.
const BROWSER_MS = scaled(60_000);
// Each test starts servers and waits on a 1 s loop; 60 s tells a slow machine from a console that never updates.
const TEST_MS = scaled(90_000);
// A state, a reconnect or a redraw the page waits for: tells "slow" from "never" (the shared harness limit).
const WAIT_MS = LIMITS.waitMs;
// `UPDATE_DOCS=1` refreshes the README's screenshot; otherwise it goes to a temp file.
const SCREENSHOT = process.env.UPDATE_DOCS ? path.resolve(import.meta.dirname, '..', 'docs', 'console.png') : path.join(os.tmpdir(), 'telemetry-actor-console.png');

interface Status {
  state: string;
  session_id: string | null;
  heartbeats_sent: number;
}

async function postHeartbeat(url: string, payload: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${url}/api/collector`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(sampleHeartbeat(payload)),
  });
  expect(res.status).toBe(202);
}

describeBrowser('the console in Chromium', () => {
  let browser: BrowserSession;
  let cli: CliSandbox;
  beforeAll(async () => {
    browser = await launchBrowser();
  }, BROWSER_MS);
  afterAll(() => browser?.close());
  beforeEach(() => {
    cli = createCliSandbox();
    browser.requests.length = 0;
    browser.errors.length = 0;
  });
  afterEach(() => cli.cleanup());

  it('shows what /api/telemetry says, follows sending → waiting live, charts real collector data, asks only loopback', async () => {
    const home = await cli.tempHome();
    const server = await cli.startServerProcess({ TELEMETRY_HOME: home, TELEMETRY_LOOP_SECONDS: '1' });
    // Installations of other (made-up) servers: 5 on SunOS (shown), 4 on FreeBSD (under the privacy floor of 5).
    for (let i = 0; i < 5; i += 1) await postHeartbeat(server.url, { environment: 'staging', server_version: '0.0.9', platform: 'SunOS' });
    for (let i = 0; i < 4; i += 1) await postHeartbeat(server.url, { environment: 'staging', server_version: '0.0.8', platform: 'FreeBSD' });
    const { page } = browser;
    await page.goto(`${server.url}/`);
    await page.waitForSelector('#link[data-live="true"]');

    const status = (await getJson(`${server.url}/api/telemetry`)).body as unknown as Status;
    await expect.poll(() => page.textContent('#session code'), { timeout: WAIT_MS }).toBe(status.session_id);
    expect(await page.textContent('#enabled')).toBe('on');

    // Every state the page shows from now on, in order (attribute old values, then the current one).
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      new MutationObserver((records) => records.forEach((r) => seen.push(r.oldValue ?? ''))).observe(document.body, {
        attributes: true,
        attributeFilter: ['data-state'],
        attributeOldValue: true,
      });
    });
    const seenStates = () => page.evaluate(() => [...(window as unknown as { seen: string[] }).seen, document.body.dataset.state]);
    // Polled as one condition: a first look can catch `sending` before the page has moved on to `waiting`.
    const sendingThenWaiting = async () => {
      const seen = await seenStates();
      const at = seen.indexOf('sending');
      return at !== -1 && seen.slice(at).includes('waiting');
    };
    await expect.poll(sendingThenWaiting, { timeout: WAIT_MS }).toBe(true);
    // The statechart marks the live state.
    await expect.poll(() => page.evaluate(() => document.querySelector('#diagram g.node.active')?.id ?? ''), { timeout: WAIT_MS }).toMatch(/^telemetry-state-(sending|waiting)-/);
    // The page and the API agree (the loop moves on between two reads, so compare once both settle on waiting).
    await expect
      .poll(async () => {
        const api = (await getJson(`${server.url}/api/telemetry`)).body as unknown as Status;
        const shown = { state: await page.textContent('#state'), sent: await page.textContent('#sent') };
        return shown.state === api.state && shown.sent === String(api.heartbeats_sent);
      }, { timeout: WAIT_MS })
      .toBe(true);
    expect(await page.textContent('#preview')).toContain(`"session_id": "${status.session_id}"`);

    // The fleet, as Chart.js draws it from the collector's numbers: by installation, after the privacy floor.
    await page.waitForSelector('#collector:not([hidden])');
    await page.waitForSelector('#adoption-figure:not([hidden])');
    const stats = (await getJson(`${server.url}/api/collector/stats`)).body as unknown as { active: { day: number; week: number; month: number } };
    await expect.poll(() => page.textContent('#active-day'), { timeout: WAIT_MS }).toBe(String(stats.active.day));
    expect(stats.active.day).toBe(10);
    expect(await page.textContent('#active-month')).toBe(String(stats.active.month));
    const charted = await page.evaluate(() => {
      type Data = { labels: string[]; datasets: Array<{ label: string; data: number[] }> };
      const Chart = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { data: Data; scales: { y: { ticks: Array<{ value: number }> } } } } }).Chart;
      const chart = (id: string) => Chart.getChart(document.getElementById(id) as HTMLCanvasElement);
      const ids = [...document.querySelectorAll('canvas')].map((c) => c.id);
      return {
        platform: chart('chart-by_platform').data,
        env: chart('chart-by_environment').data,
        adoption: chart('chart-adoption').data.datasets.map((d) => d.label),
        labels: ids.flatMap((id) => [...(chart(id)?.data.labels ?? []), ...(chart(id)?.data.datasets.map((d) => d.label) ?? [])]),
        countTicks: ['chart-by_platform', 'chart-active', 'chart-new'].flatMap((id) => chart(id).scales.y.ticks.map((t) => t.value)),
        text: document.body.innerText,
      };
    });
    expect(charted.platform.labels).toContain('SunOS');
    expect(charted.platform.datasets[0]!.data[charted.platform.labels.indexOf('SunOS')]).toBe(5);
    expect(charted.env.labels).toContain('staging');
    expect(charted.adoption).toContain('0.0.9');
    // The 4 FreeBSD installations (and their 0.0.8) are nowhere on the page: not in a chart, not in its text.
    for (const hidden of ['FreeBSD', '0.0.8']) {
      expect(charted.labels).not.toContain(hidden);
      expect(charted.text).not.toContain(hidden);
    }
    expect(charted.labels).toContain('other');
    // Count axes step by whole numbers only.
    expect(charted.countTicks.length).toBeGreaterThan(3);
    expect(charted.countTicks.filter((v) => !Number.isInteger(v))).toEqual([]);

    await page.screenshot({ path: SCREENSHOT, fullPage: true, timeout: 30_000 });
    const nonLocal = browser.requests.filter((url) => !isLocal(url));
    expect(nonLocal).toEqual([]);
    expect(browser.requests.every((url) => url.startsWith(server.url) || url.startsWith(server.url.replace('http', 'ws')))).toBe(true);
    expect(browser.errors).toEqual([]);

    // Small enough to read at once: everything the page transferred (gzip), measured by the browser itself.
    const bytes = await page.evaluate(() =>
      performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation')).reduce((sum, e) => sum + (e as PerformanceResourceTiming).transferSize, 0),
    );
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(150_000);
  }, TEST_MS);

  it('on a 390 px phone: no sideways scroll, and "1 heartbeat from 1 session"', async () => {
    const home = await cli.tempHome();
    // One heartbeat only: the loop is long, so the totals stay at one of each.
    const server = await cli.startServerProcess({ TELEMETRY_HOME: home, TELEMETRY_LOOP_SECONDS: '600' });
    const { page } = browser;
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.goto(`${server.url}/`);
      await page.waitForSelector('#collector:not([hidden])', { timeout: WAIT_MS });
      await expect.poll(() => page.textContent('#totals'), { timeout: WAIT_MS }).toMatch(/^1 heartbeat from 1 session; last /);
      expect(await page.textContent('#floor')).toContain('fewer than 5 installations');
      const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, viewport: window.innerWidth }));
      expect(widths).toEqual({ page: 390, viewport: 390 });
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  }, TEST_MS);

  it('draws the fleet even when Chart.js fails to load at first (a restart cutting the fetch), with no page error', async () => {
    const home = await cli.tempHome();
    // One heartbeat, and so one stats event: only the page's own retry can bring the charts.
    const server = await cli.startServerProcess({ TELEMETRY_HOME: home, TELEMETRY_LOOP_SECONDS: '600' });
    const { page } = browser;
    // The page still shows the last test's server, which is gone: its stream's end may be logged late. Leave it first.
    await page.goto('about:blank');
    browser.errors.length = 0;
    const chart = '**/console/chart.umd.min.js';
    let fetches = 0;
    await page.route(chart, (route) => (++fetches === 1 ? route.abort('connectionreset') : route.fallback()));
    try {
      await page.goto(`${server.url}/`);
      await page.waitForSelector('#collector:not([hidden])', { timeout: WAIT_MS });
      await expect.poll(() => page.textContent('#totals'), { timeout: WAIT_MS }).toMatch(/^1 heartbeat from 1 session; last /);
      expect(fetches).toBe(2);
      // The refused fetch itself is logged by the browser; nothing else may be (before, an unhandled rejection).
      expect(browser.errors.filter((e) => !e.includes('net::ERR_CONNECTION_RESET'))).toEqual([]);
    } finally {
      await page.unroute(chart);
    }
  }, TEST_MS);

  it('reconnects by itself when the server restarts, and shows the same session again', async () => {
    const home = await cli.tempHome();
    const port = await freePort();
    const env = { TELEMETRY_HOME: home, TELEMETRY_PORT: String(port), TELEMETRY_LOOP_SECONDS: '1' };
    const first = await cli.startServerProcess(env);
    const { page } = browser;
    await page.goto(`${first.url}/`);
    await page.waitForSelector('#link[data-live="true"]');
    const session = ((await getJson(`${first.url}/api/telemetry`)).body as unknown as Status).session_id;
    expect(await first.stop('SIGTERM')).toMatchObject({ code: 0 });
    await page.waitForSelector('#link[data-live="false"]');

    const second = await cli.startServerProcess(env);
    expect(second.url).toBe(first.url);
    await page.waitForSelector('#link[data-live="true"]', { timeout: WAIT_MS });
    await expect.poll(() => page.textContent('#session code'), { timeout: WAIT_MS }).toBe(session);
    // Live again: the count of heartbeats goes up without a reload.
    const before = Number(await page.textContent('#sent'));
    await expect.poll(async () => Number(await page.textContent('#sent')), { timeout: WAIT_MS }).toBeGreaterThan(before);
    // The reconnect attempts were refused while the server was down, and the open stream may be cut by the
    // restart itself (a browser on a busy machine can read the end of the chunked stream after the close);
    // those are the only errors allowed.
    const restartErrors = ['net::ERR_CONNECTION_REFUSED', 'net::ERR_INCOMPLETE_CHUNKED_ENCODING'];
    expect(browser.errors.filter((e) => !restartErrors.some((allowed) => e.includes(allowed)))).toEqual([]);
  }, TEST_MS);

  it('the inspector bridge page says in words that the hosted inspector is unreachable, and links the console', async () => {
    const home = await cli.tempHome();
    const inspectPort = await freePort();
    const server = await cli.startServerProcess({ TELEMETRY_HOME: home }, { args: ['--inspect', '--inspect-port', String(inspectPort)] });
    const { page } = browser;
    // The page's own clock, stepped over its 5 s wait for the hosted inspector rather than waiting it out
    // (installed on the whole context: this is the file's last test).
    await page.clock.install();
    await page.goto(`http://127.0.0.1:${inspectPort}/`);
    // Offline here (the browser helper blocks every address off loopback): the words appear once the wait is over.
    const message = page.getByRole('alert');
    await page.clock.fastForward(5_000);
    await message.waitFor({ state: 'visible', timeout: 15_000 });
    expect(await message.textContent()).toContain('The Stately inspector cannot be reached');
    expect(await page.getAttribute('#console', 'href')).toBe(server.url);
    // The server's events still reach the tab.
    await expect.poll(async () => Number(await page.textContent('#count')), { timeout: WAIT_MS }).toBeGreaterThan(0);
    expect(browser.requests.filter((url) => !isLocal(url))).toEqual(['https://stately.ai/inspect']);
  }, TEST_MS);
});
