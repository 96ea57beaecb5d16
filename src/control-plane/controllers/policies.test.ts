import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { AuthorizationPolicyEngine } from '../../mesh/authz/index.ts';
import { authorizeInbound, type InboundRequest } from '../../mesh/authz/inbound.ts';
import { ResourceStore } from '../store.ts';
import { PolicyController, type PolicySink, type PushedPolicy } from './policies.ts';

const ns = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}`;
const denyAll = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: deny-all
  namespace: bank
spec: {}`;
const svc = `apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: bank\nspec:\n  ports:\n  - port: 80`;

function recordingSink(): PolicySink & { pushes: PushedPolicy[][] } {
  const pushes: PushedPolicy[][] = [];
  return { pushes, setPolicies: (policies) => (pushes.push([...policies]), []) };
}

describe('PolicyController: the store pushes AuthorizationPolicies to the data plane', () => {
  it('pushes the whole set when a policy changes, and only then', () => {
    const store = new ResourceStore({ log: silentLogger });
    store.apply([{ file: 'ns.yaml', text: ns('bank') }]);
    const sink = recordingSink();
    const controller = new PolicyController(store, sink);
    const heard: number[] = [];
    controller.onPush(() => heard.push(controller.pushes));
    expect(sink.pushes).toEqual([[]]);

    store.apply([{ file: 'p.yaml', text: denyAll }]);
    expect(sink.pushes.at(-1)).toEqual([{ namespace: 'bank', name: 'deny-all', spec: {} }]);
    store.apply([{ file: 's.yaml', text: svc }]);
    expect(sink.pushes).toHaveLength(2);
    store.delete([{ file: 'p.yaml', text: denyAll }]);
    expect(sink.pushes.at(-1)).toEqual([]);
    expect(heard).toEqual([2, 3]);
  });

  it('the data plane decides with what was pushed: a deny-all applied in the store refuses the next connection', () => {
    const store = new ResourceStore({ log: silentLogger });
    store.apply([{ file: 'ns.yaml', text: ns('bank') }]);
    const authz = new AuthorizationPolicyEngine();
    new PolicyController(store, authz);
    const check: InboundRequest = {
      peerSpiffeId: 'spiffe://cluster.local/ns/tools/sa/fx',
      at: { kind: 'workload', workload: { namespace: 'bank', labels: { app: 'web' } } },
      destination: { ip: '10.244.0.5', port: 80 },
    };
    expect(authorizeInbound(authz, check).allowed).toBe(true);
    store.apply([{ file: 'p.yaml', text: denyAll }]);
    expect(authorizeInbound(authz, check).allowed).toBe(false);
  });

  it('reports the warnings of the last push in words', () => {
    const store = new ResourceStore({ log: silentLogger });
    store.apply([{ file: 'ns.yaml', text: ns('bank') }]);
    const controller = new PolicyController(store, { setPolicies: (policies) => policies.map((p) => ({ code: 'invalid-rule', policy: `${p.namespace}/${p.name}`, fields: [], message: `${p.name} is odd` })) });
    store.apply([{ file: 'p.yaml', text: denyAll }]);
    expect(controller.warnings).toEqual(['deny-all is odd']);
  });
});
