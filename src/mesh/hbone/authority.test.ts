import { describe, expect, it } from 'vitest';
import { AuthorityError, formatAuthority, parseAuthority } from './authority.ts';

describe(':authority', () => {
  it.each([
    ['10.244.1.5:8080', { host: '10.244.1.5', port: 8080 }],
    ['[fd00::5]:443', { host: 'fd00::5', port: 443 }],
    ['account-mcp.trustusbank-bank-mcp.svc.cluster.local:8080', { host: 'account-mcp.trustusbank-bank-mcp.svc.cluster.local', port: 8080 }],
  ])('parses %s', (authority, expected) => {
    expect(parseAuthority(authority)).toEqual(expected);
    expect(formatAuthority(expected)).toBe(authority);
  });

  it.each(['10.0.0.1', '10.0.0.1:0', '10.0.0.1:65536', ':80', 'fd00::5:80', '[10.0.0.1]:80', 'a b:80', 'host:8o', 'user@host:80', ''])('refuses %j', (authority) => {
    expect(parseAuthority(authority)).toBeInstanceOf(AuthorityError);
  });
});
