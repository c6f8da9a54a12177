// Debian's Chromium under playwright-core, for the browser tests and for rendering the statechart SVGs.
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Flags for a quiet, offline-friendly headless run: no GPU, no background traffic, no first-run pages. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** What to do where no browser is found. */
export const HOW_TO_ENABLE = 'install Chromium: apt-get install chromium';

const NAMES = ['chromium', 'chromium-browser'];

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The Chromium executable: CHROMIUM_PATH, then `chromium` on PATH, then /usr/bin/chromium; undefined if none. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [
    ...(env.CHROMIUM_PATH ? [env.CHROMIUM_PATH] : []),
    ...(env.PATH ?? '').split(path.delimiter).filter(Boolean).flatMap((dir) => NAMES.map((name) => path.join(dir, name))),
    '/usr/bin/chromium',
  ];
  return candidates.find(executable);
}

/** A browser context on a new, empty user-data-dir; close() removes the folder too. */
export interface LaunchedChromium {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Launches Chromium headless with CHROMIUM_ARGS (and `extraArgs`); throws, saying how to install it, when there is none. */
export async function launchChromium(executablePath = findChromium(), extraArgs: readonly string[] = []): Promise<LaunchedChromium> {
  if (executablePath === undefined) throw new Error(`Chromium not found; ${HOW_TO_ENABLE}`);
  const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'telemetry-actor-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}
