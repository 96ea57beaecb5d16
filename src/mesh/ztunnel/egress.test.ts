import { describe, expect, it } from 'vitest';
import { isNodeLocalName, nodeLocalReason, normalizeIp } from './egress.ts';

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
