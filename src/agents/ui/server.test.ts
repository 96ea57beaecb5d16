import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, listen } from '../../core/http.ts';
import { SessionStore } from '../sessions.ts';
import { isPiiTouching, renderSessionPage } from './page.ts';
import { createAgentsUi, type AgentsUi, type SessionSource } from './server.ts';

const NS = 'trustusbank-bank-agents';
const CHATBOT = 'spiffe://cluster.local/ns/trustusbank-bank-frontend/sa/chatbot';
const SUPPORT = 'spiffe://cluster.local/ns/trustusbank-bank-agents/sa/support-bot';
const HOSTILE = '<script>alert("pwned")</script> & <img src=x onerror=alert(1)>';
const ODD_ID = 'ctx/with?odd#chars & "quotes"';
const at = (seconds: number): Date => new Date(Date.UTC(2025, 0, 2, 10, 0, seconds));

let dir: string;
let server: Server;
let ui: AgentsUi;
let base: string;
const closeLater: Array<() => void> = [];

function volume(agent: string): string {
  return join(dir, 'volumes', NS, agent, 'sessions.db');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tub-agents-ui-'));

  const support = SessionStore.open(volume('support-bot'));
  support.ensureSession({ id: 'ctx-support', agent: 'support-bot', namespace: NS, caller: CHATBOT, model: 'scripted', now: at(0) });
  support.addMessage({ sessionId: 'ctx-support', taskId: 'task-1', role: 'user', author: 'customer', text: `I am customer 12345. ${HOSTILE}`, now: at(1) });
  support.addToolCall({
    sessionId: 'ctx-support', taskId: 'task-1', callId: 'call-1', name: 'get_balance', kind: 'mcp', server: 'account',
    args: { customer_id: '12345' }, result: { balance: '£4,287.55' }, isError: false, startedAt: at(2), durationMs: 8.25,
  });
  support.addToolCall({
    sessionId: 'ctx-support', taskId: 'task-1', callId: 'call-2', name: 'get_profile', kind: 'mcp', server: 'account',
    args: { customer_id: '12345' }, result: { email: 'alice@example.com', note: '</pre><script>alert(2)</script>' }, isError: false, startedAt: at(3), durationMs: 5,
  });
  support.addToolCall({
    sessionId: 'ctx-support', taskId: 'task-1', callId: 'call-3', name: 'convert_currency', kind: 'mcp', server: 'currency-converter',
    args: { amount: 4287.55, from: 'GBP', to: 'USD', customer_profile: { email: 'alice@example.com' } }, result: { error: 'upstream refused' }, isError: true, startedAt: at(4), durationMs: 1500,
  });
  support.addMessage({ sessionId: 'ctx-support', taskId: 'task-1', role: 'agent', author: 'support-bot', text: 'Your balance is £4,287.55 ≈ $5,445.19.', now: at(6) });
  support.ensureSession({ id: ODD_ID, agent: 'support-bot', namespace: NS, caller: '', model: 'scripted', now: at(20) });
  support.addMessage({ sessionId: ODD_ID, taskId: 'task-9', role: 'user', author: 'customer', text: 'odd one', now: at(21) });
  support.close();

  const fraud = SessionStore.open(volume('fraud-bot'));
  fraud.ensureSession({ id: 'ctx-fraud', agent: 'fraud-bot', namespace: NS, caller: SUPPORT, model: 'anthropic/claude-3-5-haiku-20241022', now: at(10) });
  fraud.addMessage({ sessionId: 'ctx-fraud', taskId: 'task-2', role: 'user', author: 'support-bot', text: 'Score these transactions.', now: at(11) });
  fraud.addToolCall({
    sessionId: 'ctx-fraud', taskId: 'task-2', callId: 'call-4', name: 'triage-bot', kind: 'agent', server: 'triage-bot',
    args: { message: 'open a ticket' }, result: 'ticket T-1 opened', isError: false, startedAt: at(12), durationMs: 40,
  });
  // Left open while the UI reads, as a running pod's would be.
  closeLater.push(() => fraud.close());

  const broken = join(dir, 'volumes', NS, 'triage-bot', 'sessions.db');
  mkdirSync(join(dir, 'volumes', NS, 'triage-bot'), { recursive: true });
  writeFileSync(broken, 'not a sqlite file '.repeat(200));

  const sources: SessionSource[] = [
    { namespace: NS, agent: 'support-bot', file: volume('support-bot') },
    { namespace: NS, agent: 'fraud-bot', file: volume('fraud-bot') },
    { namespace: NS, agent: 'triage-bot', file: broken },
    { namespace: NS, agent: 'idle-bot', file: volume('idle-bot') },
  ];
  ui = createAgentsUi({ sources: () => sources });
  server = createServer((req, res) => ui.handle(req, res));
  const bound = await listen(server, { host: '127.0.0.1', port: 0, portHint: '--agents-ui-port N' });
  base = bound.url;
});

