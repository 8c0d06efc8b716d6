/**
 * Real headless Chromium for the console tests: the Debian `chromium`
 * package (`.ci/run` installs it), driven by playwright-core with a fresh
 * profile in a temp dir. Outside CI a machine without it skips the browser
 * tests with a message; under CI=true a missing Chromium fails them.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Where Debian installs Chromium. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Whether the browser tests can run here; under CI a missing Chromium is an error, not a skip. */
export function chromiumAvailability(path = CHROMIUM_PATH, ci = process.env.CI): { run: true } | { run: false; why: string } {
  if (existsSync(path)) return { run: true };
  const why = `${path} not found: install it with "apt-get install -y chromium" (.ci/run does).`;
  if (ci === 'true') throw new Error(`CI=true but the console browser tests cannot run: ${why}`);
  console.warn(`skipping the console browser tests: ${why}`);
  return { run: false, why };
}

/** A running Chromium with one page, console errors recorded, screenshots under the temp dir. */
export interface Chromium {
  /** The browser context (one profile), for more pages. */
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors and uncaught page errors, in order. */
  readonly errors: string[];
  /** Saves a screenshot of the page as `<step>.png` under {@link SCREENSHOT_DIR}; returns its path. */
  screenshot(step: string): Promise<string>;
  close(): Promise<void>;
}

/** Where the tests keep their screenshots (not in the repository). */
export const SCREENSHOT_DIR = join(tmpdir(), 'roomstate-console-screenshots');

/** Starts Chromium with a new temporary profile and opens one page. */
export async function launchChromium(): Promise<Chromium> {
  const profile = await mkdtemp(join(tmpdir(), 'roomstate-chromium-'));
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      // The width the console must read well at (issue 23: 1440 px).
      viewport: { width: 1440, height: 900 },
      timeout: 120_000,
    });
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return {
    context,
    page,
    errors,
    async screenshot(step) {
      const path = join(SCREENSHOT_DIR, `${step}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
