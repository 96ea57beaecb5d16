import { describe, expect, it } from 'vitest';
import { formatSpiffeId, istioPrincipal, parseSpiffeId, spiffeIdFor, SpiffeIdError } from './spiffe-id.ts';

describe('SPIFFE ids', () => {
  it('parses the Istio form into trust domain, namespace and service account', () => {
    expect(parseSpiffeId('spiffe://cluster.local/ns/trustusbank-bank-mcp/sa/account-mcp')).toEqual({
      trustDomain: 'cluster.local',
      namespace: 'trustusbank-bank-mcp',
      serviceAccount: 'account-mcp',
    });
  });

  it('builds ids and the principal form AuthorizationPolicy uses', () => {
    const id = spiffeIdFor('external-attacker', 'default');
    expect(id).toBe('spiffe://cluster.local/ns/external-attacker/sa/default');
    expect(istioPrincipal(id)).toBe('cluster.local/ns/external-attacker/sa/default');
    expect(formatSpiffeId({ trustDomain: 'example.org', namespace: 'a', serviceAccount: 'b' })).toBe('spiffe://example.org/ns/a/sa/b');
  });

  it.each([
    ['empty string', ''],
    ['no scheme', 'cluster.local/ns/a/sa/b'],
    ['other scheme', 'https://cluster.local/ns/a/sa/b'],
    ['uppercase scheme', 'SPIFFE://cluster.local/ns/a/sa/b'],
    ['uppercase trust domain', 'spiffe://Cluster.local/ns/a/sa/b'],
    ['port in trust domain', 'spiffe://cluster.local:8443/ns/a/sa/b'],
    ['userinfo', 'spiffe://user@cluster.local/ns/a/sa/b'],
    ['empty trust domain', 'spiffe:///ns/a/sa/b'],
    ['no path', 'spiffe://cluster.local'],
    ['trailing slash', 'spiffe://cluster.local/ns/a/sa/b/'],
    ['empty segment', 'spiffe://cluster.local/ns//sa/b'],
    ['dot segment', 'spiffe://cluster.local/ns/../sa/b'],
    ['query', 'spiffe://cluster.local/ns/a/sa/b?x=1'],
    ['fragment', 'spiffe://cluster.local/ns/a/sa/b#x'],
    ['percent-encoding', 'spiffe://cluster.local/ns/a%2Fb/sa/c'],
    ['missing service account', 'spiffe://cluster.local/ns/a'],
    ['extra segments', 'spiffe://cluster.local/ns/a/sa/b/extra'],
    ['swapped keywords', 'spiffe://cluster.local/sa/a/ns/b'],
    ['too long', `spiffe://cluster.local/ns/a/sa/${'b'.repeat(2100)}`],
  ])('refuses a malformed id: %s', (_label, id) => {
    const parsed = parseSpiffeId(id);
    expect(parsed).toBeInstanceOf(SpiffeIdError);
    expect((parsed as SpiffeIdError).id).toBe(id);
    expect((parsed as SpiffeIdError).message).toMatch(/^malformed SPIFFE id/);
  });

  it('throws from the builders, which take names the caller already validated', () => {
    expect(() => spiffeIdFor('a/b', 'c')).toThrow(SpiffeIdError);
    expect(() => istioPrincipal('cluster.local/ns/a/sa/b')).toThrow(SpiffeIdError);
  });
});
