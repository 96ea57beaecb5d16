import { describe, expect, it } from 'vitest';
import { parseImageReference } from './image-reference.ts';

const DIGEST = `sha256:${'a1'.repeat(32)}`;

describe('parseImageReference', () => {
  it.each([
    ['trustusbank/account-mcp:1.0.0', { repository: 'trustusbank/account-mcp', tag: '1.0.0' }],
    ['acme-fx/currency-converter:1.0.0', { repository: 'acme-fx/currency-converter', tag: '1.0.0' }],
    ['busybox', { repository: 'busybox' }],
    ['localhost:5000/acme-fx/currency-converter', { repository: 'localhost:5000/acme-fx/currency-converter' }],
    ['ghcr.io/org/app:v2_rc.1', { repository: 'ghcr.io/org/app', tag: 'v2_rc.1' }],
    [`trustusbank/account-mcp@${DIGEST}`, { repository: 'trustusbank/account-mcp', digest: DIGEST }],
    [`trustusbank/account-mcp:1.0.0@${DIGEST}`, { repository: 'trustusbank/account-mcp', tag: '1.0.0', digest: DIGEST }],
  ])('reads %s', (value, reference) => {
    expect(parseImageReference(value)).toEqual({ reference });
  });

  it.each([
    ['', 'must not be empty'],
    ['trustusbank/Account-mcp:1.0.0', 'repository names must be lower-case'],
    ['trustusbank/account-mcp:', 'invalid tag ""'],
    ['trustusbank/account-mcp:.1', 'invalid tag ".1"'],
    ['trustusbank/account-mcp@sha256:abc', 'invalid digest "sha256:abc"'],
    [`trustusbank/account-mcp@md5:${'a'.repeat(32)}`, 'expected sha256:'],
    ['trustusbank//account-mcp', 'not a valid image reference'],
    ['trust usbank/account-mcp', 'not a valid image reference'],
  ])('refuses %j', (value, problem) => {
    expect(parseImageReference(value).problem).toContain(problem);
  });
});
