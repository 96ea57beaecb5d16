// ztunnel (L4) decisions for Istio's documented AuthorizationPolicy cases, one table per concern.
import { describe, expect, it } from 'vitest';
import type { AuthorizationPolicySpec } from '../../manifests/types.ts';
import { AuthorizationPolicyEngine } from './engine.ts';
import type { ConnectionAttributes, DecisionReason, PolicyRef, WorkloadRef } from './types.ts';

const MCP = 'trustusbank-bank-mcp';
const SUPPORT_BOT = 'cluster.local/ns/trustusbank-bank-agents/sa/support-bot';
const FRAUD_BOT = 'cluster.local/ns/trustusbank-bank-agents/sa/fraud-bot';
const GATEWAY = 'cluster.local/ns/trustusbank-platform/sa/trustusbank-agentgw';
const CONVERTER = 'cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter';

const accountMcp: WorkloadRef = { namespace: MCP, labels: { app: 'account-mcp', version: 'v1' } };

function policy(name: string, spec: AuthorizationPolicySpec, namespace = MCP): PolicyRef {
  return { namespace, name, spec };
}

function from(principal: string | undefined, overrides: { ip?: string; port?: number; destinationIp?: string } = {}): ConnectionAttributes {
  return {
    source: { principal, ip: overrides.ip ?? '10.244.1.7' },
    destination: { ip: overrides.destinationIp ?? '10.244.2.9', port: overrides.port ?? 8080 },
  };
}

interface Case {
  name: string;
  policies: PolicyRef[];
  attributes: ConnectionAttributes;
  workload?: WorkloadRef;
  allowed: boolean;
  reason: DecisionReason;
  policy?: string;
}

function check(cases: Case[]): void {
  it.each(cases)('$name', ({ policies, attributes, workload, allowed, reason, policy: decidedBy }) => {
    const engine = new AuthorizationPolicyEngine();
    engine.setPolicies(policies);
    const decision = engine.evaluate(workload ?? accountMcp, attributes);
    expect({ allowed: decision.allowed, reason: decision.reason, policy: decision.policy }).toEqual({ allowed, reason, policy: decidedBy });
  });
}

const allowAll = policy('allow-all', { rules: [{}] });
const allowNothing = policy('allow-nothing', {});
const denyAll = policy('deny-all', { action: 'DENY', rules: [{}] });

describe('evaluation order', () => {
  check([
    { name: 'no policies: allow', policies: [], attributes: from(SUPPORT_BOT), allowed: true, reason: 'allow-no-policies' },
    { name: 'allow-nothing (spec: {}) denies all', policies: [allowNothing], attributes: from(SUPPORT_BOT), allowed: false, reason: 'no-allow-policy-matched' },
    { name: 'allow-all (rules: [{}]) allows all', policies: [allowAll], attributes: from(undefined), allowed: true, reason: 'allowed-by-policy', policy: `${MCP}/allow-all` },
    { name: 'deny-all (DENY, rules: [{}]) denies all', policies: [denyAll], attributes: from(SUPPORT_BOT), allowed: false, reason: 'denied-by-policy', policy: `${MCP}/deny-all` },
    { name: 'DENY is evaluated before ALLOW', policies: [allowAll, denyAll], attributes: from(SUPPORT_BOT), allowed: false, reason: 'denied-by-policy', policy: `${MCP}/deny-all` },
    {
      name: 'a DENY that does not match leaves no ALLOW policy: allow',
      policies: [policy('deny-converter', { action: 'DENY', rules: [{ from: [{ source: { principals: [CONVERTER] } }] }] })],
      attributes: from(SUPPORT_BOT),
      allowed: true,
      reason: 'allow-no-policies',
    },
    {
      name: 'ALLOW policies exist but none matches: deny',
      policies: [policy('agents-only', { rules: [{ from: [{ source: { principals: [FRAUD_BOT] } }] }] })],
      attributes: from(SUPPORT_BOT),
      allowed: false,
      reason: 'no-allow-policy-matched',
    },
    {
      name: 'any one matching ALLOW policy allows',
      policies: [allowNothing, policy('support', { rules: [{ from: [{ source: { principals: [SUPPORT_BOT] } }] }] })],
      attributes: from(SUPPORT_BOT),
      allowed: true,
      reason: 'allowed-by-policy',
      policy: `${MCP}/support`,
    },
    {
      name: 'a DENY with explicit empty rules never matches',
      policies: [policy('deny-nothing', { action: 'DENY', rules: [] })],
      attributes: from(SUPPORT_BOT),
      allowed: true,
      reason: 'allow-no-policies',
    },
  ]);

  it('words its messages as ztunnel does', () => {
    const engine = new AuthorizationPolicyEngine();
    engine.setPolicies([denyAll]);
    expect(engine.evaluate(accountMcp, from(SUPPORT_BOT)).message).toBe(`explicitly denied by: ${MCP}/deny-all`);
    engine.setPolicies([allowNothing]);
    expect(engine.evaluate(accountMcp, from(SUPPORT_BOT)).message).toBe('allow policies exist, but none allowed');
  });
});

