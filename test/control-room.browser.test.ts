// The story through the pages, in a real browser against a whole embedded cluster: the presenter's two tabs,
// the control room and the bank's chatbot. Act 1 in the chatbot; Rug-pull pressed in the control room (from the
// keyboard) → the chatbot's pane flags get_profile and customer_profile while the control room's attacker
// counter rises; the mesh layer switched on in the control room → no new loot, and the control room shows the
// mesh's deny on the converter. Both pages pass axe-core with no serious or critical violation and are driven
// from the keyboard. Screenshots are kept in test-output/screenshots/. `trustusbank open` is tested against the
// same stack (no browser needed for that part).
import { AxeBuilder } from '@axe-core/playwright';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlRoom, type RunningControlRoom } from '../src/control-room/host.ts';
import { silentLogger } from '../src/core/log.ts';
import { FIGURES, SEED_PROMPT } from '../src/demo/demo.ts';
import { BROWSER_MISSING, keepScreenshot, launchBrowser } from '../testing/browser.ts';
import { runCli } from '../testing/cli.ts';
import { startTestCluster, type TestCluster } from '../testing/cluster.ts';

const HOSTILE_SUBJECT = '<img src=x onerror="window.__pwned=1">Exfil alert';

let stack: TestCluster;
let room: RunningControlRoom;
let browser: Browser | undefined;
let control: Page;
let chat: Page;
const pageErrors: string[] = [];
/** The actions the control room's page posted. */
const controlPosts: string[] = [];
const bin = mkdtempSync(join(tmpdir(), 'tub-opener-'));
const opened = join(bin, 'opened.txt');

beforeAll(async () => {
  stack = await startTestCluster();
  room = await startControlRoom({ routes: stack.routes, dataDir: stack.dataDir, port: 0, log: silentLogger, pollMs: 250 });
  stack.routes['GET /control-room'] = () => ({ url: room.url, tokenUrl: room.tokenUrl });
  stack.cluster.forwards.unshift({ namespace: 'trustusbank-platform', service: 'control-room', port: room.port, url: room.url });
  // A stand-in for the desktop's opener: it records what it was asked to open.
  writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`);
  chmodSync(join(bin, 'xdg-open'), 0o755);
  if (BROWSER_MISSING) return;
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  control = await context.newPage();
  chat = await context.newPage();
  control.on('request', (request) => {
    if (request.method() === 'POST') controlPosts.push(new URL(request.url()).pathname);
  });
  for (const page of [control, chat]) {
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
  }
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await room?.close();
  await stack?.close();
  rmSync(bin, { recursive: true, force: true });
});

describe('trustusbank open, against a running stack', () => {
  const runOpen = (args: string[], path: string) => runCli(['open', ...args, '--data-dir', stack.dataDir], { PATH: path });

  it("opens a UI with the desktop's opener, and the control room with this stack's token", async () => {
    const chatbot = await runOpen(['chatbot'], bin);
    expect(chatbot.code).toBe(0);
    const chatbotUrl = stack.cluster.forwards.find((f) => f.service === 'chatbot')!.url;
    expect(readFileSync(opened, 'utf8')).toBe(chatbotUrl);
    expect(chatbot.stdout).toContain(`Opened Bank's chatbot: ${chatbotUrl}`);
    const controlRoom = await runOpen([], bin);
    expect(controlRoom.code).toBe(0);
    expect(readFileSync(opened, 'utf8')).toBe(room.tokenUrl);
    expect(room.tokenUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{43}$/);
  }, 60_000);

  it('prints the URL and says so where there is no opener; opens one trace by its id', async () => {
    const none = await runOpen(['attacker'], join(bin, 'empty'));
    expect(none.code).toBe(0);
    expect(none.stdout).toContain(`No browser opener here (looked for xdg-open on PATH); open this URL yourself:\n  ${stack.cluster.forwards.find((f) => f.service === 'mock-attacker')!.url}`);
    const traceId = 'ab'.repeat(16);
    const trace = await runOpen(['traces', traceId], bin);
    expect(trace.code).toBe(0);
    expect(readFileSync(opened, 'utf8')).toBe(`${stack.cluster.forwards.find((f) => f.service === 'traces')!.url}trace/${traceId}`);
  }, 60_000);
});

