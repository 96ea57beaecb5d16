// DNS-rebinding protection as a table: the attack (a page on a name the attacker controls, resolving to us) is
// refused on its Origin and on its Host; what a rebinding cannot produce (no Origin, loopback, IP literals,
// cluster names) and what is configured passes.
import { describe, expect, it } from 'vitest';
import { checkRebinding, parseHostList, rebindingErrorBody, rebindingPolicyFromEnv, type RebindingPolicy } from './dns-rebinding.ts';

const NONE: RebindingPolicy = { allowedOrigins: [], allowedHosts: [] };

describe('checkRebinding', () => {
  it.each([
    ['a foreign origin', { origin: 'http://evil.example.com', host: '127.0.0.1:18008' }, 'Origin'],
    ['a foreign origin on a loopback port', { origin: 'http://evil.example.com:18008', host: 'localhost:18008' }, 'Origin'],
    ['a rebound name in Host and Origin', { origin: 'http://evil.example.com', host: 'evil.example.com' }, 'Origin'],
    ['a rebound name in Host alone (a no-cors GET carries no Origin)', { host: 'evil.example.com:18008' }, 'Host'],
    ['the opaque origin', { origin: 'null', host: '127.0.0.1' }, 'Origin'],
    ['a non-web origin', { origin: 'file:///etc/passwd', host: '127.0.0.1' }, 'Origin'],
    ['a cluster name as an Origin (a page there is not ours either)', { origin: 'http://account-mcp.trustusbank-bank-mcp.svc.cluster.local', host: '127.0.0.1' }, 'Origin'],
    ['a look-alike of localhost', { host: 'localhost.evil.example.com' }, 'Host'],
    ['a Host with credentials', { host: 'user@127.0.0.1' }, 'Host'],
    ['a Host with a path', { host: '127.0.0.1/x' }, 'Host'],
    ['a name ending in a namespace that is not ours', { host: 'evil.com' }, 'Host'],
  ])('refuses %s', (_, headers, header) => {
    const verdict = checkRebinding(headers, { ...NONE, namespace: 'trustusbank-bank-mcp' });
    expect(verdict).toMatchObject({ ok: false, header });
  });

  it.each([
    ['no Origin and no Host (not a browser)', {}],
    ['a loopback origin on any port', { origin: 'http://localhost:5173', host: '127.0.0.1:18008' }],
    ['IPv6 loopback', { origin: 'http://[::1]:3000', host: '[::1]:3000' }],
    ['a cluster IP', { host: '10.96.0.12:8080' }],
    ['a service name', { host: 'account-mcp:8080' }],
    ['a namespaced service name', { host: 'account-mcp.trustusbank-bank-mcp:8080' }],
    ['a fully qualified service name', { host: 'account-mcp.trustusbank-bank-mcp.svc.cluster.local:8080' }],
    ['a *.localhost name', { host: 'app.localhost:8080' }],
  ])('serves %s', (_, headers) => {
    expect(checkRebinding(headers, { ...NONE, namespace: 'trustusbank-bank-mcp' })).toEqual({ ok: true });
  });

  it('serves configured origins and hosts, and only those', () => {
    const policy = rebindingPolicyFromEnv({ MCP_ALLOWED_ORIGINS: 'https://console.bank.example, inspector.example', MCP_ALLOWED_HOSTS: 'mcp.bank.example' }, 'MCP_');
    expect(policy.allowedOrigins).toEqual(['console.bank.example', 'inspector.example']);
    expect(checkRebinding({ origin: 'https://console.bank.example', host: 'mcp.bank.example' }, policy)).toEqual({ ok: true });
    expect(checkRebinding({ origin: 'http://inspector.example:6274', host: '127.0.0.1' }, policy)).toEqual({ ok: true });
    expect(checkRebinding({ origin: 'https://evil.example', host: 'mcp.bank.example' }, policy)).toMatchObject({ ok: false, header: 'Origin' });
    expect(checkRebinding({ host: 'other.bank.example' }, policy)).toMatchObject({ ok: false, header: 'Host' });
  });

  it('answers in the JSON-RPC shape the spec allows: an error with no id', () => {
    const verdict = checkRebinding({ origin: 'http://evil.example.com' }, NONE);
    if (verdict.ok) throw new Error('expected a refusal');
    expect(rebindingErrorBody(verdict)).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32000, message: expect.stringContaining('evil.example.com') } });
  });

  it('parses allow-lists of hostnames and origins', () => {
    expect(parseHostList(undefined)).toEqual([]);
    expect(parseHostList(' a.example ,http://B.example:8080  [::1]')).toEqual(['a.example', 'b.example', '[::1]']);
  });
});