describe('rule structure: rules OR, from/to/when AND, entries OR, fields AND, values OR', () => {
  const twoRules = policy('two-rules', {
    rules: [{ from: [{ source: { principals: [SUPPORT_BOT] } }] }, { from: [{ source: { principals: [FRAUD_BOT] } }] }],
  });
  const fromAndTo = policy('from-and-to', { rules: [{ from: [{ source: { principals: [SUPPORT_BOT] } }], to: [{ operation: { ports: ['8080'] } }] }] });
  const twoSources = policy('two-sources', {
    rules: [{ from: [{ source: { principals: [SUPPORT_BOT] } }, { source: { namespaces: ['trustusbank-platform'] } }] }],
  });
  const fieldsAnd = policy('fields-and', {
    rules: [{ from: [{ source: { namespaces: ['trustusbank-bank-agents'], ipBlocks: ['10.244.1.0/24'] } }] }],
  });
  check([
    { name: 'second rule matches', policies: [twoRules], attributes: from(FRAUD_BOT), allowed: true, reason: 'allowed-by-policy', policy: `${MCP}/two-rules` },
    { name: 'from and to both hold', policies: [fromAndTo], attributes: from(SUPPORT_BOT), allowed: true, reason: 'allowed-by-policy', policy: `${MCP}/from-and-to` },
    { name: 'from holds but to does not', policies: [fromAndTo], attributes: from(SUPPORT_BOT, { port: 9090 }), allowed: false, reason: 'no-allow-policy-matched' },
    { name: 'second from entry matches', policies: [twoSources], attributes: from(GATEWAY), allowed: true, reason: 'allowed-by-policy', policy: `${MCP}/two-sources` },
    { name: 'all fields of a source hold', policies: [fieldsAnd], attributes: from(SUPPORT_BOT), allowed: true, reason: 'allowed-by-policy', policy: `${MCP}/fields-and` },
    { name: 'one field of a source fails', policies: [fieldsAnd], attributes: from(SUPPORT_BOT, { ip: '10.244.9.7' }), allowed: false, reason: 'no-allow-policy-matched' },
  ]);
});