const seriousViolations = async (page: Page): Promise<string[]> => {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
};

/** The ids (or labels) of the controls Tab reaches from the top of the page, once round. */
async function tabStops(page: Page, count: number): Promise<string[]> {
  await page.locator('body').focus();
  const stops: string[] = [];
  for (let i = 0; i < count; i++) {
    await page.keyboard.press('Tab');
    stops.push(await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      return el?.id || el?.textContent?.trim() || el?.tagName || '';
    }));
  }
  return stops;
}

const loot = (): Promise<number> => stack.attackerLoot().then((l) => l.count);
const controlLoot = async (): Promise<number> => Number(await control.locator('#loot').innerText());
const denyCount = async (key: string): Promise<number> => Number(await control.locator(`#denies tr[data-layer="${key}"] td.number`).innerText());

async function ask(): Promise<ReturnType<Page['locator']>> {
  const before = await chat.locator('.exchange').count();
  await chat.getByLabel('Your message').focus();
  await chat.keyboard.type(SEED_PROMPT);
  await chat.keyboard.press('Enter');
  const reply = chat.locator('.message.agent').last();
  await expect.poll(() => chat.locator('.exchange').count(), { timeout: 60_000 }).toBe(before + 1);
  await expect.poll(() => reply.innerText(), { timeout: 60_000 }).toContain(FIGURES[1]);
  for (const figure of FIGURES) expect(await reply.innerText()).toContain(figure);
  // The pane shows the newest exchange first.
  return chat.locator('.exchange').first();
}

