// The one inbound check, as a table: policies (YAML) and a connection in, the decision and the policy that made
// it out, at each kind of HBONE server (the node's inbound listener or a gateway, at L4; a waypoint, per request).
// The attacker's evasions are rows too: a caller named by a spoofable address, an id that is not a workload's.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseManifests } from '../../manifests/index.ts';
import type { AuthorizationPolicy } from '../../manifests/types.ts';
import { AuthorizationPolicyEngine } from './engine.ts';
import { authorizeInbound, callerOf, type InboundPoint, type InboundRequest } from './inbound.ts';

const POLICIES = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: allow-agents-to-gateway, namespace: trustusbank-platform }
spec:
  selector: { matchLabels: { gateway.networking.k8s.io/gateway-name: trustusbank-agentgw } }
  action: ALLOW
  rules: [{ from: [{ source: { principals: [cluster.local/ns/trustusbank-bank-agents/sa/support-bot] } }] }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-attacker, namespace: trustusbank-bank-agents }
spec:
  action: DENY
  rules: [{ from: [{ source: { namespaces: [external-attacker] } }] }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: pods-only, namespace: trustusbank-bank-mcp }
spec:
  action: ALLOW
  rules: [{ from: [{ source: { ipBlocks: [10.244.0.0/16] } }] }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: read-only, namespace: trustusbank-bank-vendors }
spec:
  targetRefs: [{ kind: Service, group: "", name: currency-converter }]
  action: ALLOW
  rules: [{ to: [{ operation: { methods: [GET] } }] }]