describe('source matching', () => {
  const allowFrom = (name: string, source: Record<string, string[]>) => [policy(name, { rules: [{ from: [{ source }] }] })];
  const allowed = (name: string) => ({ allowed: true, reason: 'allowed-by-policy' as const, policy: `${MCP}/${name}` });
  const refused = { allowed: false, reason: 'no-allow-policy-matched' as const };
  check([
    { name: 'principals: exact match', policies: allowFrom('p', { principals: [SUPPORT_BOT] }), attributes: from(SUPPORT_BOT), ...allowed('p') },
    { name: 'principals: other principal', policies: allowFrom('p', { principals: [SUPPORT_BOT] }), attributes: from(FRAUD_BOT), ...refused },
    { name: 'principals: spiffe:// form is read as the same principal', policies: allowFrom('p', { principals: [SUPPORT_BOT] }), attributes: from(`spiffe://${SUPPORT_BOT}`), ...allowed('p') },
    { name: 'principals: plaintext source never matches', policies: allowFrom('p', { principals: [SUPPORT_BOT] }), attributes: from(undefined), ...refused },
    { name: 'principals: "*" is any authenticated peer', policies: allowFrom('p', { principals: ['*'] }), attributes: from(CONVERTER), ...allowed('p') },
    { name: 'principals: "*" refuses plaintext', policies: allowFrom('p', { principals: ['*'] }), attributes: from(undefined), ...refused },
    { name: 'principals: prefix', policies: allowFrom('p', { principals: ['cluster.local/ns/trustusbank-bank-agents/*'] }), attributes: from(FRAUD_BOT), ...allowed('p') },
    { name: 'principals: suffix', policies: allowFrom('p', { principals: ['*/sa/support-bot'] }), attributes: from(SUPPORT_BOT), ...allowed('p') },
    { name: 'principals: suffix does not match others', policies: allowFrom('p', { principals: ['*/sa/support-bot'] }), attributes: from(FRAUD_BOT), ...refused },
    { name: 'notPrincipals: listed principal refused', policies: allowFrom('np', { notPrincipals: [CONVERTER] }), attributes: from(CONVERTER), ...refused },
    { name: 'notPrincipals: others allowed', policies: allowFrom('np', { notPrincipals: [CONVERTER] }), attributes: from(SUPPORT_BOT), ...allowed('np') },
    { name: 'notPrincipals: plaintext matches (no principal to exclude)', policies: allowFrom('np', { notPrincipals: [CONVERTER] }), attributes: from(undefined), ...allowed('np') },
    { name: 'namespaces: exact', policies: allowFrom('n', { namespaces: ['trustusbank-bank-agents'] }), attributes: from(SUPPORT_BOT), ...allowed('n') },
    { name: 'namespaces: prefix matches trustusbank-bank-mcp', policies: allowFrom('n', { namespaces: ['trustusbank-bank-*'] }), attributes: from('cluster.local/ns/trustusbank-bank-mcp/sa/x'), ...allowed('n') },
    { name: 'namespaces: prefix refuses trustusbank-platform', policies: allowFrom('n', { namespaces: ['trustusbank-bank-*'] }), attributes: from(GATEWAY), ...refused },
    { name: 'namespaces: suffix matches', policies: allowFrom('n', { namespaces: ['*-vendors'] }), attributes: from(CONVERTER), ...allowed('n') },
    { name: 'namespaces: suffix refuses', policies: allowFrom('n', { namespaces: ['*-vendors'] }), attributes: from(SUPPORT_BOT), ...refused },
    { name: 'namespaces: plaintext has no namespace', policies: allowFrom('n', { namespaces: ['*'] }), attributes: from(undefined), ...refused },
    { name: 'notNamespaces: listed refused', policies: allowFrom('nn', { notNamespaces: ['trustusbank-bank-vendors'] }), attributes: from(CONVERTER), ...refused },
    { name: 'notNamespaces: others allowed', policies: allowFrom('nn', { notNamespaces: ['trustusbank-bank-vendors'] }), attributes: from(SUPPORT_BOT), ...allowed('nn') },
    { name: 'notNamespaces: plaintext matches', policies: allowFrom('nn', { notNamespaces: ['trustusbank-bank-vendors'] }), attributes: from(undefined), ...allowed('nn') },
    { name: 'serviceAccounts: <ns>/<sa>', policies: allowFrom('sa', { serviceAccounts: ['trustusbank-bank-agents/support-bot'] }), attributes: from(SUPPORT_BOT), ...allowed('sa') },
    { name: 'serviceAccounts: other account', policies: allowFrom('sa', { serviceAccounts: ['trustusbank-bank-agents/support-bot'] }), attributes: from(FRAUD_BOT), ...refused },
    { name: 'serviceAccounts: bare name means the policy namespace', policies: allowFrom('sa', { serviceAccounts: ['account-reader'] }), attributes: from(`cluster.local/ns/${MCP}/sa/account-reader`), ...allowed('sa') },
    { name: 'serviceAccounts: bare name in another namespace', policies: allowFrom('sa', { serviceAccounts: ['support-bot'] }), attributes: from(SUPPORT_BOT), ...refused },
    { name: 'serviceAccounts: trust domain is not compared', policies: allowFrom('sa', { serviceAccounts: ['trustusbank-bank-agents/support-bot'] }), attributes: from('other.domain/ns/trustusbank-bank-agents/sa/support-bot'), ...allowed('sa') },
    { name: 'serviceAccounts: plaintext never matches', policies: allowFrom('sa', { serviceAccounts: ['trustusbank-bank-agents/support-bot'] }), attributes: from(undefined), ...refused },
    { name: 'notServiceAccounts: listed refused', policies: allowFrom('nsa', { notServiceAccounts: ['trustusbank-bank-vendors/currency-converter'] }), attributes: from(CONVERTER), ...refused },
    { name: 'notServiceAccounts: others allowed', policies: allowFrom('nsa', { notServiceAccounts: ['trustusbank-bank-vendors/currency-converter'] }), attributes: from(FRAUD_BOT), ...allowed('nsa') },
    { name: 'ipBlocks: inside a CIDR', policies: allowFrom('ip', { ipBlocks: ['10.244.1.0/24'] }), attributes: from(undefined, { ip: '10.244.1.200' }), ...allowed('ip') },
    { name: 'ipBlocks: outside the CIDR', policies: allowFrom('ip', { ipBlocks: ['10.244.1.0/24'] }), attributes: from(undefined, { ip: '10.244.2.1' }), ...refused },
    { name: 'ipBlocks: single address', policies: allowFrom('ip', { ipBlocks: ['10.244.1.7'] }), attributes: from(undefined, { ip: '10.244.1.7' }), ...allowed('ip') },
    { name: 'ipBlocks: IPv4-mapped IPv6 peer counts as IPv4', policies: allowFrom('ip', { ipBlocks: ['127.0.0.0/8'] }), attributes: from(undefined, { ip: '::ffff:127.0.0.1' }), ...allowed('ip') },
    { name: 'ipBlocks: IPv6 CIDR', policies: allowFrom('ip', { ipBlocks: ['fd00:10:244::/48'] }), attributes: from(undefined, { ip: 'fd00:10:244:1::7' }), ...allowed('ip') },
    { name: 'ipBlocks: IPv6 outside', policies: allowFrom('ip', { ipBlocks: ['fd00:10:244::/48'] }), attributes: from(undefined, { ip: 'fd00:10:245::7' }), ...refused },
    { name: 'ipBlocks: an IPv4 block never holds an IPv6 peer', policies: allowFrom('ip', { ipBlocks: ['0.0.0.0/0'] }), attributes: from(undefined, { ip: '::1' }), ...refused },
    { name: 'notIpBlocks: inside refused', policies: allowFrom('nip', { notIpBlocks: ['10.244.1.0/24'] }), attributes: from(SUPPORT_BOT), ...refused },
    { name: 'notIpBlocks: outside allowed', policies: allowFrom('nip', { notIpBlocks: ['10.244.1.0/24'] }), attributes: from(SUPPORT_BOT, { ip: '192.168.1.1' }), ...allowed('nip') },
  ]);
});

