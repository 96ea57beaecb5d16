// Gateway API ReferenceGrant (gateway.networking.k8s.io v1beta1, and v1 from Gateway API v1.5): lets routes in
// other namespaces reference objects in the grant's namespace. Only what HTTPRoute needs is supported: HTTPRoutes
// as the trusted side, Services and AgentgatewayBackends as the referenced side.
import { z } from 'zod';
import { checkedString, kubeObject, supportedValue, type Expect, type SameShape } from '../fields.ts';
import { dns1123LabelProblem, dns1123SubdomainProblem } from '../names.ts';
import { OBJECT_BOOKKEEPING, objectMeta } from '../object-meta.ts';
import type { ReferenceGrant } from '../types.ts';
import { AGENTGATEWAY_GROUP, GATEWAY_API_GROUP } from './http-route.ts';

/** Preferred first: v1beta1 is served by every Gateway API release since v0.6, v1 only from v1.5 on. */
export const REFERENCE_GRANT_API_VERSIONS = ['gateway.networking.k8s.io/v1beta1', 'gateway.networking.k8s.io/v1'] as const;

const from = kubeObject({
  group: z.string(),
  kind: supportedValue(['HTTPRoute'], { what: 'ReferenceGrant from kind', unsupported: ['GRPCRoute', 'TLSRoute', 'TCPRoute', 'UDPRoute'] }),
  namespace: checkedString(dns1123LabelProblem, 'namespace'),
}).superRefine((entry, ctx) => {
  if (entry.group !== GATEWAY_API_GROUP) ctx.addIssue({ code: 'custom', path: ['group'], message: `must be "${GATEWAY_API_GROUP}" for kind ${entry.kind} (got "${entry.group}")` });
});

const to = kubeObject({
  group: z.string(),
  kind: supportedValue(['Service', 'AgentgatewayBackend'], { what: 'ReferenceGrant to kind' }),
  name: checkedString(dns1123SubdomainProblem, 'name').optional(),
}).superRefine((entry, ctx) => {
  // Unlike a backendRef, a grant's group is required: the core group of a Service is written "".
  if (entry.kind === 'Service') {
    if (entry.group !== '') {
      const hint = entry.group === AGENTGATEWAY_GROUP ? ' (set kind: AgentgatewayBackend for an agentgateway backend)' : '';
      ctx.addIssue({ code: 'custom', path: ['group'], message: `must be "" (the core group) for kind Service (got "${entry.group}")${hint}` });
    }
  } else if (entry.group !== AGENTGATEWAY_GROUP) {
    ctx.addIssue({ code: 'custom', path: ['group'], message: `must be "${AGENTGATEWAY_GROUP}" for kind AgentgatewayBackend (got "${entry.group}")` });
  }
});

const referenceGrantSpec = kubeObject({
  from: z.array(from).min(1, { error: 'must list at least one trusted namespace and kind' }),
  to: z.array(to).min(1, { error: 'must list at least one kind that may be referenced' }),
});

export const referenceGrantSchema = kubeObject(
  { apiVersion: z.enum(REFERENCE_GRANT_API_VERSIONS), kind: z.literal('ReferenceGrant'), metadata: objectMeta(dns1123SubdomainProblem), spec: referenceGrantSpec },
  { bookkeeping: OBJECT_BOOKKEEPING },
);

type _ReferenceGrantSchemaMatchesType = Expect<SameShape<z.output<typeof referenceGrantSchema>, ReferenceGrant>>;
