// The mesh layer as shipped (deploy/manifests/policies/mesh/*.yaml, what `policies on` applies), decided the way
// ztunnel decides: the YAML in, one decision per (destination, caller) out. This table covers the platform
// namespace: the agent gateway takes connections from the three agents only, and the agents' waypoints from
// the callers the agents need. (trustusbank-policies.test.ts covers the bank's namespaces from inline specs.)
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseManifests } from '../../manifests/index.ts';
import type { AuthorizationPolicy } from '../../manifests/types.ts';
import { AuthorizationPolicyEngine } from './engine.ts';
import type { WorkloadRef } from './types.ts';

const MESH = join(import.meta.dirname, '..', '..', '..', 'deploy', 'manifests', 'policies', 'mesh');
const policies = readdirSync(MESH)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseManifests(readFileSync(join(MESH, f), 'utf8'), f).map((l) => l.resource))
  // The layer also sets the mesh's egress (a ConfigMap and a ServiceEntry); this table is about its policies.
  .filter((r): r is AuthorizationPolicy => r.kind === 'AuthorizationPolicy');

function engine(): { engine: AuthorizationPolicyEngine; warnings: unknown[] } {
  const e = new AuthorizationPolicyEngine();
  const warnings = e.setPolicies(policies.map((p) => ({ namespace: p.metadata.namespace!, name: p.metadata.name, spec: p.spec })));
  return { engine: e, warnings };
}

// The built-in proxies carry the label their Gateway names (src/control-plane/waypoints.ts).
const DESTINATIONS: Record<string, WorkloadRef> = {
  'agent gateway': { namespace: 'trustusbank-platform', labels: { 'gateway.networking.k8s.io/gateway-name': 'trustusbank-agentgw' } },
  'support-bot waypoint': { namespace: 'trustusbank-bank-agents', labels: { 'gateway.networking.k8s.io/gateway-name': 'support-bot-waypoint' } },
  'another platform workload': { namespace: 'trustusbank-platform', labels: { app: 'something-new' } },
};

const CASES = parse(`
- { to: agent gateway, from: trustusbank-bank-agents/support-bot, expect: allow }
- { to: agent gateway, from: trustusbank-bank-agents/fraud-bot, expect: allow }
- { to: agent gateway, from: trustusbank-bank-agents/triage-bot, expect: allow }
- { to: agent gateway, from: trustusbank-bank-vendors/currency-converter, expect: deny }
- { to: agent gateway, from: external-attacker/mock-attacker, expect: deny }
- { to: agent gateway, from: trustusbank-bank-mcp/transaction-mcp, expect: deny }
- { to: agent gateway, from: trustusbank-bank-frontend/chatbot, expect: deny }
- { to: agent gateway, from: trustusbank-bank-vendors/support-bot, expect: deny }
- { to: agent gateway, from: plaintext, expect: deny }
- { to: support-bot waypoint, from: trustusbank-bank-frontend/chatbot, expect: allow }
- { to: support-bot waypoint, from: trustusbank-platform/trustusbank-agents-ui, expect: allow }
- { to: support-bot waypoint, from: trustusbank-bank-agents/triage-bot, expect: allow }
- { to: support-bot waypoint, from: trustusbank-bank-vendors/currency-converter, expect: deny }
- { to: support-bot waypoint, from: external-attacker/mock-attacker, expect: deny }
- { to: another platform workload, from: trustusbank-bank-agents/support-bot, expect: deny }
`) as { to: string; from: string; expect: 'allow' | 'deny' }[];

describe('the mesh layer in the platform namespace', () => {
  it('loads without warnings', () => {
    expect(engine().warnings).toEqual([]);
  });

  it.each(CASES)('$from → $to: $expect', ({ to, from, expect: expected }) => {
    const [namespace, serviceAccount] = from.split('/');
    const principal = from === 'plaintext' ? undefined : `cluster.local/ns/${namespace}/sa/${serviceAccount}`;
    const decision = engine().engine.evaluate(DESTINATIONS[to]!, { source: { ...(principal ? { principal } : {}), ip: '10.244.3.4' }, destination: { ip: '10.244.9.9', port: 8080 } });
    expect(decision.allowed ? 'allow' : 'deny').toBe(expected);
  });

  it('names the gateway’s policies for status', () => {
    expect(engine().engine.policiesFor(DESTINATIONS['agent gateway']!)).toEqual(['trustusbank-platform/allow-agents-to-gateway', 'trustusbank-platform/default-deny']);
  });
});