describe('operation and conditions at L4', () => {
  const allowTo = (operation: Record<string, string[]>) => [policy('op', { rules: [{ to: [{ operation }] }] })];
  const allowWhen = (key: string, values: { values?: string[]; notValues?: string[] }) => [policy('when', { rules: [{ when: [{ key, ...values }] }] })];
  const allowedOp = { allowed: true, reason: 'allowed-by-policy' as const, policy: `${MCP}/op` };
  const allowedWhen = { allowed: true, reason: 'allowed-by-policy' as const, policy: `${MCP}/when` };
  const refused = { allowed: false, reason: 'no-allow-policy-matched' as const };
  check([
    { name: 'ports: listed port', policies: allowTo({ ports: ['8080', '9090'] }), attributes: from(SUPPORT_BOT, { port: 9090 }), ...allowedOp },
    { name: 'ports: unlisted port', policies: allowTo({ ports: ['8080'] }), attributes: from(SUPPORT_BOT, { port: 15000 }), ...refused },
    { name: 'notPorts: listed port refused', policies: allowTo({ notPorts: ['15000'] }), attributes: from(SUPPORT_BOT, { port: 15000 }), ...refused },
    { name: 'notPorts: other port allowed', policies: allowTo({ notPorts: ['15000'] }), attributes: from(SUPPORT_BOT), ...allowedOp },
    { name: 'when source.ip', policies: allowWhen('source.ip', { values: ['10.244.1.0/24'] }), attributes: from(undefined), ...allowedWhen },
    { name: 'when source.ip notValues', policies: allowWhen('source.ip', { notValues: ['10.244.1.0/24'] }), attributes: from(undefined), ...refused },
    { name: 'when source.namespace prefix', policies: allowWhen('source.namespace', { values: ['trustusbank-bank-*'] }), attributes: from(SUPPORT_BOT), ...allowedWhen },
    { name: 'when source.namespace refuses', policies: allowWhen('source.namespace', { values: ['trustusbank-bank-*'] }), attributes: from(GATEWAY), ...refused },
    { name: 'when source.principal', policies: allowWhen('source.principal', { values: [GATEWAY] }), attributes: from(GATEWAY), ...allowedWhen },
    { name: 'when source.principal notValues', policies: allowWhen('source.principal', { notValues: [GATEWAY] }), attributes: from(GATEWAY), ...refused },
    { name: 'when destination.ip', policies: allowWhen('destination.ip', { values: ['10.244.2.0/24'] }), attributes: from(SUPPORT_BOT), ...allowedWhen },
    { name: 'when destination.ip refuses', policies: allowWhen('destination.ip', { values: ['10.244.3.0/24'] }), attributes: from(SUPPORT_BOT), ...refused },
    { name: 'when destination.port', policies: allowWhen('destination.port', { values: ['8080'] }), attributes: from(SUPPORT_BOT), ...allowedWhen },
    { name: 'when values and notValues both hold', policies: allowWhen('destination.port', { values: ['8080', '9090'], notValues: ['9090'] }), attributes: from(SUPPORT_BOT, { port: 9090 }), ...refused },
  ]);
});

