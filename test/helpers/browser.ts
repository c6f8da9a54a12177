// Browser tests on Debian's Chromium: skipped with one line where it is absent, required (failing) when CI is set.
import type { BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import { describe } from 'vitest';
import { HOW_TO_ENABLE, findChromium, launchChromium } from '../../scripts/chromium.js';

export { CHROMIUM_ARGS, findChromium } from '../../scripts/chromium.js';

/**
 * Whether the browser tests run: yes with a browser; without one, skipped locally but run (and failing, as
 * launchBrowser throws) when CI is set: CI must never skip them.
 */
export function browserTestsRun(chromium: string | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  return chromium !== undefined || Boolean(env.CI);
}

export const CHROMIUM = findChromium();
const RUN = browserTestsRun(CHROMIUM);
if (!RUN) process.stderr.write(`browser tests skipped: Chromium not found; to run them, ${HOW_TO_ENABLE}\n`);

/** `describe` when a browser can run (or CI demands one), `describe.skip` otherwise. */
export const describeBrowser: typeof describe = RUN ? describe : (describe.skip as typeof describe);

/** A fresh browser with every request and console error recorded; requests off loopback are blocked. */
export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Every URL any page asked for, in order (blocked ones and WebSockets included). */
  requests: string[];
  /** Console messages of type error, and uncaught page errors. */
  errors: string[];
  close(): Promise<void>;
}

/**
 * True for URLs on 127.0.0.0/8 or ::1, on one of `loopbackNames` (names the browser resolves to 127.0.0.1),
 * and for the browser's own data:, blob: and about: URLs.
 */
export function isLocal(url: string, loopbackNames: readonly string[] = []): boolean {
  const parsed = new URL(url);
  if (['data:', 'blob:', 'about:'].includes(parsed.protocol)) return true;
  return /^127\.\d+\.\d+\.\d+$/.test(parsed.hostname) || parsed.hostname === '[::1]' || loopbackNames.includes(parsed.hostname);
}

export interface LaunchOptions {
  /**
   * Names the browser resolves to 127.0.0.1 (`--host-resolver-rules`), as an attacker's DNS would: a page on a
   * foreign origin, or a rebinding name, served from this machine. Use names under `.test` (RFC 2606).
   */
  loopbackNames?: readonly string[];
}

/** Launches Chromium (CHROMIUM_ARGS, a new user-data-dir) and starts recording. */
export async function launchBrowser(options: LaunchOptions = {}): Promise<BrowserSession> {
  const names = options.loopbackNames ?? [];
  const rules = names.length === 0 ? [] : [`--host-resolver-rules=${names.map((name) => `MAP ${name} 127.0.0.1`).join(', ')}`];
  const { context, close } = await launchChromium(CHROMIUM, rules);
  const requests: string[] = [];
  const errors: string[] = [];
  // Recorded at the routing layer so nothing off loopback is ever sent, even by a test about to fail.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    requests.push(url);
    return isLocal(url, names) ? route.continue() : route.abort('blockedbyclient');
  });
  context.on('weberror', (error) => errors.push(`pageerror: ${error.error().message}`));
  const watch = (page: Page) => {
    page.on('console', (message: ConsoleMessage) => {
      if (message.type() === 'error') errors.push(`console: ${message.text()}`);
    });
    // WebSockets bypass routing: recorded here, and checked like any other request.
    page.on('websocket', (socket) => requests.push(socket.url()));
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page, requests, errors, close };
}
