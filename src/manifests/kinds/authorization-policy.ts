// Istio AuthorizationPolicy (security.istio.io v1 and v1beta1), with the checks istiod's validation makes.
import { z } from 'zod';
import { checkedString, kubeObject, nonEmptyString, supportedValue, type Expect, type SameShape } from '../fields.ts';
import { dns1123SubdomainProblem } from '../names.ts';
import { OBJECT_BOOKKEEPING, objectMeta } from '../object-meta.ts';
import type { AuthorizationPolicy } from '../types.ts';
import { istioSecurityApiVersion, portStringProblem, workloadSelector } from './istio.ts';

// Istio refuses empty strings in match lists: an empty value would match nothing, or everything, by accident.
const values = z.array(nonEmptyString);
const ports = z.array(checkedString(portStringProblem, 'port'));

/** At least one match list must hold a value: istiod refuses an empty `source` or `operation`. */
function notEmpty(what: string) {
  return (fields: Record<string, string[] | undefined>, ctx: z.RefinementCtx) => {
    if (!Object.values(fields).some((list) => list !== undefined && list.length > 0)) ctx.addIssue({ code: 'custom', message: `must set at least one field: an empty ${what} matches nothing useful` });
  };
}

const source = kubeObject({
  principals: values.optional(),
  notPrincipals: values.optional(),
  requestPrincipals: values.optional(),
  notRequestPrincipals: values.optional(),
  namespaces: values.optional(),
  notNamespaces: values.optional(),
  serviceAccounts: values.optional(),
  notServiceAccounts: values.optional(),
  ipBlocks: values.optional(),
  notIpBlocks: values.optional(),
  remoteIpBlocks: values.optional(),
  notRemoteIpBlocks: values.optional(),
}).superRefine(notEmpty('source'));

const operation = kubeObject({
  hosts: values.optional(),
  notHosts: values.optional(),
  ports: ports.optional(),
  notPorts: ports.optional(),
  methods: values.optional(),
  notMethods: values.optional(),
  paths: values.optional(),
  notPaths: values.optional(),
}).superRefine(notEmpty('operation'));

const condition = kubeObject({ key: nonEmptyString, values: values.optional(), notValues: values.optional() }).superRefine((when, ctx) => {
  if ((when.values?.length ?? 0) === 0 && (when.notValues?.length ?? 0) === 0) {
    ctx.addIssue({ code: 'custom', message: `must set values or notValues for key "${when.key}"` });
  }
});

const rule = kubeObject({
  from: z.array(kubeObject({ source })).min(1, { error: 'must not be empty (leave it out to match any source)' }).optional(),
  to: z.array(kubeObject({ operation })).min(1, { error: 'must not be empty (leave it out to match any operation)' }).optional(),
  when: z.array(condition).min(1, { error: 'must not be empty (leave it out to match unconditionally)' }).optional(),
});

const targetRef = kubeObject({ group: z.string().optional(), kind: nonEmptyString, name: nonEmptyString, namespace: z.string().optional() });

const authorizationPolicySpec = kubeObject({
  selector: workloadSelector.optional(),
  targetRef: targetRef.optional(),
  targetRefs: z.array(targetRef).optional(),
  action: supportedValue(['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'], { what: 'action' }).optional(),
  provider: kubeObject({ name: nonEmptyString }).optional(),
  rules: z.array(rule).optional(),
}).superRefine((spec, ctx) => {
  // A policy attaches to workloads either by label (selector) or to a Gateway/Service (targetRef[s]), not both.
  if (spec.selector !== undefined) {
    for (const field of ['targetRef', 'targetRefs'] as const) {
      if (spec[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: 'cannot be combined with selector: a policy attaches by selector or by target reference, not both' });
    }
  }
  if (spec.targetRef !== undefined && spec.targetRefs !== undefined) ctx.addIssue({ code: 'custom', path: ['targetRefs'], message: 'cannot be combined with targetRef: list every target in targetRefs' });
  const action = authorizationPolicyAction(spec);
  if (action === 'CUSTOM' && spec.provider === undefined) ctx.addIssue({ code: 'custom', path: ['provider'], message: 'is required when action is CUSTOM' });
  if (action !== 'CUSTOM' && spec.provider !== undefined) ctx.addIssue({ code: 'custom', path: ['provider'], message: `is only allowed when action is CUSTOM (action is ${action})` });
});

/** The action a policy takes: Istio's default is ALLOW, so an absent action means ALLOW. */
export function authorizationPolicyAction(spec: { action?: 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM' }): 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM' {
  return spec.action ?? 'ALLOW';
}

export const authorizationPolicySchema = kubeObject(
  {
    apiVersion: istioSecurityApiVersion,
    kind: z.literal('AuthorizationPolicy'),
    metadata: objectMeta(dns1123SubdomainProblem),
    // `spec: {}` is the usual deny-all; istiod treats a missing spec the same way, so it defaults to {}.
    spec: authorizationPolicySpec.default({}),
  },
  { bookkeeping: OBJECT_BOOKKEEPING },
);

type _AuthorizationPolicySchemaMatchesType = Expect<SameShape<z.output<typeof authorizationPolicySchema>, AuthorizationPolicy>>;
