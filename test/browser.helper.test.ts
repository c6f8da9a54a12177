// The browser-test helper itself: how it finds Chromium, and that a launched page cannot reach past loopback.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { LIMITS, scaled } from './harness/limits.js';
import { browserTestsRun, describeBrowser, findChromium, isLocal, launchBrowser } from './helpers/browser.js';
import { listenLocal } from './harness/net.js';

it('finds chromium on PATH before /usr/bin, and CHROMIUM_PATH before both', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'telemetry-actor-path-'));
  try {
    const fake = path.join(dir, 'chromium');
    await writeFile(fake, '#!/bin/sh\n');
    await chmod(fake, 0o755);
    expect(findChromium({ PATH: dir })).toBe(fake);
    expect(findChromium({ PATH: dir, CHROMIUM_PATH: '/bin/sh' })).toBe('/bin/sh');
    expect(findChromium({ PATH: path.join(dir, 'nothing-here') })).toBe(findChromium({ PATH: '' }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it('without a browser, skips locally but runs (and so fails) in CI', () => {
  expect(browserTestsRun(undefined, {})).toBe(false);
  expect(browserTestsRun(undefined, { CI: 'true' })).toBe(true);
  expect(browserTestsRun('/usr/bin/chromium', {})).toBe(true);
});

it('tells loopback from the rest', () => {
  expect(isLocal('http://127.0.0.1:4200/')).toBe(true);
  expect(isLocal('ws://127.0.0.1:4201/')).toBe(true);
  expect(isLocal('http://[::1]:80/x')).toBe(true);
  expect(isLocal('data:text/plain,hi')).toBe(true);
  expect(isLocal('https://stately.ai/inspect')).toBe(false);
  expect(isLocal('http://localhost.example.com/')).toBe(false);
});

describeBrowser('a launched browser', () => {
  const server = http.createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    // The image points off loopback: the helper must block it and record it.
    res.end('<!doctype html><title>t</title><p id="p">hello</p><img src="http://192.0.2.1/x.png">');
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('loads a loopback page, records every request and blocks the one that leaves loopback', async () => {
    await listenLocal(server);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const browser = await launchBrowser();
    try {
      await browser.page.goto(url);
      expect(await browser.page.textContent('#p')).toBe('hello');
      await expect.poll(() => browser.requests, { timeout: LIMITS.waitMs }).toContain('http://192.0.2.1/x.png');
      expect(browser.requests[0]).toBe(url);
    } finally {
      await browser.close();
    }
    // Chromium takes up to ~8 s to start on a loaded 2-core machine; a minute tells a slow start from a hang.
  }, scaled(60_000));
});
