import { describe, expect, it } from 'vitest';
import { SniError, sniForSpiffeId, spiffeIdFromSni } from './sni.ts';

describe('SNI ⇄ SPIFFE id', () => {
  it('writes plain names readably: <sa>.sa.<namespace>.ns.<trust-domain>', () => {
    expect(sniForSpiffeId('spiffe://cluster.local/ns/trustusbank-bank-mcp/sa/account-mcp')).toBe('account-mcp.sa.trustusbank-bank-mcp.ns.cluster.local');
    expect(spiffeIdFromSni('account-mcp.sa.trustusbank-bank-mcp.ns.cluster.local')).toBe('spiffe://cluster.local/ns/trustusbank-bank-mcp/sa/account-mcp');
  });

  it.each([
    'spiffe://cluster.local/ns/default/sa/default',
    'spiffe://cluster.local/ns/a/sa/build.robot', // dots are legal in Kubernetes service account names
    'spiffe://cluster.local/ns/a/sa/Upper_Case',
    'spiffe://cluster.local/ns/x--looks-escaped/sa/b', // a plain name that collides with the escape prefix
    'spiffe://cluster.local/ns/sa/sa/ns', // the marker words as names
    'spiffe://example_org.test/ns/a/sa/b', // underscore in the trust domain
    'spiffe://a.b.c.d/ns/n/sa/s',
    'spiffe://cluster.local/ns/-leading-dash/sa/trailing-dash-',
    'spiffe://cluster.local/ns/123/sa/456',
  ])('round-trips %s, and the name is a valid DNS name', (id) => {
    const name = sniForSpiffeId(id);
    expect(typeof name).toBe('string');
    expect(name as string).toMatch(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/);
    expect(spiffeIdFromSni(name as string)).toBe(id);
    // SNI is case-insensitive on the wire.
    expect(spiffeIdFromSni((name as string).toUpperCase())).toBe(id);
  });

  it('gives different ids different names', () => {
    const ids = ['spiffe://cluster.local/ns/a/sa/b.c', 'spiffe://cluster.local/ns/a/sa/b-c', 'spiffe://cluster.local/ns/a.sa/sa/b', 'spiffe://a.sa/ns/b/sa/c'];
    const names = ids.map((id) => sniForSpiffeId(id));
    expect(new Set(names).size).toBe(ids.length);
  });

  it('refuses what has no SNI form, or is not one of our names', () => {
    expect(sniForSpiffeId('spiffe://cluster.local/ns/a/sa/' + 'b'.repeat(64))).toBeInstanceOf(SniError);
    expect(sniForSpiffeId('not a spiffe id')).toBeInstanceOf(SniError);
    for (const name of [
      'example.com',
      'account-mcp.trustusbank-bank-mcp.cluster.local',
      'a.sa.b.ns', // no trust domain
      'x--!!!.sa.b.ns.cluster.local', // not base32
      'x--mfra.sa.b.ns.cluster.local', // "ab" escaped, but it is a plain label: not the canonical form
    ]) {
      expect(spiffeIdFromSni(name), name).toBeInstanceOf(SniError);
    }
  });
});
