// From applied AuthorizationPolicies to an index ready to decide, plus every warning an operator should see at
// apply time. Policies with targetRefs belong to waypoints (istiod never sends them to ztunnel); all others are
// ztunnel's, scoped by namespace (mesh-wide from the root namespace) and selector.
import type { IstioPolicyTargetReference } from '../../manifests/types.ts';
import { NEVER } from './predicates.ts';
import { httpAtZtunnel } from './assemble.ts';
import { compilePolicy } from './decide.ts';
import { PolicyIndex, targetKey, type TargetedPolicy, type WorkloadScopedPolicy } from './policy-index.ts';
import { describePolicy, policyKey, type PolicyRules } from './policy-rules.ts';
import type { PolicyRef, PolicyTarget, PolicyTargetKind, PolicyWarning } from './types.ts';
import {
  conflictingSourceWarnings,
  customActionWarning,
  duplicatePolicyWarning,
  httpAtZtunnelWarning,
  invalidRuleWarnings,
  selectorWithTargetWarning,
  unsupportedTargetWarning,
  withoutRulesWarning,
} from './warnings.ts';

export interface LoadedPolicies {
  readonly index: PolicyIndex;
  readonly warnings: PolicyWarning[];
}

/** The API group each target kind must belong to (Istio's allowedTargetRefs); "core" is Kubernetes' empty group. */
const TARGET_GROUPS: Readonly<Record<PolicyTargetKind, string>> = {
  Service: 'core',
  ServiceEntry: 'networking.istio.io',
  Gateway: 'gateway.networking.k8s.io',
  GatewayClass: 'gateway.networking.k8s.io',
};

function isTargetKind(kind: string): kind is PolicyTargetKind {
  return Object.hasOwn(TARGET_GROUPS, kind);
}

/** The target a reference binds to, or why it binds to nothing. */
function resolveTarget(reference: IstioPolicyTargetReference, policyNamespace: string, rootNamespace: string): PolicyTarget | string {
  const { kind, name } = reference;
  if (!isTargetKind(kind)) return `targetRefs kind ${kind} is not one of ${Object.keys(TARGET_GROUPS).join(', ')}`;
  // An omitted group is read as the kind's own group (the kinds are unambiguous here); a wrong one is refused.
  if (reference.group !== undefined) {
    const group = reference.group === '' ? 'core' : reference.group;
    if (group !== TARGET_GROUPS[kind]) return `targetRefs ${kind}/${name} has group "${reference.group}", expected ${TARGET_GROUPS[kind]}`;
  }
  if (reference.namespace !== undefined && reference.namespace !== policyNamespace) {
    return `targetRefs ${kind}/${name} names namespace ${reference.namespace}; cross-namespace references are not supported`;
  }
  if (kind === 'GatewayClass' && policyNamespace !== rootNamespace) {
    return `targetRefs GatewayClass/${name} is only honoured from the root namespace ${rootNamespace}`;
  }
  return { kind, namespace: policyNamespace, name };
}

function lint(policy: PolicyRules): PolicyWarning[] {
  const warnings = [...invalidRuleWarnings(policy), ...conflictingSourceWarnings(policy)];
  const withoutRules = withoutRulesWarning(policy);
  if (withoutRules !== undefined) warnings.push(withoutRules);
  if (policy.action === 'CUSTOM') warnings.push(customActionWarning(policy));
  return warnings;
}

export function loadPolicies(refs: readonly PolicyRef[], rootNamespace: string): LoadedPolicies {
  const latest = new Map<string, PolicyRef>();
  const warnings: PolicyWarning[] = [];
  for (const ref of refs) {
    const key = policyKey(ref.namespace, ref.name);
    if (latest.has(key)) warnings.push(duplicatePolicyWarning(describePolicy(ref)));
    latest.set(key, ref);
  }
  const workloadPolicies: WorkloadScopedPolicy[] = [];
  const targetedPolicies: TargetedPolicy[] = [];
  for (const ref of latest.values()) {
    const spec = ref.spec;
    const policy = describePolicy(ref);
    warnings.push(...lint(policy));
    const references = [...(spec.targetRef ? [spec.targetRef] : []), ...(spec.targetRefs ?? [])];
    if (references.length > 0) {
      if (spec.selector !== undefined) warnings.push(selectorWithTargetWarning(policy));
      const targets: string[] = [];
      for (const reference of references) {
        const target = resolveTarget(reference, ref.namespace, rootNamespace);
        if (typeof target === 'string') warnings.push(unsupportedTargetWarning(policy, target));
        else targets.push(targetKey(target));
      }
      targetedPolicies.push({ policy: compilePolicy(policy, 'waypoint'), targets });
      continue;
    }
    const compiled = compilePolicy(policy, 'ztunnel');
    const report = httpAtZtunnel(policy);
    if (report !== undefined) warnings.push(httpAtZtunnelWarning(policy, report, compiled.matches !== NEVER));
    const matchLabels = Object.entries(spec.selector?.matchLabels ?? {});
    workloadPolicies.push({ policy: compiled, namespace: ref.namespace, matchLabels });
  }
  return { index: new PolicyIndex(rootNamespace, workloadPolicies, targetedPolicies), warnings };
}