describe('where a policy applies', () => {
  const denyAllIn = (namespace: string, spec: Partial<AuthorizationPolicySpec> = {}) =>
    policy(`deny-all-${namespace}`, { action: 'DENY', rules: [{}], ...spec }, namespace);
  const denied = (namespace: string) => ({ allowed: false, reason: 'denied-by-policy' as const, policy: `${namespace}/deny-all-${namespace}` });
  const untouched = { allowed: true, reason: 'allow-no-policies' as const };
  check([
    { name: 'selector matching the workload', policies: [denyAllIn(MCP, { selector: { matchLabels: { app: 'account-mcp' } } })], attributes: from(SUPPORT_BOT), ...denied(MCP) },
    { name: 'selector is a subset of the labels', policies: [denyAllIn(MCP, { selector: { matchLabels: { app: 'account-mcp', version: 'v1' } } })], attributes: from(SUPPORT_BOT), ...denied(MCP) },
    { name: 'selector not matching the workload', policies: [denyAllIn(MCP, { selector: { matchLabels: { app: 'ticket-mcp' } } })], attributes: from(SUPPORT_BOT), ...untouched },
    { name: 'selector with a label the workload lacks', policies: [denyAllIn(MCP, { selector: { matchLabels: { app: 'account-mcp', tier: 'gold' } } })], attributes: from(SUPPORT_BOT), ...untouched },
    { name: 'no selector: the whole namespace', policies: [denyAllIn(MCP)], attributes: from(SUPPORT_BOT), ...denied(MCP) },
    { name: 'a policy in another namespace does not apply', policies: [denyAllIn('trustusbank-bank-agents')], attributes: from(SUPPORT_BOT), ...untouched },
    { name: 'root namespace without selector: mesh-wide', policies: [denyAllIn('istio-system')], attributes: from(SUPPORT_BOT), ...denied('istio-system') },
    { name: 'root namespace selector applies in every namespace', policies: [denyAllIn('istio-system', { selector: { matchLabels: { app: 'account-mcp' } } })], attributes: from(SUPPORT_BOT), ...denied('istio-system') },
    { name: 'root namespace selector not matching', policies: [denyAllIn('istio-system', { selector: { matchLabels: { app: 'chatbot' } } })], attributes: from(SUPPORT_BOT), ...untouched },
    {
      name: 'targetRefs policies are not enforced by ztunnel',
      policies: [denyAllIn(MCP, { targetRefs: [{ kind: 'Service', name: 'account-mcp' }] })],
      attributes: from(SUPPORT_BOT),
      ...untouched,
    },
  ]);

  it('honours a configured root namespace', () => {
    const engine = new AuthorizationPolicyEngine({ rootNamespace: 'trustusbank-platform' });
    engine.setPolicies([denyAllIn('trustusbank-platform'), denyAllIn('istio-system')]);
    expect(engine.evaluate(accountMcp, from(SUPPORT_BOT)).policy).toBe('trustusbank-platform/deny-all-trustusbank-platform');
    expect(engine.policiesFor(accountMcp)).toEqual(['trustusbank-platform/deny-all-trustusbank-platform']);
  });
});

