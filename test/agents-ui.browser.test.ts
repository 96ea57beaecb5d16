// The agents UI in a real browser: the list page, a click through to a session, and what a reviewer must see
// there (the conversation and the PII-touching tool call, flagged), with hostile model output shown as text.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionStore } from '../src/agents/sessions.ts';
import { createAgentsUi, type AgentsUi } from '../src/agents/ui/server.ts';
import { closeServer, listen } from '../src/core/http.ts';
import { BROWSER_MISSING, launchBrowser } from '../testing/browser.ts';

const NS = 'trustusbank-bank-agents';
const PROMPT = 'I am customer 12345. Please check my balance, list my recent transactions, and convert my balance to USD.';
const HOSTILE = '<script>alert("pwned")</script><img src=x onerror="alert(1)">';

let dir: string;
let server: Server | undefined;
let ui: AgentsUi | undefined;
let browser: Browser | undefined;
let page: Page;
let base: string;
const dialogs: string[] = [];
const consoleErrors: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tub-agents-ui-browser-'));
  const file = (agent: string): string => join(dir, 'volumes', NS, agent, 'sessions.db');
  const at = (seconds: number): Date => new Date(Date.UTC(2025, 0, 2, 10, 0, seconds));

  const support = SessionStore.open(file('support-bot'));
  support.ensureSession({ id: 'ctx-act2', agent: 'support-bot', namespace: NS, caller: 'spiffe://cluster.local/ns/trustusbank-bank-frontend/sa/chatbot', model: 'scripted', now: at(0) });
  support.addMessage({ sessionId: 'ctx-act2', taskId: 't1', role: 'user', author: 'customer', text: `${PROMPT} ${HOSTILE}`, now: at(1) });
  support.addToolCall({ sessionId: 'ctx-act2', taskId: 't1', callId: 'c1', name: 'get_balance', kind: 'mcp', server: 'account', args: { customer_id: '12345' }, result: { balance: '£4,287.55' }, isError: false, startedAt: at(2), durationMs: 6 });
  support.addToolCall({ sessionId: 'ctx-act2', taskId: 't1', callId: 'c2', name: 'get_profile', kind: 'mcp', server: 'account', args: { customer_id: '12345' }, result: { email: 'alice@example.com' }, isError: false, startedAt: at(3), durationMs: 4 });
  support.addMessage({ sessionId: 'ctx-act2', taskId: 't1', role: 'agent', author: 'support-bot', text: 'Your balance is £4,287.55 ≈ $5,445.19.', now: at(5) });
  support.close();

  const fraud = SessionStore.open(file('fraud-bot'));
  fraud.ensureSession({ id: 'ctx-fraud', agent: 'fraud-bot', namespace: NS, caller: 'spiffe://cluster.local/ns/trustusbank-bank-agents/sa/support-bot', model: 'scripted', now: at(10) });
  fraud.addMessage({ sessionId: 'ctx-fraud', taskId: 't2', role: 'user', author: 'support-bot', text: 'Score the recent transactions of customer 12345.', now: at(11) });
  fraud.close();

  const sources = ['support-bot', 'fraud-bot'].map((agent) => ({ namespace: NS, agent, file: file(agent) }));
  const agentsUi = createAgentsUi({ sources: () => sources });
  ui = agentsUi;
  server = createServer((req, res) => agentsUi.handle(req, res));
  base = (await listen(server, { host: '127.0.0.1', port: 0, portHint: '--agents-ui-port N' })).url;

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
});

afterAll(async () => {
  await browser?.close();
  if (server) await closeServer(server);
  ui?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(BROWSER_MISSING !== undefined)('agents UI in a browser', () => {
  it('lists the sessions of both agents and opens one with its messages and the flagged tool call', async () => {
    await page.goto(`${base}/`);
    expect(await page.title()).toContain('Agent sessions');
    const rows = page.locator('table.sessions tbody tr');
    expect(await rows.count()).toBe(2);
    // Newest first: fraud-bot's session was active last.
    expect(await rows.nth(0).innerText()).toContain('fraud-bot');
    expect(await rows.nth(1).innerText()).toContain('support-bot');
    // The hostile text is shown as text, not run.
    expect(await rows.nth(1).innerText()).toContain('<script>alert("pwned")</script>');

    await page.getByRole('link', { name: /I am customer 12345/ }).click();
    await page.waitForURL(`${base}/sessions/${NS}/support-bot/ctx-act2`);
    expect(await page.locator('h1').innerText()).toContain('ctx-act2');

    const messages = page.locator('article.message');
    expect(await messages.count()).toBe(2);
    expect(await messages.nth(0).isVisible()).toBe(true);
    expect(await messages.nth(0).innerText()).toContain(PROMPT);
    expect(await messages.nth(0).innerText()).toContain(HOSTILE);
    expect(await messages.nth(1).innerText()).toContain('Your balance is £4,287.55 ≈ $5,445.19.');

    const flagged = page.locator('article.tool-call.flagged');
    expect(await flagged.count()).toBe(1);
    expect(await flagged.isVisible()).toBe(true);
    const flaggedText = await flagged.innerText();
    expect(flaggedText).toContain('⚠');
    expect(flaggedText).toContain('get_profile');
    expect(flaggedText).toContain('"email": "alice@example.com"');
    // Flagged means visibly different: the stylesheet's amber border.
    expect(await flagged.evaluate((el) => getComputedStyle(el).borderTopColor)).toBe('rgb(199, 119, 0)');
    const plain = page.locator('article.tool-call:not(.flagged)');
    expect(await plain.innerText()).toContain('get_balance');
    expect(await plain.innerText()).not.toContain('⚠');

    await page.getByRole('link', { name: /all sessions/ }).click();
    await page.waitForURL(`${base}/`);
    expect(dialogs).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
