// Where the chatbot's proxy may send a request, as a table: the two A2A routes of an agent in an allowed
// namespace are forwarded; every way of naming another host, another path or another namespace is refused.
import { describe, expect, it } from 'vitest';
import { isTraceparent, newTraceparent, routeA2a } from './a2a-route.ts';

const options = { namespaces: ['trustusbank-bank-agents'] };
const AGENT = '/api/a2a/trustusbank-bank-agents/support-bot';

describe('routeA2a', () => {
  it.each([
    ['POST', `${AGENT}/`, 'http://support-bot.trustusbank-bank-agents.svc.cluster.local:8080/'],
    ['POST', AGENT, 'http://support-bot.trustusbank-bank-agents.svc.cluster.local:8080/'],
    ['GET', `${AGENT}/.well-known/agent-card.json`, 'http://support-bot.trustusbank-bank-agents.svc.cluster.local:8080/.well-known/agent-card.json'],
  ])('forwards %s %s to %s', (method, target, url) => {
    expect(routeA2a(method, target, options)).toMatchObject({ ok: true, url, namespace: 'trustusbank-bank-agents', agent: 'support-bot' });
  });

  it.each([
    // Another host, named in the agent or namespace segment.
    ['a host name as the agent', `/api/a2a/trustusbank-bank-agents/evil.example/`, 400],
    ['a host and port as the agent', `/api/a2a/trustusbank-bank-agents/evil.example:80/`, 400],
    ['user-info in the agent', `/api/a2a/trustusbank-bank-agents/support-bot@evil.example/`, 400],
    ['an IP address as the agent', `/api/a2a/trustusbank-bank-agents/127.0.0.1/`, 400],
    ['a host name as the namespace', `/api/a2a/evil.example/support-bot/`, 400],
    ['a namespace outside the allowed ones', `/api/a2a/trustusbank-bank-mcp/account-mcp/`, 403],
    ['the attacker namespace', `/api/a2a/external-attacker/mock-attacker/`, 403],
    // Another path on the agent: only `/` and the card.
    ['an MCP endpoint', `${AGENT}/mcp`, 404],
    ['metrics', `${AGENT}/metrics`, 404],
    ['a deeper card path', `${AGENT}/.well-known/agent-card.json/x`, 404],
    // Traversal, raw and encoded.
    ['dot-dot segments', `${AGENT}/../../trustusbank-bank-mcp/account-mcp/`, 400],
    ['a dot segment', `/api/a2a/trustusbank-bank-agents/./support-bot/`, 400],
    ['percent-encoded dots', `${AGENT}/%2e%2e/%2e%2e/mcp`, 400],
    ['a percent-encoded slash', `/api/a2a/trustusbank-bank-agents/support-bot%2F..%2Fx/`, 400],
    ['a backslash', `${AGENT}\\..\\mcp`, 400],
    ['a query string', `${AGENT}/?url=http://evil.example/`, 400],
    // Names that are not DNS labels.
    ['an upper-case agent', `/api/a2a/trustusbank-bank-agents/Support-Bot/`, 400],
    ['an empty agent', `/api/a2a/trustusbank-bank-agents//`, 400],
    ['a leading hyphen', `/api/a2a/trustusbank-bank-agents/-support/`, 400],
    ['a 64-character agent', `/api/a2a/trustusbank-bank-agents/${'a'.repeat(64)}/`, 400],
    ['an underscore', `/api/a2a/trustusbank-bank-agents/support_bot/`, 400],
    ['no agent at all', `/api/a2a/trustusbank-bank-agents`, 400],
  ])('refuses %s (%s) with %i', (_what, target, status) => {
    const route = routeA2a('POST', target, options);
    expect(route).toMatchObject({ ok: false, status });
    expect(route.ok ? '' : route.message).not.toMatch(/[^\x20-\x7e…]/);
  });

  it('takes POST for JSON-RPC and GET for the card, and says which', () => {
    expect(routeA2a('GET', `${AGENT}/`, options)).toMatchObject({ ok: false, status: 405, allow: 'POST' });
    expect(routeA2a('PUT', `${AGENT}/`, options)).toMatchObject({ ok: false, status: 405, allow: 'POST' });
    expect(routeA2a('POST', `${AGENT}/.well-known/agent-card.json`, options)).toMatchObject({ ok: false, status: 405, allow: 'GET' });
    expect(routeA2a('DELETE', `${AGENT}/.well-known/agent-card.json`, options)).toMatchObject({ ok: false, status: 405 });
  });

  it('bounds and cleans a hostile name before echoing it', () => {
    const route = routeA2a('POST', `/api/a2a/trustusbank-bank-agents/${'<x>\u0000'.repeat(50)}/`, options);
    expect(route.ok).toBe(false);
    expect(route.ok ? '' : route.message).not.toContain('\u0000');
    expect((route.ok ? '' : route.message).length).toBeLessThan(200);
  });
});

describe('traceparent', () => {
  it('makes valid W3C trace contexts and rejects malformed ones', () => {
    let seed = 0;
    const random = (n: number) => Uint8Array.from({ length: n }, () => (seed = (seed * 31 + 7) % 256));
    const made = newTraceparent(random);
    expect(isTraceparent(made)).toBe(true);
    expect(newTraceparent((n) => new Uint8Array(n))).toMatch(/^00-0{31}1-0{15}1-01$/);
    for (const bad of [undefined, '', '00-abc-def-01', `00-${'0'.repeat(32)}-${'1'.repeat(16)}-01`, `00-${'A'.repeat(32)}-${'1'.repeat(16)}-01`, `00-${'a'.repeat(32)}-${'1'.repeat(16)}-01\r\nx-evil: 1`]) {
      expect(isTraceparent(bad)).toBe(false);
    }
  });
});