describe('AUDIT and CUSTOM', () => {
  const auditAgents = policy('audit-agents', { action: 'AUDIT', rules: [{ from: [{ source: { namespaces: ['trustusbank-bank-agents'] } }] }] });
  const custom = policy('ext-authz', { action: 'CUSTOM', provider: { name: 'opa' }, rules: [{ from: [{ source: { namespaces: ['trustusbank-bank-vendors'] } }] }] });

  it.each([
    { name: 'alone, it allows and records', policies: [auditAgents], allowed: true, reason: 'allow-no-policies', audited: [`${MCP}/audit-agents`] },
    { name: 'with allow-nothing, it still denies', policies: [auditAgents, allowNothing], allowed: false, reason: 'no-allow-policy-matched', audited: [`${MCP}/audit-agents`] },
    { name: 'with deny-all, it is recorded on the denial', policies: [auditAgents, denyAll], allowed: false, reason: 'denied-by-policy', audited: [`${MCP}/audit-agents`] },
  ])('AUDIT never changes a decision: $name', ({ policies, allowed, reason, audited }) => {
    const engine = new AuthorizationPolicyEngine();
    engine.setPolicies(policies);
    const decision = engine.evaluate(accountMcp, from(SUPPORT_BOT));
    expect({ allowed: decision.allowed, reason: decision.reason, audited: decision.audited }).toEqual({ allowed, reason, audited });
  });

  it('does not record an AUDIT policy that does not match', () => {
    const engine = new AuthorizationPolicyEngine();
    engine.setPolicies([auditAgents]);
    expect(engine.evaluate(accountMcp, from(CONVERTER)).audited).toEqual([]);
  });

  check([
    { name: 'a matching CUSTOM policy denies (fail closed)', policies: [custom, allowAll], attributes: from(CONVERTER), allowed: false, reason: 'denied-by-custom', policy: `${MCP}/ext-authz` },
    { name: 'CUSTOM is evaluated before DENY', policies: [custom, policy('deny-vendors', { action: 'DENY', rules: [{}] })], attributes: from(CONVERTER), allowed: false, reason: 'denied-by-custom', policy: `${MCP}/ext-authz` },
    { name: 'a CUSTOM policy that does not match is not an ALLOW policy', policies: [custom], attributes: from(SUPPORT_BOT), allowed: true, reason: 'allow-no-policies' },
  ]);

  it('says why CUSTOM denied', () => {
    const engine = new AuthorizationPolicyEngine();
    const warnings = engine.setPolicies([custom]);
    expect(engine.evaluate(accountMcp, from(CONVERTER)).message).toBe(
      `explicitly denied by: ${MCP}/ext-authz (CUSTOM action, provider "opa" unavailable: failing closed)`,
    );
    expect(warnings.map((warning) => warning.code)).toEqual(['custom-action-fails-closed']);
    expect(warnings[0]!.message).toContain('denied (fail closed)');
  });
});
