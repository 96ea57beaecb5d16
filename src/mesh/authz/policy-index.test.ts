// Which policies apply to which workload, and that the cached answer follows setPolicies.
import { describe, expect, it } from 'vitest';
import { AuthorizationPolicyEngine } from './engine.ts';
import type { ConnectionAttributes, PolicyRef, WorkloadRef } from './types.ts';

const connection: ConnectionAttributes = { source: { principal: 'cluster.local/ns/a/sa/b', ip: '10.0.0.1' }, destination: { port: 80 } };
const denyAll = (namespace: string, name: string, matchLabels?: Record<string, string>): PolicyRef => ({
  namespace,
  name,
  spec: { action: 'DENY', rules: [{}], ...(matchLabels ? { selector: { matchLabels } } : {}) },
});

describe('policies in force for a workload', () => {
  const policies = [
    denyAll('istio-system', 'mesh-wide'),
    denyAll('istio-system', 'mesh-chatbots', { app: 'chatbot' }),
    denyAll('bank', 'namespace-wide'),
    denyAll('bank', 'chatbot-only', { app: 'chatbot' }),
    denyAll('bank', 'v2-chatbot', { app: 'chatbot', version: 'v2' }),
    denyAll('other', 'elsewhere'),
  ];

  it.each<{ labels: Record<string, string>; names: string[] }>([
    { labels: { app: 'chatbot', version: 'v1' }, names: ['bank/chatbot-only', 'bank/namespace-wide', 'istio-system/mesh-chatbots', 'istio-system/mesh-wide'] },
    { labels: { version: 'v2', app: 'chatbot' }, names: ['bank/chatbot-only', 'bank/namespace-wide', 'bank/v2-chatbot', 'istio-system/mesh-chatbots', 'istio-system/mesh-wide'] },
    { labels: {}, names: ['bank/namespace-wide', 'istio-system/mesh-wide'] },
  ])('labels $labels', ({ labels, names }) => {
    const engine = new AuthorizationPolicyEngine();
    engine.setPolicies(policies);
    expect(engine.policiesFor({ namespace: 'bank', labels })).toEqual(names);
  });

  it('does not mix up label sets that share a namespace, in any order of asking', () => {
    const engine = new AuthorizationPolicyEngine();
    engine.setPolicies(policies);
    const workloads: WorkloadRef[] = [
      { namespace: 'bank', labels: { app: 'chatbot', version: 'v2' } },
      { namespace: 'bank', labels: { app: 'ticket-mcp' } },
      { namespace: 'bank', labels: { version: 'v2', app: 'chatbot' } },
      { namespace: 'other', labels: { app: 'chatbot' } },
    ];
    const first = workloads.map((workload) => engine.policiesFor(workload));
    const again = [...workloads].reverse().map((workload) => engine.policiesFor(workload)).reverse();
    expect(again).toEqual(first);
    expect(first[0]).toEqual(first[2]);
    expect(first[1]).toEqual(['bank/namespace-wide', 'istio-system/mesh-wide']);
    expect(first[3]).toEqual(['istio-system/mesh-chatbots', 'istio-system/mesh-wide', 'other/elsewhere']);
  });
});

describe('setPolicies', () => {
  it('replaces every policy, and decisions cached before follow the new set', () => {
    const engine = new AuthorizationPolicyEngine();
    const workload = { namespace: 'bank', labels: { app: 'chatbot' } };
    engine.setPolicies([denyAll('bank', 'first')]);
    expect(engine.evaluate(workload, connection).policy).toBe('bank/first');
    engine.setPolicies([denyAll('bank', 'second')]);
    expect(engine.evaluate(workload, connection).policy).toBe('bank/second');
    expect(engine.policiesFor(workload)).toEqual(['bank/second']);
    engine.setPolicies([]);
    expect(engine.evaluate(workload, connection).reason).toBe('allow-no-policies');
  });

  it('keeps the last of two policies with one name, and says so', () => {
    const engine = new AuthorizationPolicyEngine();
    const warnings = engine.setPolicies([denyAll('bank', 'same'), { namespace: 'bank', name: 'same', spec: { rules: [{}] } }]);
    expect(warnings.map((warning) => [warning.code, warning.policy])).toEqual([['duplicate-policy', 'bank/same']]);
    expect(engine.evaluate({ namespace: 'bank', labels: {} }, connection).reason).toBe('allowed-by-policy');
  });
});
