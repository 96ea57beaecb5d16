import { describe, expect, it } from 'vitest';
import { istioPrincipal, parsePeerIdentity } from './principal.ts';
import { RequestView, normalizePath } from './request-view.ts';

describe('normalizePath', () => {
  it.each([
    { path: '/mcp', normal: '/mcp' },
    { path: '/mcp?x=1#f', normal: '/mcp' },
    { path: '/a/./b', normal: '/a/b' },
    { path: '/a/b/../c', normal: '/a/c' },
    { path: '/a/b/..', normal: '/a/' },
    { path: '/../../etc', normal: '/etc' },
    { path: '/a/%2E%2e/admin', normal: '/admin' },
    { path: '/file.tar.gz', normal: '/file.tar.gz' },
    { path: '/a/..b/c', normal: '/a/..b/c' },
    { path: 'relative/../x', normal: '/x' },
  ])('$path → $normal', ({ path, normal }) => {
    expect(normalizePath(path)).toBe(normal);
  });
});

describe('principals', () => {
  it.each([
    { principal: 'cluster.local/ns/bank/sa/bot', identity: { trustDomain: 'cluster.local', namespace: 'bank', serviceAccount: 'bot' } },
    { principal: 'cluster.local/ns/bank/sa/', identity: undefined },
    { principal: 'cluster.local/ns/bank/bot', identity: undefined },
    { principal: 'cluster.local/ns/bank/sa/bot/extra', identity: undefined },
  ])('$principal', ({ principal, identity }) => {
    expect(parsePeerIdentity(principal)).toEqual(identity);
  });

  it('drops the spiffe scheme and treats an empty principal as none', () => {
    expect(istioPrincipal('spiffe://cluster.local/ns/a/sa/b')).toBe('cluster.local/ns/a/sa/b');
    expect(istioPrincipal('')).toBeUndefined();
    expect(istioPrincipal('spiffe://')).toBeUndefined();
  });
});

describe('RequestView', () => {
  it('derives namespace and service account from the principal only', () => {
    const view = new RequestView({ source: { principal: 'cluster.local/ns/bank/sa/bot' }, destination: { port: 1 } });
    expect([view.sourceNamespace, view.serviceAccount]).toEqual(['bank', 'bank/bot']);
    const plaintext = new RequestView({ source: {}, destination: { port: 1 } });
    expect([plaintext.sourceNamespace, plaintext.serviceAccount]).toEqual([undefined, undefined]);
  });

  it('finds headers whatever their capitalisation', () => {
    const view = new RequestView({ source: {}, destination: { port: 1 }, http: { host: 'h', method: 'GET', path: '/', headers: { 'X-Tenant': 'bank' } } });
    expect(view.header('x-tenant')).toBe('bank');
    expect(view.header('x-other')).toBeUndefined();
  });
});