afterAll(async () => {
  if (server) await closeServer(server);
  ui?.close();
  for (const close of closeLater) close();
  rmSync(dir, { recursive: true, force: true });
});

async function get(path: string, init?: RequestInit): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await fetch(base + path, init);
  return { status: response.status, headers: response.headers, text: await response.text() };
}

function sessionUrl(kind: 'api' | 'page', agent: string, id: string): string {
  return `${kind === 'api' ? '/api' : ''}/sessions/${NS}/${agent}/${encodeURIComponent(id)}`;
}

describe('agents UI JSON API', () => {
  it('answers health checks', async () => {
    const res = await get('/healthz');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ status: 'ok' });
  });

  it('lists every agent’s sessions, newest first, and reports the agent it could not read', async () => {
    const res = await get('/api/sessions');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = JSON.parse(res.text) as { sessions: Array<Record<string, unknown>>; agents: Array<Record<string, unknown>> };
    expect(body.sessions.map((s) => [s.agent, s.id])).toEqual([
      ['support-bot', ODD_ID],
      ['fraud-bot', 'ctx-fraud'],
      ['support-bot', 'ctx-support'],
    ]);
    expect(body.sessions[2]).toMatchObject({
      namespace: NS,
      caller: CHATBOT,
      model: 'scripted',
      messageCount: 2,
      toolCallCount: 3,
      firstUserMessage: `I am customer 12345. ${HOSTILE}`,
      createdAt: at(0).toISOString(),
      updatedAt: at(6).toISOString(),
    });
    expect(body.sessions[1]).toMatchObject({ caller: SUPPORT, model: 'anthropic/claude-3-5-haiku-20241022', messageCount: 1, toolCallCount: 1 });
    expect(body.agents).toEqual([
      { namespace: NS, agent: 'support-bot', sessionCount: 2 },
      { namespace: NS, agent: 'fraud-bot', sessionCount: 1 },
      { namespace: NS, agent: 'triage-bot', sessionCount: 0, error: expect.stringMatching(/not a database/) },
      { namespace: NS, agent: 'idle-bot', sessionCount: 0 },
    ]);
  });

  it('returns one session in detail, with arguments and results as JSON values', async () => {
    const res = await get(sessionUrl('api', 'support-bot', 'ctx-support'));
    expect(res.status).toBe(200);
    const detail = JSON.parse(res.text);
    expect(detail).toMatchObject({ id: 'ctx-support', agent: 'support-bot', namespace: NS, caller: CHATBOT });
    expect(detail.messages.map((m: { role: string; text: string }) => [m.role, m.text])).toEqual([
      ['user', `I am customer 12345. ${HOSTILE}`],
      ['agent', 'Your balance is £4,287.55 ≈ $5,445.19.'],
    ]);
    expect(detail.toolCalls.map((c: { name: string }) => c.name)).toEqual(['get_balance', 'get_profile', 'convert_currency']);
    expect(detail.toolCalls[2]).toMatchObject({
      kind: 'mcp',
      server: 'currency-converter',
      args: { amount: 4287.55, from: 'GBP', to: 'USD', customer_profile: { email: 'alice@example.com' } },
      result: { error: 'upstream refused' },
      isError: true,
      durationMs: 1500,
    });
  });

  it('finds a session whose id needs percent-encoding', async () => {
    const res = await get(sessionUrl('api', 'support-bot', ODD_ID));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).messages[0].text).toBe('odd one');
  });

  it('answers 404 with an error for an unknown session, agent or path', async () => {
    for (const path of [sessionUrl('api', 'support-bot', 'nope'), sessionUrl('api', 'ghost-bot', 'ctx-support'), sessionUrl('api', 'idle-bot', 'x'), '/api/nope', '/api/sessions/a/b']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(JSON.parse(res.text).error, path).toEqual(expect.any(String));
    }
    expect(JSON.parse((await get(sessionUrl('api', 'support-bot', 'nope'))).text).error).toBe(`no session nope for agent support-bot in namespace ${NS}`);
    expect((await get('/nope')).status).toBe(404);
    expect((await get('/sessions/x/y/z/extra')).status).toBe(404);
    expect((await get('/sessions/x/y/%E0%A4%A')).status).toBe(404);
  });

  it('answers 500 with the reason for an agent whose file is broken', async () => {
    const res = await get(sessionUrl('api', 'triage-bot', 'ctx'));
    expect(res.status).toBe(500);
    expect(JSON.parse(res.text).error).toMatch(/could not read the sessions of triage-bot.*not a database/);
  });

  it('refuses other methods with 405 and Allow: GET', async () => {
    for (const [method, path] of [['POST', '/'], ['DELETE', sessionUrl('api', 'support-bot', 'ctx-support')], ['PUT', '/api/sessions']] as const) {
      const res = await get(path, { method });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow')).toBe('GET');
    }
  });
});

