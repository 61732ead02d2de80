import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const INSTALL = 'apt-get update -qq && apt-get install -y -qq chromium';

/**
 * The path of Debian's Chromium; installs it once when missing and running as root, else throws a
 * one-line message naming the command to run. Never downloads a browser of Playwright's own.
 */
export function ensureChromium(): string {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  if (process.getuid?.() !== 0) throw new Error(`Chromium is not installed: run \`sudo sh -c '${INSTALL}'\` and try again.`);
  execSync(INSTALL, { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 600_000 });
  if (!existsSync(CHROMIUM)) throw new Error(`Installing Chromium did not produce ${CHROMIUM}: run \`${INSTALL}\` by hand.`);
  return CHROMIUM;
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

export interface TestBrowser {
  context: BrowserContext;
  /** A new tab in this browser's profile. */
  newPage(viewport?: { width: number; height: number }): Promise<Page>;
  /** Closes the browser and deletes its profile directory. */
  close(): Promise<void>;
}

/** Headless Chromium with a fresh user-data-dir of its own (no state shared between tests). */
export async function launchTestBrowser(options: { viewport?: { width: number; height: number } } = {}): Promise<TestBrowser> {
  const executablePath = ensureChromium();
  const userDataDir = mkdtempSync(join(tmpdir(), 'anneal-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    args: CHROMIUM_ARGS,
    viewport: options.viewport ?? { width: 1280, height: 860 },
    timezoneId: 'UTC',
    locale: 'en-US',
  });
  return {
    context,
    async newPage(viewport) {
      const page = await context.newPage();
      if (viewport) await page.setViewportSize(viewport);
      return page;
    },
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

const ARTIFACTS = resolve(dirname(new URL(import.meta.url).pathname), '..', '..', 'test-artifacts');

/** Saves a full-page screenshot to test-artifacts/<suite>/<name>.png (git-ignored); returns its path. */
export async function saveScreenshot(page: Page, suite: string, name: string): Promise<string> {
  const directory = join(ARTIFACTS, suite);
  mkdirSync(directory, { recursive: true });
  const path = join(directory, `${name.replace(/[^a-z0-9-]+/gi, '-')}.png`);
  // From the top, so sticky headers sit where a person sees them.
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path, fullPage: true });
  return path;
}
