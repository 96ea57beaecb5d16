// A real browser for UI tests: playwright-core driving Debian's chromium (no browser download; the package is
// `chromium`, installed by .ci/run when missing). Every UI test launches through here so the flags stay in one place.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's chromium, unless CHROMIUM_PATH points elsewhere (e.g. on a developer's machine). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

const MISSING = `browser tests need chromium at ${CHROMIUM_PATH}, which is missing: install Debian's package (apt-get update && apt-get install -y chromium) or set CHROMIUM_PATH to a Chromium binary`;

/**
 * Why the browser tests cannot run here, or undefined when they can. On a machine with Node alone they skip
 * with one loud line; under CI (`CI=true`) a missing browser is a failure, so CI never skips them quietly.
 */
export const BROWSER_MISSING: string | undefined = (() => {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  if (process.env.CI === 'true') throw new Error(`${MISSING} (CI=true: browser tests may not be skipped)`);
  console.warn(`\n!!! SKIPPING the browser tests: ${MISSING} !!!\n`);
  return MISSING;
})();

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `browser tests need chromium at ${CHROMIUM_PATH}, which is missing: install Debian's package ` +
        `(apt-get update && apt-get install -y chromium) or set CHROMIUM_PATH to a Chromium binary`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/** Where browser tests keep their screenshots (test output, not committed): TRUSTUSBANK_SCREENSHOTS, else test-output/screenshots. */
export const SCREENSHOT_DIR = process.env.TRUSTUSBANK_SCREENSHOTS ?? fileURLToPath(new URL('../test-output/screenshots/', import.meta.url));

/** A full-page screenshot kept as test output, named `<test>-<step>.png`; returns its path. */
export async function keepScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name.replace(/[^a-z0-9-]+/gi, '-')}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