describe.skipIf(BROWSER_MISSING !== undefined)('the story through the control room and the chatbot', () => {
  it('the control room opens from its URL, drops the token from the address bar, goes live, and has no serious accessibility violation', async () => {
    await control.goto(room.tokenUrl);
    await control.locator('#connection.pill-ok').waitFor({ timeout: 20_000 });
    expect(control.url()).toBe(room.url);
    expect(await control.evaluate(() => location.hash)).toBe('');
    await control.locator('#layer-mesh').waitFor();
    expect(await control.locator('#layer-mesh').getAttribute('aria-pressed')).toBe('false');
    expect(await controlLoot()).toBe(0);
    expect(await control.locator('#converter dd[data-fact="Build"]').innerText()).toBe('clean');
    expect(await control.locator('#converter dd[data-fact="Signed by"]').innerText()).toBe('trustusbank-bank');
    // Every other UI is linked; the planned ones are marked.
    const chatbotUrl = stack.cluster.forwards.find((f) => f.service === 'chatbot')!.url;
    expect(await control.getByRole('link', { name: "Bank's chatbot" }).getAttribute('href')).toBe(chatbotUrl);
    for (const name of ["Attacker's loot", 'Registry (drift, DORA register)', 'Prometheus (metrics, alerts, PromQL)', 'SOC inbox', 'Alertmanager API', 'Evidence dashboard', 'Traces (search, waterfall; Tempo API)']) {
      expect(await control.getByRole('link', { name }).count()).toBe(1);
    }
    expect(await control.locator('#links').innerText()).not.toMatch(/not yet/);
    expect(await control.locator('#incident').innerText()).toBe('No incident: no critical alert has fired.');
    expect(await seriousViolations(control)).toEqual([]);
    await keepScreenshot(control, 'control-room-0-start');
  }, 60_000);

  it('every control-room action is reached with Tab', async () => {
    const stops = await tabStops(control, 12);
    expect(stops.slice(0, 7)).toEqual(['reset', 'rugpull', 'demo', 'layer-mesh', 'layer-gateway', 'layer-access-policy', 'layer-admission']);
  });

  it('shows what arrives from the stack as text: a hostile mail subject creates no element and runs nothing', async () => {
    await createTransport({ host: '127.0.0.1', port: stack.cluster.evidence.inbox.smtpPort, secure: false, ignoreTLS: true }).sendMail({ from: 'alertmanager@trustusbank.local', to: 'soc@trustusbank.local', subject: HOSTILE_SUBJECT, text: 'x' });
    await expect.poll(() => control.locator('#mail').innerText(), { timeout: 10_000 }).toContain(HOSTILE_SUBJECT);
    expect(await control.locator('#mail img, #mail script').count()).toBe(0);
    expect(await control.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  }, 30_000);

  it('Act 1 in the chatbot: the figures in the reply, get_balance and convert_currency in the pane; the chatbot has no serious accessibility violation', async () => {
    const chatbotUrl = stack.cluster.forwards.find((f) => f.service === 'chatbot')!.url;
    await chat.goto(chatbotUrl);
    await chat.locator('#health.pill-ok').waitFor({ timeout: 20_000 });
    expect(await seriousViolations(chat)).toEqual([]);
    // Every control of the chatbot is reached with Tab: the debug toggle, the quick prompts, the prompt box, Send, New conversation.
    const stops = await tabStops(chat, 10);
    expect(stops).toEqual(expect.arrayContaining(['debug-toggle', 'prompt', 'send', 'new-chat', 'Balance in EUR and JPY']));
    const exchange = await ask();
    await chat.locator('#debug-toggle').focus();
    await chat.keyboard.press('Enter');
    const steps = await exchange.locator('.step-name').allInnerTexts();
    expect(steps).toEqual(expect.arrayContaining(['get_balance', 'convert_currency']));
    expect(steps).not.toContain('get_profile');
    expect(await exchange.locator('.step.flagged').count()).toBe(0);
    expect(await loot()).toBe(0);
    expect(await seriousViolations(chat)).toEqual([]);
    await keepScreenshot(chat, 'chatbot-1-act1');
  }, 120_000);

  it('Rug-pull pressed in the control room: the chatbot pane flags get_profile and customer_profile, and the attacker counter rises', async () => {
    await control.locator('#rugpull').focus();
    await control.keyboard.press('Enter');
    await expect.poll(() => control.locator('#log').innerText(), { timeout: 60_000 }).toContain('Rug-pull: new bytes behind acme-fx/currency-converter:1.0.0, rolled out.');
    await expect.poll(() => control.locator('#converter dd[data-fact="Build"]').innerText(), { timeout: 10_000 }).toBe('rugpull');
    expect(await control.locator('#converter dd[data-fact="Signed by"]').innerText()).not.toContain('trustusbank-bank');
    expect(await control.locator('#registry li[data-entry="acme-fx/currency-converter"]').innerText()).toMatch(/drift/);
    const before = await loot();
    const exchange = await ask();
    const flagged = exchange.locator('.step.flagged');
    expect(await flagged.locator('.step-name').allInnerTexts()).toEqual(expect.arrayContaining(['get_profile', 'convert_currency']));
    expect(await exchange.locator('.pill').allInnerTexts()).toContain('⚠ get_profile invoked');
    expect(await exchange.locator('.flags').allInnerTexts()).toEqual(expect.arrayContaining([expect.stringContaining('customer_profile')]));
    expect(await loot()).toBeGreaterThan(before);
    await expect.poll(controlLoot, { timeout: 10_000 }).toBeGreaterThan(before);
    expect(await control.locator('#loot.hot').count()).toBe(1);
    await keepScreenshot(chat, 'chatbot-2-rugpulled');
    await keepScreenshot(control, 'control-room-2-rugpulled');
  }, 180_000);

  it('the mesh switched on in the control room (Space on its toggle): no new loot, and the control room shows the mesh deny', async () => {
    const meshDeniesBefore = await denyCount('meshOnConverter');
    await control.locator('#layer-mesh').focus();
    await control.keyboard.press('Space');
    await expect.poll(() => control.locator('#layer-mesh').getAttribute('aria-pressed'), { timeout: 60_000 }).toBe('true');
    const before = await loot();
    const exchange = await ask();
    // The model is still fooled (the pane still flags it); the mesh stops the bytes.
    expect(await exchange.locator('.step.flagged').count()).toBeGreaterThan(0);
    expect(await loot()).toBe(before);
    await expect.poll(() => denyCount('meshOnConverter'), { timeout: 15_000 }).toBeGreaterThan(meshDeniesBefore);
    expect(await control.locator('#denies tr[data-layer="meshOnConverter"].denied').count()).toBe(1);
    expect(await controlLoot()).toBe(before);
    // The critical alerts of Act 2 and 3 opened the converter's incident; the control room shows it.
    await expect.poll(() => control.locator('#incident dd[data-fact="incident"]').innerText().catch(() => ''), { timeout: 30_000 }).toMatch(/^INC-\d{8}-\d{4}$/);
    expect(await control.locator('#incident').innerText()).toContain('trustusbank-bank-vendors/currency-converter');
    // Full now (loot, denies, drift, alerts, mail, the incident, the progress log): still no serious accessibility violation.
    expect(await seriousViolations(control)).toEqual([]);
    await keepScreenshot(chat, 'chatbot-3-mesh-on');
    await keepScreenshot(control, 'control-room-3-mesh-on');
  }, 180_000);

  it('refuses to act for a page without the token: the notice shows and the buttons do nothing', async () => {
    const stranger = await browser!.newPage();
    try {
      const posts: string[] = [];
      stranger.on('request', (r) => {
        if (r.method() === 'POST') posts.push(r.url());
      });
      await stranger.goto(room.url);
      await stranger.locator('#token-missing').waitFor({ timeout: 5_000 });
      expect(await stranger.locator('#reset').getAttribute('aria-disabled')).toBe('true');
      // Playwright will not click a control marked disabled; a user's keyboard will press it.
      await stranger.locator('#reset').focus();
      await stranger.keyboard.press('Enter');
      expect(posts).toEqual([]);
      // And a page of another origin that posts to the API with a guessed token is refused by the server.
      const status = await stranger.evaluate(async (url) => (await fetch(`${url}api/actions/reset`, { method: 'POST', headers: { 'x-trustusbank-token': 'guess' } })).status, room.url);
      expect(status).toBe(403);
    } finally {
      await stranger.close();
    }
  }, 30_000);

  it('Reset from the control room puts the clean converter back, all layers off, no loot; no page error on the way', async () => {
    await control.locator('#reset').focus();
    await control.keyboard.press('Enter');
    await expect.poll(() => control.locator('#log').innerText(), { timeout: 90_000 }).toContain('Reset: the clean converter, no policy, no loot.');
    await expect.poll(() => control.locator('#layer-mesh').getAttribute('aria-pressed'), { timeout: 10_000 }).toBe('false');
    await expect.poll(controlLoot, { timeout: 10_000 }).toBe(0);
    expect(await control.locator('#converter dd[data-fact="Build"]').innerText()).toBe('clean');
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('"Run the whole demo" from the control room streams its progress and ends with the verdict', async () => {
    // The reset's log line can arrive before its POST returns; until then the page ignores another action (its
    // buttons say so with aria-disabled). Wait for the page to take actions again, as a user would see.
    await expect.poll(() => control.locator('#demo').getAttribute('aria-disabled'), { timeout: 30_000 }).toBe('false');
    await control.locator('#demo').focus();
    await control.keyboard.press('Enter');
    await expect.poll(() => control.locator('#busy').innerText(), { timeout: 10_000 }).toBe('Running: demo…');
    // While it runs, the page sends no other action (the server would refuse it with 409: server.test.ts).
    const posted = controlPosts.length;
    await control.locator('#reset').focus();
    await control.keyboard.press('Enter');
    await expect.poll(() => control.locator('#log').innerText(), { timeout: 60_000 }).toMatch(/Act 1: the clean converter\./);
    expect(controlPosts.slice(posted)).toEqual([]);
    expect(controlPosts.at(-1)).toBe('/api/actions/demo');
    await expect.poll(() => control.locator('#log').innerText(), { timeout: 400_000, interval: 1_000 }).toMatch(/The story holds \(\d+\.\d s\)\./);
    const log = await control.locator('#log').innerText();
    for (const line of ['Resetting the stack', 'Rug-pull: new bytes', 'Act 2: the rug-pulled converter, no defence.', 'Act 3: the mesh policies on.', 'Act 3: defended: ok']) expect(log).toContain(line);
    expect(await control.locator('#busy').innerText()).toBe('');
    await keepScreenshot(control, 'control-room-4-demo');
    expect(pageErrors).toEqual([]);
  }, 420_000);
});