`;

function policiesInForce(): AuthorizationPolicyEngine {
  const engine = new AuthorizationPolicyEngine();
  const loaded = parseManifests(POLICIES, 'policies.yaml').map((l) => l.resource as AuthorizationPolicy);
  engine.setPolicies(loaded.map((p) => ({ namespace: p.metadata.namespace!, name: p.metadata.name, spec: p.spec })));
  return engine;
}

const POINTS: Record<string, InboundPoint> = {
  'agent gateway': { kind: 'workload', workload: { namespace: 'trustusbank-platform', labels: { 'gateway.networking.k8s.io/gateway-name': 'trustusbank-agentgw' } } },
  'support-bot waypoint': { kind: 'workload', workload: { namespace: 'trustusbank-bank-agents', labels: { 'gateway.networking.k8s.io/gateway-name': 'support-bot-waypoint' } } },
  'account-mcp pod': { kind: 'workload', workload: { namespace: 'trustusbank-bank-mcp', labels: { app: 'account-mcp' } } },
  'converter GET at the waypoint': {
    kind: 'waypoint',
    targets: [{ kind: 'Service', namespace: 'trustusbank-bank-vendors', name: 'currency-converter' }],
    http: { host: 'currency-converter:8080', method: 'GET', path: '/healthz' },
  },
  'converter POST at the waypoint': {
    kind: 'waypoint',
    targets: [{ kind: 'Service', namespace: 'trustusbank-bank-vendors', name: 'currency-converter' }],
    http: { host: 'currency-converter:8080', method: 'POST', path: '/mcp' },
  },
};

interface Row {
  at: string;
  from: string;
  sourceIp?: string;
  expect: { allowed: boolean; reason: string; policy?: string };
}

const ROWS = parse(`
- { at: agent gateway, from: spiffe://cluster.local/ns/trustusbank-bank-agents/sa/support-bot, expect: { allowed: true, reason: allowed-by-policy, policy: trustusbank-platform/allow-agents-to-gateway } }
- { at: agent gateway, from: spiffe://cluster.local/ns/external-attacker/sa/mock-attacker, expect: { allowed: false, reason: no-allow-policy-matched } }
- { at: support-bot waypoint, from: spiffe://cluster.local/ns/trustusbank-bank-frontend/sa/chatbot, expect: { allowed: true, reason: allow-no-policies } }
- { at: support-bot waypoint, from: spiffe://cluster.local/ns/external-attacker/sa/mock-attacker, expect: { allowed: false, reason: denied-by-policy, policy: trustusbank-bank-agents/deny-attacker } }
- { at: account-mcp pod, from: spiffe://cluster.local/ns/trustusbank-bank-agents/sa/support-bot, sourceIp: 10.244.0.7, expect: { allowed: true, reason: allowed-by-policy, policy: trustusbank-bank-mcp/pods-only } }
# Without a vouched source address (the forwarded header named no pod with this identity) an address rule cannot match.
- { at: account-mcp pod, from: spiffe://cluster.local/ns/trustusbank-bank-agents/sa/support-bot, expect: { allowed: false, reason: no-allow-policy-matched } }
- { at: converter GET at the waypoint, from: spiffe://cluster.local/ns/trustusbank-bank-agents/sa/support-bot, expect: { allowed: true, reason: allowed-by-policy, policy: trustusbank-bank-vendors/read-only } }
- { at: converter POST at the waypoint, from: spiffe://cluster.local/ns/trustusbank-bank-agents/sa/support-bot, expect: { allowed: false, reason: no-allow-policy-matched } }
# Not a workload identity: no namespace or service account to judge, so no policy can allow it.
- { at: support-bot waypoint, from: spiffe://cluster.local/ns/external-attacker, expect: { allowed: false, reason: no-workload-identity } }
- { at: support-bot waypoint, from: cluster.local/ns/trustusbank-bank-agents/sa/triage-bot, expect: { allowed: false, reason: no-workload-identity } }
- { at: agent gateway, from: spiffe://cluster.local/ns/trustusbank-bank-agents/sa/support-bot/../mock-attacker, expect: { allowed: false, reason: no-workload-identity } }
`) as Row[];

describe('the inbound check', () => {
  const policies = policiesInForce();

  it.each(ROWS)('$at ← $from: $expect.reason', (row) => {
    const request: InboundRequest = { peerSpiffeId: row.from, at: POINTS[row.at]!, destination: { ip: '10.244.0.9', port: 8080 }, ...(row.sourceIp ? { sourceIp: row.sourceIp } : {}) };
    const verdict = authorizeInbound(policies, request);
    expect({ allowed: verdict.allowed, reason: verdict.reason, ...(verdict.policy ? { policy: verdict.policy } : {}) }).toEqual(row.expect);
  });

  it('names the policy in the message ztunnel logs', () => {
    const verdict = authorizeInbound(policies, { peerSpiffeId: 'spiffe://cluster.local/ns/external-attacker/sa/mock-attacker', at: POINTS['support-bot waypoint']!, destination: { port: 8080 } });
    expect(verdict.message).toBe('explicitly denied by: trustusbank-bank-agents/deny-attacker');
  });

  it('derives the caller and its Istio principal from the SPIFFE id alone', () => {
    expect(callerOf('spiffe://cluster.local/ns/trustusbank-bank-agents/sa/support-bot')).toEqual({
      spiffeId: 'spiffe://cluster.local/ns/trustusbank-bank-agents/sa/support-bot',
      principal: 'cluster.local/ns/trustusbank-bank-agents/sa/support-bot',
      trustDomain: 'cluster.local',
      namespace: 'trustusbank-bank-agents',
      serviceAccount: 'support-bot',
    });
    expect(callerOf('SPIFFE://cluster.local/ns/a/sa/b')).toBeUndefined();
    expect(callerOf('spiffe://cluster.local/ns/a/sa/b/extra')).toBeUndefined();
  });

  it('judges a new policy set at once: the same request, decided again after a change', () => {
    const engine = policiesInForce();
    const request: InboundRequest = { peerSpiffeId: 'spiffe://cluster.local/ns/trustusbank-bank-frontend/sa/chatbot', at: POINTS['support-bot waypoint']!, destination: { port: 8080 } };
    expect(authorizeInbound(engine, request).allowed).toBe(true);
    engine.setPolicies([{ namespace: 'trustusbank-bank-agents', name: 'deny-chatbot', spec: { action: 'DENY', rules: [{ from: [{ source: { principals: ['cluster.local/ns/trustusbank-bank-frontend/sa/chatbot'] } }] }] } }]);
    expect(authorizeInbound(engine, request)).toMatchObject({ allowed: false, reason: 'denied-by-policy', policy: 'trustusbank-bank-agents/deny-chatbot' });
  });
});
