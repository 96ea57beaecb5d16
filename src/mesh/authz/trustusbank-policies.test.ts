// The demo's own mesh policies (as in deploy/manifests/policies/mesh/), decided the way ztunnel would.
import { describe, expect, it } from 'vitest';
import { AuthorizationPolicyEngine } from './engine.ts';
import type { ConnectionAttributes, DecisionReason, PolicyRef, WorkloadRef } from './types.ts';

const agent = (name: string) => `cluster.local/ns/trustusbank-bank-agents/sa/${name}`;
const GATEWAY = 'cluster.local/ns/trustusbank-platform/sa/trustusbank-agentgw';
const CONVERTER = 'cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter';

const denyBankToAttacker: PolicyRef = {
  namespace: 'external-attacker',
  name: 'deny-bank-to-attacker',
  spec: { action: 'DENY', rules: [{ from: [{ source: { namespaces: ['trustusbank-bank-*', 'trustusbank-platform'] } }] }] },
};

const defaultDeny = (namespace: string): PolicyRef => ({ namespace, name: 'default-deny', spec: {} });

const allowAgentsToMcp: PolicyRef = {
  namespace: 'trustusbank-bank-mcp',
  name: 'allow-agents-to-mcp',
  spec: {
    action: 'ALLOW',
    rules: [{ from: [{ source: { principals: [agent('support-bot'), agent('fraud-bot'), agent('triage-bot'), GATEWAY] } }] }],
  },
};

const allowGatewayToVendor: PolicyRef = {
  namespace: 'trustusbank-bank-vendors',
  name: 'allow-gw-to-vendor',
  spec: { action: 'ALLOW', rules: [{ from: [{ source: { principals: [GATEWAY] } }] }] },
};

const attacker: WorkloadRef = { namespace: 'external-attacker', labels: { app: 'mock-attacker' } };
const accountMcp: WorkloadRef = { namespace: 'trustusbank-bank-mcp', labels: { app: 'account-mcp' } };
const converter: WorkloadRef = { namespace: 'trustusbank-bank-vendors', labels: { app: 'currency-converter' } };

function from(principal: string | undefined): ConnectionAttributes {
  return { source: { principal, ip: '10.244.3.4' }, destination: { ip: '10.244.9.9', port: 18011 } };
}

function engineWithDemoPolicies(): { engine: AuthorizationPolicyEngine; warnings: unknown[] } {
  const engine = new AuthorizationPolicyEngine();
  const warnings = engine.setPolicies([
    denyBankToAttacker,
    defaultDeny('trustusbank-bank-mcp'),
    defaultDeny('trustusbank-bank-agents'),
    defaultDeny('trustusbank-bank-vendors'),
    allowAgentsToMcp,
    allowGatewayToVendor,
  ]);
  return { engine, warnings };
}

describe('TrustUsBank mesh policies', () => {
  it('load without warnings', () => {
    expect(engineWithDemoPolicies().warnings).toEqual([]);
  });

  it.each([
    { name: 'the rug-pulled converter cannot reach the attacker', workload: attacker, principal: CONVERTER, allowed: false, reason: 'denied-by-policy', message: 'explicitly denied by: external-attacker/deny-bank-to-attacker' },
    { name: 'nor can a bank agent', workload: attacker, principal: agent('support-bot'), allowed: false, reason: 'denied-by-policy', message: 'explicitly denied by: external-attacker/deny-bank-to-attacker' },
    { name: 'nor the platform gateway', workload: attacker, principal: GATEWAY, allowed: false, reason: 'denied-by-policy', message: 'explicitly denied by: external-attacker/deny-bank-to-attacker' },
    { name: 'a workload from default may reach the attacker', workload: attacker, principal: 'cluster.local/ns/default/sa/default', allowed: true, reason: 'allow-no-policies', message: 'no allow policies, allow' },
    // A namespace is proven only by a certificate: a plaintext peer has none, so a namespace-based DENY cannot match it.
    { name: 'a plaintext peer is not matched by a namespace DENY', workload: attacker, principal: undefined, allowed: true, reason: 'allow-no-policies', message: 'no allow policies, allow' },
    { name: 'the support bot may call account-mcp', workload: accountMcp, principal: agent('support-bot'), allowed: true, reason: 'allowed-by-policy', message: 'allowed by: trustusbank-bank-mcp/allow-agents-to-mcp' },
    { name: 'the MCP gateway may call account-mcp', workload: accountMcp, principal: GATEWAY, allowed: true, reason: 'allowed-by-policy', message: 'allowed by: trustusbank-bank-mcp/allow-agents-to-mcp' },
    { name: 'the converter may not call account-mcp', workload: accountMcp, principal: CONVERTER, allowed: false, reason: 'no-allow-policy-matched', message: 'allow policies exist, but none allowed' },
    { name: 'plaintext may not call account-mcp', workload: accountMcp, principal: undefined, allowed: false, reason: 'no-allow-policy-matched', message: 'allow policies exist, but none allowed' },
    { name: 'only the gateway may call the converter', workload: converter, principal: GATEWAY, allowed: true, reason: 'allowed-by-policy', message: 'allowed by: trustusbank-bank-vendors/allow-gw-to-vendor' },
    { name: 'an agent may not call the converter directly', workload: converter, principal: agent('fraud-bot'), allowed: false, reason: 'no-allow-policy-matched', message: 'allow policies exist, but none allowed' },
  ] as { name: string; workload: WorkloadRef; principal?: string; allowed: boolean; reason: DecisionReason; message: string }[])(
    '$name',
    ({ workload, principal, allowed, reason, message }) => {
      const decision = engineWithDemoPolicies().engine.evaluate(workload, from(principal));
      expect({ allowed: decision.allowed, reason: decision.reason, message: decision.message }).toEqual({ allowed, reason, message });
    },
  );

  it('lists the policies in force for status', () => {
    const { engine } = engineWithDemoPolicies();
    expect(engine.policiesFor(accountMcp)).toEqual(['trustusbank-bank-mcp/allow-agents-to-mcp', 'trustusbank-bank-mcp/default-deny']);
    expect(engine.policiesFor(attacker)).toEqual(['external-attacker/deny-bank-to-attacker']);
    expect(engine.policiesFor({ namespace: 'trustusbank-bank-frontend', labels: { app: 'chatbot' } })).toEqual([]);
  });
});
