// Measures the console on loopback in Chromium: bytes transferred and first paint, against a bare JSON page in the same run.
// Run: npm run build && npx tsx scripts/measureConsole.ts  (not a test: figures depend on the machine's load).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { launchChromium } from './chromium.js';

const ROUNDS = 8;

async function startServer(home: string): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['dist/src/bin.cjs', 'server'], {
    env: { ...process.env, TELEMETRY_HOME: home, TELEMETRY_PORT: '0', TELEMETRY_LOOP_SECONDS: '5' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const found = /"url":"(http:[^"]+)"/.exec(out);
      if (found?.[1]) resolve(found[1]);
    });
    child.once('exit', () => reject(new Error('server exited')));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

/** One uncached load: first paint (ms after navigation start) and bytes on the wire (gzip), after the page settles. */
async function load(context: BrowserContext, url: string, settled?: string) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await page.goto(url, { waitUntil: 'load' });
  // The console is complete once the charts are drawn (Chart.js is fetched when the first stats arrive).
  if (settled !== undefined) await page.waitForSelector(settled);
  const result = await page.evaluate(async () => {
    const paint = await new Promise<number>((resolve) =>
      new PerformanceObserver((list) => resolve(list.getEntries()[0]!.startTime)).observe({ type: 'paint', buffered: true }),
    );
    const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')] as PerformanceResourceTiming[];
    return { paint, bytes: entries.reduce((sum, e) => sum + e.transferSize, 0) };
  });
  await page.close();
  return result;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const home = await mkdtemp(path.join(os.tmpdir(), 'telemetry-actor-measure-'));
const server = await startServer(home);
const browser = await launchChromium();
try {
  const consolePaint: number[] = [];
  const basePaint: number[] = [];
  let bytes = 0;
  for (let i = 0; i < ROUNDS; i += 1) {
    const shown = await load(browser.context, `${server.url}/`, '#collector:not([hidden]) #chart-by_platform');
    consolePaint.push(shown.paint);
    bytes = shown.bytes;
    basePaint.push((await load(browser.context, `${server.url}/api/health`)).paint);
  }
  const ratio = median(consolePaint) / median(basePaint);
  process.stdout.write(
    `console: ${bytes} bytes transferred; first paint median ${median(consolePaint).toFixed(0)} ms ` +
      `(min ${Math.min(...consolePaint).toFixed(0)}, max ${Math.max(...consolePaint).toFixed(0)}) over ${ROUNDS} uncached loads\n` +
      `baseline (GET /api/health as a page): first paint median ${median(basePaint).toFixed(0)} ms; console / baseline = ${ratio.toFixed(2)}\n`,
  );
} finally {
  await browser.close();
  server.stop();
  await rm(home, { recursive: true, force: true });
}
