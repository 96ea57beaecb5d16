import { describe, expect, it } from 'vitest';
import { egressDecision, isNodeLocalName, nodeLocalReason, normalizeIp, type RegisteredHost } from './egress.ts';

describe('what counts as the node itself', () => {
  const node = { own: new Set(['192.0.2.10', 'fe80::1', '2001:db8::10']) };

  it.each([
    ['127.0.0.1', 'a loopback address'],
    ['127.255.1.2', 'a loopback address'],
    ['::1', 'a loopback address'],
    ['[::1]', 'a loopback address'],
    ['::ffff:127.0.0.1', 'a loopback address'],
    ['::ffff:7f00:1', 'a loopback address'],
    ['::ffff:7f00:0001', 'a loopback address'],
    ['0:0:0:0:0:ffff:7f00:1', 'a loopback address'],
    ['::127.0.0.1', 'a loopback address'],
    ['0.0.0.0', 'the unspecified address'],
    ['::', 'the unspecified address'],
    ['::ffff:0.0.0.0', 'the unspecified address'],
    ['169.254.169.254', 'a link-local address'],
    ['fe80::abcd', 'a link-local address'],
    ['192.0.2.10', "one of the node's own addresses"],
    ['::ffff:192.0.2.10', "one of the node's own addresses"],
    ['2001:DB8::10', "one of the node's own addresses"],
  ])('refuses %s as %s', (address, reason) => {
    expect(nodeLocalReason(address, node)).toBe(reason);
  });

  it.each(['10.244.0.7', '93.184.216.34', '2001:db8::11', '::ffff:93.184.216.34', 'not-an-ip'])('lets %s through', (address) => {
    expect(nodeLocalReason(address, node)).toBeUndefined();
  });

  it('writes an IPv4 address carried in IPv6 as the IPv4 address', () => {
    expect(normalizeIp('::FFFF:7F00:1')).toBe('127.0.0.1');
    expect(normalizeIp('::ffff:c000:20a')).toBe('192.0.2.10');
    expect(normalizeIp('2001:db8::1')).toBe('2001:db8::1');
  });

  it.each([
    ['localhost', true],
    ['LOCALHOST.', true],
    ['api.localhost', true],
    ['localhost.localdomain', true],
    ['localhost.example.com', false],
    ['mock-attacker.external-attacker', false],
  ])('takes the name %s as the node: %s', (name, local) => {
    expect(isNodeLocalName(name)).toBe(local);
  });
});

describe('outboundTrafficPolicy', () => {
  const registry: RegisteredHost[] = [
    { entry: 'trustusbank-bank-agents/model-providers', namespace: 'trustusbank-bank-agents', hosts: ['api.anthropic.com', '*.openai.example'], addresses: [], ports: [443], exportedToAll: false },
    { entry: 'trustusbank-bank-vendors/fx-api', namespace: 'trustusbank-bank-vendors', hosts: ['api.frankfurter.app'], addresses: ['203.0.113.0/24'], ports: [443], exportedToAll: true },
  ];
  const from = (sourceNamespace: string, host: string, port = 443) => egressDecision('REGISTRY_ONLY', registry, { sourceNamespace, host, port });

  it('lets anything through under ALLOW_ANY, as Istio does by default', () => {
    expect(egressDecision('ALLOW_ANY', [], { sourceNamespace: 'x', host: 'attacker.example', port: 80 })).toEqual({ allow: true });
  });

  it.each([
    ['trustusbank-bank-agents', 'api.anthropic.com', 443, 'trustusbank-bank-agents/model-providers'],
    ['trustusbank-bank-agents', 'API.Anthropic.com.', 443, 'trustusbank-bank-agents/model-providers'],
    ['trustusbank-bank-agents', 'eu.openai.example', 443, 'trustusbank-bank-agents/model-providers'],
    ['trustusbank-bank-mcp', 'api.frankfurter.app', 443, 'trustusbank-bank-vendors/fx-api'],
    ['trustusbank-bank-mcp', '203.0.113.9', 443, 'trustusbank-bank-vendors/fx-api'],
  ])('allows %s to %s:%d under REGISTRY_ONLY (%s)', (namespace, host, port, entry) => {
    expect(from(namespace, host, port)).toEqual({ allow: true, entry });
  });

  it.each([
    ['trustusbank-bank-vendors', 'attacker.example', 443, 'not registered'],
    ['trustusbank-bank-vendors', 'api.anthropic.com', 443, 'exported to its own namespace only'],
    ['trustusbank-bank-agents', 'api.anthropic.com', 80, 'another port'],
    ['trustusbank-bank-agents', 'openai.example', 443, 'a wildcard does not match its own apex'],
    ['trustusbank-bank-agents', 'api.anthropic.com.attacker.example', 443, 'a suffix is not the host'],
    ['trustusbank-bank-mcp', '198.51.100.7', 443, 'an address outside the entry'],
  ])('refuses %s to %s:%d under REGISTRY_ONLY (%s)', (namespace, host, port) => {
    const decision = from(namespace, host, port);
    expect(decision.allow).toBe(false);
    expect(decision).toMatchObject({ reason: expect.stringContaining(`outboundTrafficPolicy is REGISTRY_ONLY and no ServiceEntry visible to ${namespace} names it`) });
  });
});
