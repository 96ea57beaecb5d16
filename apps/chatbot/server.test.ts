// The chatbot's server in-process, its A2A proxy pointed at a fake agent that records what reaches it. The clean
// path: the page and its headers, A2A forwarded with a traceparent and a stream passed through as it comes. The
// attack: every request that would make the chatbot a proxy to somewhere else, or that another web page could
// send, is refused before anything reaches an agent.
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { closeServer, listen } from '../../src/core/http.ts';
import { startTestWorkload, type TestWorkload } from '../../testing/workloads.ts';
import { MAX_A2A_BODY_BYTES } from './proxy.ts';
import { PAGE_CSP, createChatbot } from './server.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const AGENT = '/api/a2a/trustusbank-bank-agents/support-bot';
const SCRIPT = new TextEncoder().encode('console.log("the page");');

let upstream: Server;
let upstreamUrl: string;
let chatbot: TestWorkload;
let seen: Seen[] = [];
/** Lets a test hold the fake agent's stream open between two events. */
let release: (() => void) | undefined;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (req.url === '/.well-known/agent-card.json') {
        res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'agent=1' });
        res.end(JSON.stringify({ name: 'support-bot' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"jsonrpc":"2.0","id":1,"result":{"kind":"task","id":"t1","contextId":"c1"}}\n\n');
      new Promise<void>((resolve) => (release = resolve)).then(() => {
        res.end('data: {"jsonrpc":"2.0","id":1,"result":{"kind":"status-update","final":true}}\n\n');
      });
    });
  });
  upstreamUrl = (await listen(upstream, { host: '127.0.0.1', port: 0, portHint: '' })).url;
  chatbot = await startTestWorkload('chatbot', createChatbot({ script: SCRIPT, upstream: () => upstreamUrl }));
});
afterAll(async () => {
  release?.();
  await chatbot?.close();
  if (upstream) await closeServer(upstream);
});
beforeEach(() => {
  seen = [];
});

/** A raw request: the target exactly as written (fetch would normalise dot segments away). */
function raw(method: string, target: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  const url = new URL(chatbot.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path: target, headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const rpc = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'message/stream', params: { message: { kind: 'message', messageId: 'm1', role: 'user', parts: [{ kind: 'text', text: 'hi' }] } } });

describe('the chatbot page', () => {
  it('serves the page, its script and stylesheet under a strict Content-Security-Policy', async () => {
    const page = await raw('GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toBe(PAGE_CSP);
    expect(PAGE_CSP).toContain("default-src 'self'");
    expect(PAGE_CSP).toContain("require-trusted-types-for 'script'");
    expect(PAGE_CSP).not.toContain('unsafe');
    expect(page.text).toContain('<meta name="trustusbank-agent" content="trustusbank-bank-agents/support-bot">');
    // No inline script or style for the policy to have to allow.
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=/i);
    const script = await raw('GET', '/app.js');
    expect(script.headers['content-type']).toMatch(/^text\/javascript/);
    expect(script.text).toBe('console.log("the page");');
    expect((await raw('GET', '/app.css')).headers['content-type']).toMatch(/^text\/css/);
    expect((await raw('POST', '/')).status).toBe(405);
  });
});

