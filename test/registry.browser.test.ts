// The registry in a real browser: after the same-tag rug-pull, the catalogue page marks the vendor's converter
// as drifted, and a click opens its page with the onboarded and the running digest side by side.
import { createServer, type Server } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, listen } from '../src/core/http.ts';
import { loadCatalogue } from '../src/registry/catalogue.ts';
import type { Observed } from '../src/registry/drift.ts';
import { createRegistryServer, type RegistryServer } from '../src/registry/server.ts';
import { BROWSER_MISSING, launchBrowser } from '../testing/browser.ts';

const CONVERTER = 'acme-fx/currency-converter';
const ONBOARDED = 'sha256:3f1c9a0e7b2d4c6f8a1b3d5e7f9a0c2e4b6d8f0a1c3e5b7d9f1a3c5e7b9d0f2a';
const RUGPULL = 'sha256:c0ffee5e1d9b7a5c3e1f0d2b4a6c8e0f1a3b5c7d9e0f2a4b6c8d0e1f3a5b7c9d';
const CLEAN_PRINT = '5d41402abc4b2a76b9719d911017c592ae1d3d2e5f6a7b8c9d0e1f2a3b4c5d6e';

const catalogue = loadCatalogue();

function observation(): Observed {
  const observed: Observed = { onboarded: {}, running: {}, tools: {} };
  catalogue.entries.forEach((entry, i) => {
    const digest = entry.name === CONVERTER ? ONBOARDED : `sha256:${String(i).repeat(64)}`;
    observed.onboarded[entry.name] = { digest, onboardedAt: '2025-01-02T10:00:00.000Z' };
    observed.running[entry.name] = { digests: [entry.name === CONVERTER ? RUGPULL : digest] };
  });
  const converter = catalogue.entries.find((entry) => entry.name === CONVERTER)!;
  observed.tools[converter.endpoint] = {
    pinned: [{ tool: 'convert_currency', fingerprint: CLEAN_PRINT, pinnedAt: Date.UTC(2025, 0, 2, 10, 0, 5) }],
    drifted: true,
    changes: [{ tool: 'convert_currency', kind: 'changed', fields: ['description', 'inputSchema'] }],
  };
  return observed;
}

let server: Server | undefined;
let registry: RegistryServer | undefined;
let browser: Browser | undefined;
let page: Page;
let base: string;
const dialogs: string[] = [];
const consoleErrors: string[] = [];
const offsite: string[] = [];

beforeAll(async () => {
  const handler = createRegistryServer({ catalogue: () => catalogue, observe: observation });
  registry = handler;
  server = createServer((req, res) => void handler.handle(req, res));
  base = (await listen(server, { host: '127.0.0.1', port: 0, portHint: '--registry-port N' })).url;

  if (BROWSER_MISSING) return;
  browser = await launchBrowser();
  page = await browser.newPage();
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('request', (request) => {
    if (!request.url().startsWith(base)) offsite.push(request.url());
  });
});

afterAll(async () => {
  await browser?.close();
  if (server) await closeServer(server);
  registry?.close();
});

describe.skipIf(BROWSER_MISSING !== undefined)('registry in a browser', () => {
  it('marks the drifted converter in the catalogue and opens its page with both digests', async () => {
    await page.goto(`${base}/`);
    expect(await page.title()).toContain('Registry');

    const rows = page.locator('table.catalogue tbody tr');
    expect(await rows.count()).toBe(catalogue.entries.length);
    const drifted = page.locator('table.catalogue tbody tr.drift');
    expect(await drifted.count()).toBe(1);
    expect(await drifted.isVisible()).toBe(true);
    const driftText = await drifted.innerText();
    expect(driftText).toContain(CONVERTER);
    expect(driftText).toContain('Acme FX Ltd');
    expect(driftText).toContain('⚠ DRIFT');
    expect(driftText).toContain('sha256:3f1c9a0e7b2d'); // the onboarded digest, short
    expect(driftText).toContain('sha256:c0ffee5e1d9b'); // the running one
    expect(driftText).toContain('Tool convert_currency changed since it was pinned');
    // Drift is visibly different: the stylesheet's red background and badge.
    expect(await drifted.locator('td').first().evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(253, 236, 234)');
    expect(await drifted.locator('.badge').evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(179, 38, 30)');
    const clean = page.locator('table.catalogue tbody tr:not(.drift)');
    expect(await clean.count()).toBe(catalogue.entries.length - 1);
    for (const text of await clean.allInnerTexts()) expect(text).not.toContain('DRIFT');

    // The register lists the vendor only.
    const register = page.locator('table.register tbody tr');
    expect(await register.count()).toBe(1);
    expect(await register.innerText()).toContain('ACMEFX00ACMEFXLTD070');

    await drifted.getByRole('link', { name: CONVERTER }).click();
    await page.waitForURL(`${base}/entries/${CONVERTER}`);
    expect(await page.locator('h1').innerText()).toContain(CONVERTER);
    expect(await page.locator('h1').innerText()).toContain('⚠ DRIFT');

    const image = page.locator('table.compare tr.image');
    expect(await image.isVisible()).toBe(true);
    expect(await image.locator('td.onboarded').innerText()).toBe(ONBOARDED);
    expect(await image.locator('td.current').innerText()).toContain(RUGPULL);
    expect(await image.locator('td.current').innerText()).toContain('⚠ differs');
    const tool = page.locator('table.compare tr.tool.drift');
    expect(await tool.innerText()).toContain('convert_currency');
    expect(await tool.locator('td.onboarded').innerText()).toContain(CLEAN_PRINT);
    expect(await tool.locator('td.current').innerText()).toContain('⚠ changed: description, inputSchema');
    expect(await page.locator('.drift-reasons').innerText()).toContain('sha256:c0ffee5e1d9b');

    await page.getByRole('link', { name: /all entries/ }).click();
    await page.waitForURL(`${base}/`);
    expect(dialogs).toEqual([]);
    expect(consoleErrors).toEqual([]);
    expect(offsite).toEqual([]);
  });
});
