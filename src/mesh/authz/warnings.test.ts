// Policies Istio's validation would refuse: the engine warns and fails the affected rule closed.
import { describe, expect, it } from 'vitest';
import type { AuthorizationPolicySpec } from '../../manifests/types.ts';
import { AuthorizationPolicyEngine } from './engine.ts';
import type { ConnectionAttributes, DecisionReason, PolicyWarningCode } from './types.ts';

const NS = 'bank';
const workload = { namespace: NS, labels: { app: 'account-mcp' } };
const connection: ConnectionAttributes = {
  source: { principal: 'cluster.local/ns/agents/sa/support-bot', ip: '10.0.0.1' },
  destination: { ip: '10.0.0.2', port: 8080 },
};

interface Case {
  name: string;
  spec: AuthorizationPolicySpec;
  reason: DecisionReason;
  code: PolicyWarningCode;
  message: string;
}

const cases: Case[] = [
  {
    name: 'ALLOW with a bad CIDR allows nothing (instead of ignoring the CIDR)',
    spec: { rules: [{ from: [{ source: { principals: ['*'], ipBlocks: ['10.0.0.300/8'] } }] }] },
    reason: 'no-allow-policy-matched',
    code: 'invalid-rule',
    message: 'rule 0: bad IP address or CIDR block "10.0.0.300/8" in ipBlocks. Istio\'s validation refuses this; here the rule fails closed: it never matches',
  },
  {
    name: 'DENY with a bad port denies everything in scope',
    spec: { action: 'DENY', rules: [{ to: [{ operation: { ports: ['http'] } }] }] },
    reason: 'denied-by-policy',
    code: 'invalid-rule',
    message: 'bad port "http" in ports',
  },
  {
    name: 'ALLOW with a wildcard service account allows nothing',
    spec: { rules: [{ from: [{ source: { notServiceAccounts: ['agents/*'] } }] }] },
    reason: 'no-allow-policy-matched',
    code: 'invalid-rule',
    message: 'bad service account "agents/*" in notServiceAccounts',
  },
  {
    name: 'an empty source is refused, not read as "any source"',
    spec: { rules: [{ from: [{ source: {} }] }] },
    reason: 'no-allow-policy-matched',
    code: 'invalid-rule',
    message: '`from.source` must not be empty',
  },
  {
    name: 'an empty `from` list is refused',
    spec: { rules: [{ from: [] }] },
    reason: 'no-allow-policy-matched',
    code: 'invalid-rule',
    message: '`from` must not be empty',
  },
  {
    name: 'an empty value is refused',
    spec: { action: 'DENY', rules: [{ from: [{ source: { principals: [''] } }] }] },
    reason: 'denied-by-policy',
    code: 'invalid-rule',
    message: 'empty value in principals',
  },
  {
    name: 'a condition without values is refused',
    spec: { rules: [{ when: [{ key: 'source.ip' }] }] },
    reason: 'no-allow-policy-matched',
    code: 'invalid-rule',
    message: 'at least one of values or notValues must be set for key source.ip',
  },
  {
    name: 'DENY without rules never triggers',
    spec: { action: 'DENY' },
    reason: 'allow-no-policies',
    code: 'ineffective-policy',
    message: 'DENY action without `rules` is meaningless',
  },
  {
    name: 'serviceAccounts beside principals are all required',
    spec: { rules: [{ from: [{ source: { serviceAccounts: ['agents/support-bot'], principals: ['cluster.local/ns/agents/sa/other'] } }] }] },
    reason: 'no-allow-policy-matched',
    code: 'conflicting-source-fields',
    message: 'Istio does not allow serviceAccounts with namespaces or principals in one source',
  },
];

describe('policies Istio would refuse', () => {
  it.each(cases)('$name', ({ spec, reason, code, message }) => {
    const engine = new AuthorizationPolicyEngine();
    const warnings = engine.setPolicies([{ namespace: NS, name: 'p', spec }]);
    expect(engine.evaluate(workload, connection).reason).toBe(reason);
    expect(warnings.map((warning) => warning.code)).toEqual([code]);
    expect(warnings[0]!.policy).toBe(`${NS}/p`);
    expect(warnings[0]!.message).toContain(message);
  });

  it('fails only the broken rule closed; other rules still work', () => {
    const engine = new AuthorizationPolicyEngine();
    engine.setPolicies([
      { namespace: NS, name: 'p', spec: { rules: [{ from: [{ source: { ipBlocks: ['bad'] } }] }, { from: [{ source: { namespaces: ['agents'] } }] }] } },
    ]);
    expect(engine.evaluate(workload, connection).reason).toBe('allowed-by-policy');
  });
});