describe('agents UI pages', () => {
  it('lists the sessions of all agents, escapes what the model wrote, and names the broken agent', async () => {
    const res = await get('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = res.text;
    expect(html).not.toMatch(/<script|<img/i);
    expect(html).toContain('I am customer 12345. &lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain(`href="${sessionUrl('page', 'support-bot', 'ctx-support')}"`);
    expect(html).toContain(`href="/sessions/${NS}/support-bot/ctx%2Fwith%3Fodd%23chars%20%26%20%22quotes%22"`.replace(/&/g, '&amp;'));
    expect(html).toContain(`href="${sessionUrl('page', 'fraud-bot', 'ctx-fraud')}"`);
    expect(html).toContain(CHATBOT);
    expect(html).toContain('anthropic/claude-3-5-haiku-20241022');
    expect(html).toContain('2025-01-02 10:00:06 UTC');
    expect(html).toMatch(/<li class="error"><span class="agent">triage-bot<\/span>.*could not read its sessions: .*not a database/);
    // Newest first across agents: the odd session, then fraud-bot's, then support-bot's.
    const order = ['odd one', 'Score these transactions.', 'I am customer 12345.'].map((text) => html.indexOf(text));
    expect(order.every((index, i) => index > 0 && (i === 0 || index > order[i - 1]!))).toBe(true);
  });

  it('shows a session: messages in order and every tool call, with the PII-touching ones flagged', async () => {
    const res = await get(sessionUrl('page', 'support-bot', 'ctx-support'));
    expect(res.status).toBe(200);
    const html = res.text;
    expect(html).not.toMatch(/<script|<img/i);
    expect(html).toContain('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;');
    expect(html).toContain('&lt;/pre&gt;&lt;script&gt;alert(2)&lt;/script&gt;');
    expect(html.indexOf('I am customer 12345.')).toBeLessThan(html.indexOf('Your balance is £4,287.55 ≈ $5,445.19.'));

    const articles = html.split('<article').slice(1);
    const call = (name: string): string => articles.find((a) => a.includes(`<span class="tool">${name}</span>`)) ?? '';
    expect(call('get_balance')).toMatch(/^ class="tool-call">/);
    expect(call('get_balance')).not.toContain('⚠');
    expect(call('get_balance')).toContain('mcp · account · 8.3 ms');
    expect(call('get_profile')).toMatch(/^ class="tool-call flagged">/);
    expect(call('get_profile')).toContain('⚠');
    expect(call('convert_currency')).toMatch(/^ class="tool-call flagged failed">/);
    expect(call('convert_currency')).toContain('<span class="badge error">error</span>');
    expect(call('convert_currency')).toContain('1.50 s');
    expect(call('convert_currency')).toContain('&quot;customer_profile&quot;: {\n    &quot;email&quot;: &quot;alice@example.com&quot;\n  }');
    expect(html).toContain('2 tool calls touched customer PII.');
  });

  it('shows a hand-off to another agent', async () => {
    const html = (await get(sessionUrl('page', 'fraud-bot', 'ctx-fraud'))).text;
    expect(html).toContain('<span class="tool">triage-bot</span>');
    expect(html).toContain('agent · triage-bot · 40.0 ms');
    expect(html).toContain('&quot;ticket T-1 opened&quot;');
  });

  it('answers an HTML 404 for an unknown session', async () => {
    const res = await get(sessionUrl('page', 'support-bot', '<b>nope</b>'));
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.text).toContain('no session &lt;b&gt;nope&lt;/b&gt; for agent support-bot');
  });

  it('picks up rows written after the UI opened the file', async () => {
    const writer = SessionStore.open(volume('support-bot'));
    try {
      writer.ensureSession({ id: 'ctx-late', agent: 'support-bot', namespace: NS, caller: '', model: 'scripted', now: at(50) });
      writer.addMessage({ sessionId: 'ctx-late', taskId: 't', role: 'user', author: 'customer', text: 'late arrival', now: at(51) });
    } finally {
      writer.close();
    }
    const body = JSON.parse((await get('/api/sessions')).text) as { sessions: Array<{ id: string; firstUserMessage: string }> };
    expect(body.sessions[0]).toMatchObject({ id: 'ctx-late', firstUserMessage: 'late arrival' });
  });
});

describe('page helpers', () => {
  it('flags get_profile and calls with a PII argument key, and nothing else', () => {
    expect(isPiiTouching({ name: 'get_profile', args: {} })).toBe(true);
    for (const key of ['customer_profile', 'profile', 'email', 'ni_number', 'dob', 'address', 'phone', 'name']) {
      expect(isPiiTouching({ name: 'convert_currency', args: { [key]: 'x' } }), key).toBe(true);
    }
    expect(isPiiTouching({ name: 'get_balance', args: { customer_id: '12345' } })).toBe(false);
    expect(isPiiTouching({ name: 'get_balance', args: ['email'] })).toBe(false);
    expect(isPiiTouching({ name: 'get_balance', args: 'email' })).toBe(false);
    expect(isPiiTouching({ name: 'get_balance', args: null })).toBe(false);
  });

  it('escapes every field of a session page, ids and names included', () => {
    const evil = '"><script>x</script>';
    const html = renderSessionPage({
      namespace: evil,
      agent: evil,
      session: {
        id: evil, agent: evil, namespace: evil, caller: evil, model: evil, createdAt: evil, updatedAt: evil,
        messages: [{ id: 1, sessionId: evil, taskId: evil, role: 'user', author: evil, text: evil, createdAt: evil }],
        toolCalls: [{ id: 1, sessionId: evil, taskId: evil, callId: evil, name: evil, kind: 'mcp', server: evil, args: { [evil]: evil }, result: evil, isError: false, startedAt: evil, durationMs: 1 }],
      },
    });
    expect(html).not.toMatch(/<script/i);
    expect(html.split('&quot;&gt;&lt;script&gt;x&lt;/script&gt;').length - 1).toBeGreaterThanOrEqual(14);
  });
});