describe('the A2A proxy', () => {
  it('forwards JSON-RPC to the agent with a traceparent and only the headers an agent needs, streaming the answer', async () => {
    const traceparent = `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`;
    const url = new URL(chatbot.url);
    const events: string[] = [];
    const done = new Promise<{ status: number; headers: IncomingHttpHeaders }>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          method: 'POST',
          path: `${AGENT}/`,
          headers: { 'content-type': 'application/json', 'a2a-version': '0.3', traceparent, cookie: 'session=secret', authorization: 'Bearer secret', 'x-forwarded-client-cert': 'URI=spiffe://cluster.local/ns/x/sa/forged', origin: url.origin },
        },
        (res) => {
          res.on('data', (chunk: Buffer) => {
            events.push(chunk.toString('utf8'));
            // The first event arrived while the agent still holds the stream open: it is passed through as it comes.
            release?.();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
        },
      );
      req.on('error', reject);
      req.end(rpc);
    });
    const answer = await done;
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/event-stream');
    // The page's trace continues: the agent's parent is the chatbot's own span in it, which the page is told.
    const forwarded = String(seen[0]?.headers.traceparent);
    expect(forwarded).toMatch(new RegExp(`^00-${'ab'.repeat(16)}-[0-9a-f]{16}-01$`));
    expect(forwarded).not.toBe(traceparent);
    expect(answer.headers.traceparent).toBe(forwarded);
    expect(events.join('')).toContain('"kind":"task"');
    expect(events.join('')).toContain('"final":true');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/', body: rpc });
    expect(seen[0]!.headers).toMatchObject({ 'a2a-version': '0.3', 'content-type': 'application/json' });
    for (const name of ['cookie', 'authorization', 'x-forwarded-client-cert', 'origin']) expect(seen[0]!.headers[name]).toBeUndefined();
  });

  it('forwards the agent card for the health pill, without the agent cookies', async () => {
    const card = await raw('GET', `${AGENT}/.well-known/agent-card.json`);
    expect(card.status).toBe(200);
    expect(JSON.parse(card.text)).toEqual({ name: 'support-bot' });
    expect(card.headers['set-cookie']).toBeUndefined();
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['GET /.well-known/agent-card.json']);
  });

  it('starts a trace when the page sent none, or a malformed one', async () => {
    release = undefined;
    const pending = raw('POST', `${AGENT}/`, { 'content-type': 'application/json', traceparent: 'not-a-trace' }, rpc);
    // Let the fake agent finish its stream as soon as it has started.
    const wait = async (): Promise<void> => {
      while (!release) await new Promise((resolve) => setImmediate(resolve));
      release();
    };
    await wait();
    const answer = await pending;
    expect(seen[0]!.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(answer.headers.traceparent).toBe(seen[0]!.headers.traceparent);
  });

  it.each([
    ['another host in the absolute form', 'POST', 'http://evil.example/api/a2a/trustusbank-bank-agents/support-bot/', 400],
    ['another host as the agent', 'POST', '/api/a2a/trustusbank-bank-agents/evil.example/', 400],
    ['an IP address as the agent', 'GET', '/api/a2a/trustusbank-bank-agents/127.0.0.1/.well-known/agent-card.json', 400],
    ['an MCP server of another namespace', 'POST', '/api/a2a/trustusbank-bank-mcp/account-mcp/', 403],
    ['traversal to MCP', 'POST', `${AGENT}/../../trustusbank-bank-mcp/account-mcp/`, 400],
    ['encoded traversal', 'POST', `${AGENT}/%2e%2e/%2e%2e/mcp`, 400],
    ['another path of the agent', 'POST', `${AGENT}/mcp`, 404],
    ['a bad agent name', 'POST', '/api/a2a/trustusbank-bank-agents/Support_Bot/', 400],
    ['a method other than POST', 'PUT', `${AGENT}/`, 405],
  ])('refuses %s before it reaches an agent', async (_what, method, target, status) => {
    const answer = await raw(method, target, { 'content-type': 'application/json' }, rpc);
    expect(answer.status).toBe(status);
    const body = JSON.parse(answer.text) as { error: string; message?: string };
    expect(body.error).toEqual(expect.any(String));
    expect(answer.text).not.toMatch(/at .*\.ts:\d+/);
    expect(seen).toEqual([]);
  });

  it('refuses a body over the limit with 413', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'message/send', params: { pad: 'x'.repeat(MAX_A2A_BODY_BYTES) } });
    const answer = await raw('POST', `${AGENT}/`, { 'content-type': 'application/json' }, big);
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.text)).toMatchObject({ error: 'payload too large' });
    expect(seen).toEqual([]);
  });

  it('refuses what another web page could send: a cross-origin request, or a form post that needs no preflight', async () => {
    const crossOrigin = await raw('POST', `${AGENT}/`, { 'content-type': 'application/json', origin: 'http://evil.example' }, rpc);
    expect(crossOrigin.status).toBe(403);
    const nullOrigin = await raw('POST', `${AGENT}/`, { 'content-type': 'application/json', origin: 'null' }, rpc);
    expect(nullOrigin.status).toBe(403);
    const form = await raw('POST', `${AGENT}/`, { 'content-type': 'text/plain' }, rpc);
    expect(form.status).toBe(415);
    expect(seen).toEqual([]);
  });

  it('answers 502 with the agent named when the agent is unreachable', async () => {
    const dead = await startTestWorkload('chatbot', createChatbot({ script: SCRIPT, upstream: () => 'http://127.0.0.1:1' }));
    try {
      const response = await fetch(`${dead.url}${AGENT}/.well-known/agent-card.json`);
      expect(response.status).toBe(502);
      expect(await response.json()).toMatchObject({ error: 'bad gateway', message: expect.stringContaining('support-bot.trustusbank-bank-agents is unreachable') });
    } finally {
      await dead.close();
    }
  });
});

describe('the chatbot configuration', () => {
  it('refuses an agent outside the namespaces it may call, with one clear line', async () => {
    await expect(startTestWorkload('chatbot', createChatbot({ script: SCRIPT }), { env: { CHATBOT_AGENT: 'trustusbank-bank-mcp/account-mcp' } })).rejects.toThrow(
      'CHATBOT_AGENT must be <namespace>/<agent> in one of trustusbank-bank-agents, got "trustusbank-bank-mcp/account-mcp"',
    );
  });
});
