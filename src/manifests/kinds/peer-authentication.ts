// Istio PeerAuthentication (security.istio.io v1 and v1beta1): whether workloads accept plain text.
import { z } from 'zod';
import { kubeObject, supportedValue, type Expect, type SameShape } from '../fields.ts';
import { dns1123SubdomainProblem } from '../names.ts';
import { OBJECT_BOOKKEEPING, objectMeta } from '../object-meta.ts';
import type { PeerAuthentication } from '../types.ts';
import { istioSecurityApiVersion, portStringProblem, workloadSelector } from './istio.ts';

const mtls = kubeObject({ mode: supportedValue(['STRICT', 'PERMISSIVE', 'DISABLE', 'UNSET'], { what: 'mTLS mode' }).optional() });

const peerAuthenticationSpec = kubeObject({
  selector: workloadSelector.optional(),
  mtls: mtls.optional(),
  portLevelMtls: z.record(z.string(), mtls).optional(),
}).superRefine((spec, ctx) => {
  if (spec.portLevelMtls === undefined) return;
  for (const port of Object.keys(spec.portLevelMtls)) {
    const problem = portStringProblem(port);
    if (problem) ctx.addIssue({ code: 'custom', path: ['portLevelMtls', port], message: `invalid port key ${JSON.stringify(port)}: ${problem}` });
  }
  // As istiod: ports belong to workloads, so a namespace- or mesh-wide policy cannot name them.
  if (spec.selector === undefined) ctx.addIssue({ code: 'custom', path: ['portLevelMtls'], message: 'needs a selector: a namespace-wide or mesh-wide PeerAuthentication cannot set port-level mTLS' });
});

export const peerAuthenticationSchema = kubeObject(
  {
    apiVersion: istioSecurityApiVersion,
    kind: z.literal('PeerAuthentication'),
    metadata: objectMeta(dns1123SubdomainProblem),
    spec: peerAuthenticationSpec.default({}),
  },
  { bookkeeping: OBJECT_BOOKKEEPING },
);

type _PeerAuthenticationSchemaMatchesType = Expect<SameShape<z.output<typeof peerAuthenticationSchema>, PeerAuthentication>>;
