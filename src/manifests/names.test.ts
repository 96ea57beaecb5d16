import { describe, expect, it } from 'vitest';
import {
  dns1035LabelProblem,
  dns1123LabelProblem,
  dns1123SubdomainProblem,
  envVarNameProblem,
  labelValueProblem,
  portNameProblem,
  qualifiedNameProblem,
} from './names.ts';

type Rule = (value: string) => string | undefined;

const cases: { rule: string; check: Rule; valid: string[]; invalid: string[] }[] = [
  {
    rule: 'DNS-1123 label',
    check: dns1123LabelProblem,
    valid: ['a', 'account-mcp', 'trustusbank-bank-mcp', '0abc', 'a'.repeat(63)],
    invalid: ['', 'Account', 'account_mcp', '-a', 'a-', 'a.b', 'a'.repeat(64)],
  },
  {
    rule: 'DNS-1123 subdomain',
    check: dns1123SubdomainProblem,
    valid: ['account-mcp', 'autogen.trustusbank-bank-mcp.account-mcp', '1.2.3', 'a'.repeat(253)],
    invalid: ['', 'a..b', '.a', 'a.', 'A.b', 'a_b', 'a'.repeat(254)],
  },
  {
    rule: 'DNS-1035 label',
    check: dns1035LabelProblem,
    valid: ['account-mcp', 'a1'],
    invalid: ['1account', 'account.mcp', 'Account', 'a'.repeat(64)],
  },
  {
    rule: 'qualified name (label key)',
    check: qualifiedNameProblem,
    valid: ['app', 'app.kubernetes.io/name', 'istio.io/dataplane-mode', 'A_b.c-D', 'x/y'],
    invalid: ['', '/app', 'app/', 'Example.com/app', 'a/b/c', '-app', 'app-', `${'a'.repeat(64)}`, 'has space'],
  },
  {
    rule: 'label value',
    check: labelValueProblem,
    valid: ['', 'account-mcp', 'v1.0_final', 'A', 'a'.repeat(63)],
    invalid: ['-a', 'a-', 'a b', 'a/b', 'a'.repeat(64)],
  },
  {
    rule: 'IANA service name (port name)',
    check: portNameProblem,
    valid: ['http', 'grpc-web', 'h2c', 'a'.repeat(15)],
    invalid: ['8080', 'HTTP', 'http--alt', '-http', 'a'.repeat(16), ''],
  },
  {
    rule: 'environment variable name',
    check: envVarNameProblem,
    valid: ['PORT', 'FX_API_URL', '_x', 'a.b-c'],
    invalid: ['1PORT', 'A=B', 'HAS SPACE', ''],
  },
];

describe.each(cases)('$rule', ({ check, valid, invalid }) => {
  it.each(valid)('accepts %j', (value) => {
    expect(check(value)).toBeUndefined();
  });
  it.each(invalid)('refuses %j', (value) => {
    expect(check(value)).toEqual(expect.any(String));
  });
});
