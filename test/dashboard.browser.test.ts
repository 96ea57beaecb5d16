// The DORA evidence dashboard page in a real browser (Debian's chromium through playwright-core) against a
// running cluster: clean, the OFFENDING POD table is empty; after Act 3 (mesh policies on, the converter
// rug-pulled, the seed question asked) its row appears on the page's own auto-refresh, with the converter's SPIFFE
// identity, its attacker-signed digest, the deny line naming the policy, and the quarantine command. The attack on
// the page itself: hostile values in a label and in a compromised pod's own log line are shown as text, never
// run. axe-core finds no serious or critical accessibility violation, empty or full.
import { AxeBuilder } from '@axe-core/playwright';
import { appendFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLICIES_DIR, rugpull } from '../src/control-plane/image-ops.ts';
import { BROWSER_MISSING, launchBrowser } from '../testing/browser.ts';
import { startTestCluster, type TestCluster } from '../testing/cluster.ts';

const SEED_PROMPT = 'I am customer 12345. Please check my balance, list my recent transactions, and convert my balance to USD.';
const HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
const CONVERTER_ID = 'spiffe://cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter';

describe.skipIf(BROWSER_MISSING !== undefined)('the DORA evidence dashboard in a browser', () => {
  let t: TestCluster;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  beforeAll(async () => {
    t = await startTestCluster({ scrapeIntervalMs: 500, evaluationIntervalMs: 500 });
    browser = await launchBrowser();
    // axe-core's builder wants a page of an explicit context.
    page = await (await browser.newContext({ viewport: { width: 1500, height: 1200 } })).newPage();
    page.on('dialog', (dialog) => {
      problems.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const panel = (title: string) => page.locator(`section[aria-label="${title}"]`);
  const seriousViolations = (): Promise<string[]> => seriousViolationsOf(page);
  const seriousViolationsOf = async (of: Page): Promise<string[]> => {
    const result = await new AxeBuilder({ page: of }).analyze();
    return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  };

  it('shows the clean state: no offender, no deny, every panel rendered without error', async () => {
    expect((await t.chat(SEED_PROMPT)).failed).toBe(false);
    const url = t.cluster.forwards.find((f) => f.service === 'evidence-dashboard')!.url;
    await page.goto(`${url}?from=now-15m&refresh=5s`);
    await page.locator('main[aria-busy="false"]').waitFor({ timeout: 30_000 });
    expect(await page.locator('section[data-state="error"]').allInnerTexts()).toEqual([]);
    expect(await page.locator('section.panel').count()).toBeGreaterThanOrEqual(17);
    expect(await panel('OFFENDING POD').locator('.body').innerText()).toBe('No data');
    expect(await panel('Deny log lines').locator('.body').innerText()).toBe('No deny in this time range.');
    // The time range picker and auto-refresh, as Grafana keeps them: in the URL.
    expect(await page.locator('#refresh').inputValue()).toBe('5s');
    await page.locator('#range').selectOption('now-5m');
    expect(new URL(page.url()).searchParams.get('from')).toBe('now-5m');
    expect(await seriousViolations()).toEqual([]);
    expect(problems).toEqual([]);
  }, 120_000);

  it('fills the OFFENDING POD row after Act 3 on its own refresh, with identity, image, deny line and quarantine command', async () => {
    await t.cluster.engine.apply(t.cluster.readDocuments(`${POLICIES_DIR}/mesh`));
    await rugpull(t.cluster);
    expect((await t.chat(SEED_PROMPT)).failed).toBe(false);
    const row = panel('OFFENDING POD').locator('tbody tr', { hasText: 'currency-converter' });
    // No reload: the page's 5 s auto-refresh brings it.
    await row.waitFor({ timeout: 60_000 });
    const cells = await row.locator('td').allInnerTexts();
    expect(cells.slice(0, 5)).toEqual(['currency-converter', 'trustusbank-bank-vendors', CONVERTER_ID, 'mock-attacker', 'external-attacker']);
    // Istio's metrics carry no trace id: the row links to the trace search for its identity's refused connections.
    const tracesUrl = t.cluster.forwards.find((f) => f.service === 'traces')!.url;
    expect(await row.getByRole('link', { name: 'traces' }).getAttribute('href')).toBe(`${tracesUrl}?${new URLSearchParams({ tags: `trustusbank.decision=deny src.identity=${CONVERTER_ID}` })}`);
    await panel('OFFENDING POD').locator('tbody tr td:nth-child(7):not(:empty)').waitFor({ timeout: 30_000 });
    expect(await row.locator('td').nth(6).innerText()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    const deployment = panel('OFFENDING DEPLOYMENT').locator('tbody tr', { hasText: 'currency-converter' });
    await deployment.waitFor({ timeout: 30_000 });
    const rugpulled = t.cluster.builds.find((b) => b.image === 'acme-fx/currency-converter:1.0.0' && b.variant === 'rugpull')!.digest;
    expect(await deployment.locator('td').allInnerTexts()).toEqual(expect.arrayContaining(['acme-fx/currency-converter:1.0.0', rugpulled, 'attacker', 'true']));
    const denyLine = panel('Deny log lines').locator('.log', { hasText: 'external-attacker/deny-bank-to-attacker' }).first();
    await denyLine.waitFor({ timeout: 30_000 });
    // The mesh's deny line links to its trace: the customer's question down to ztunnel's refusal.
    const traceHref = (await denyLine.getByRole('link', { name: 'trace' }).getAttribute('href'))!;
    expect(traceHref).toMatch(new RegExp(`^${tracesUrl}trace/[0-9a-f]{32}$`));
    const waterfall = await page.context().newPage();
    await waterfall.goto(traceHref);
    const text = await waterfall.locator('main').innerText();
    expect(text).toContain('ztunnel: ztunnel inbound');
    expect(text).toContain('deny');
    await waterfall.close();
    await panel('Remediation').locator('pre', { hasText: 'kubectl -n trustusbank-bank-vendors scale deploy/currency-converter --replicas=0' }).waitFor({ timeout: 30_000 });
    // The incident the alerts opened, on its panel, linked to its record on this server.
    const incidentLink = panel('Incidents (DORA Art. 17)').locator('tbody tr', { hasText: 'trustusbank-bank-vendors/currency-converter' }).getByRole('link');
    await incidentLink.waitFor({ timeout: 60_000 });
    const incidentId = await incidentLink.innerText();
    expect(await incidentLink.getAttribute('href')).toBe(`/incidents/${incidentId}`);
    const record = await page.context().newPage();
    await record.goto(new URL(`/incidents/${incidentId}`, page.url()).href);
    expect(await record.locator('h1').innerText()).toContain(incidentId);
    expect(await record.locator('main').innerText()).toContain('Acme FX Ltd');
    expect(await seriousViolationsOf(record)).toEqual([]);
    await record.close();
    expect(await panel('Exfil received by the attacker').locator('.body').innerText()).toBe('0');
    expect(await panel('AuthZ denies (mesh)').locator('.body').innerText()).not.toBe('0');
    expect(await seriousViolations()).toEqual([]);
    expect(problems).toEqual([]);
  }, 180_000);

  it('shows hostile label values and a compromised pod\'s hostile log line as text, never as markup', async () => {
    // A label: workloads cannot write ALERTS (the scraper drops it from pods), so the store is written directly,
    // as a bug elsewhere might; the page must hold on its own.
    t.cluster.evidence.monitor.store.append({ __name__: 'ALERTS', alertname: HOSTILE, alertstate: 'firing', severity: HOSTILE }, Date.now(), 1);
    // A log line: the converter writes its own stdout, so the compromised pod controls these bytes.
    const converter = t.cluster.engine.podsOf('trustusbank-bank-vendors', 'currency-converter').find((p) => p.phase === 'Running')!;
    appendFileSync(converter.template.launch.logFile, `${JSON.stringify({ ts: new Date().toISOString(), level: 'warn', msg: 'exfil blocked', url: HOSTILE, reason: HOSTILE })}\n`);
    await page.locator('#refresh-now').click();
    await panel('Firing alerts').locator('td', { hasText: 'window.__pwned=1' }).first().waitFor({ timeout: 30_000 });
    await panel('Deny log lines').locator('.log', { hasText: 'window.__pwned=2' }).first().waitFor({ timeout: 30_000 });
    expect(await panel('Firing alerts').locator('td', { hasText: 'window.__pwned=1' }).first().innerText()).toBe(HOSTILE);
    expect(await page.locator('main img, main script').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(problems).toEqual([]);
  }, 120_000);
});
