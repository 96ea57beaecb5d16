// Istio's evaluation order (https://istio.io/latest/docs/reference/config/security/authorization-policy/):
// CUSTOM, then DENY, then "no ALLOW policy → allow", then "any ALLOW matches → allow", else deny. AUDIT only
// records. The messages are ztunnel's (AuthorizationRejectionError in src/proxy.rs) so access logs read the same.
import { assemblePolicy, type EnforcementPoint } from './assemble.ts';
import type { PolicyAction, PolicyRules } from './policy-rules.ts';
import type { Predicate } from './predicates.ts';
import type { RequestView } from './request-view.ts';
import type { Decision } from './types.ts';

export interface CompiledPolicy {
  readonly key: string;
  readonly action: PolicyAction;
  readonly matches: Predicate;
  /** The decision this policy makes when it matches, built once (AUDIT policies never decide). */
  readonly decision: Decision;
}

/** The policies in force at one enforcement point, by action, each list sorted by `<namespace>/<name>`. */
export interface ApplicablePolicies {
  readonly custom: readonly CompiledPolicy[];
  readonly deny: readonly CompiledPolicy[];
  readonly allow: readonly CompiledPolicy[];
  readonly audit: readonly CompiledPolicy[];
}

const NO_AUDITS: readonly string[] = Object.freeze([]);

const ALLOWED_WITHOUT_POLICIES: Decision = Object.freeze({
  allowed: true,
  reason: 'allow-no-policies',
  message: 'no allow policies, allow',
  audited: NO_AUDITS,
});

const NONE_ALLOWED: Decision = Object.freeze({
  allowed: false,
  reason: 'no-allow-policy-matched',
  message: 'allow policies exist, but none allowed',
  audited: NO_AUDITS,
});

export const NO_POLICIES: ApplicablePolicies = Object.freeze({ custom: [], deny: [], allow: [], audit: [] });

function decisionOf(policy: PolicyRules): Decision {
  switch (policy.action) {
    case 'ALLOW':
    case 'AUDIT':
      return Object.freeze({ allowed: true, reason: 'allowed-by-policy', policy: policy.key, message: `allowed by: ${policy.key}`, audited: NO_AUDITS });
    case 'DENY':
      return Object.freeze({ allowed: false, reason: 'denied-by-policy', policy: policy.key, message: `explicitly denied by: ${policy.key}`, audited: NO_AUDITS });
    case 'CUSTOM': {
      const provider = policy.provider === undefined ? 'none named' : `"${policy.provider}"`;
      const message = `explicitly denied by: ${policy.key} (CUSTOM action, provider ${provider} unavailable: failing closed)`;
      return Object.freeze({ allowed: false, reason: 'denied-by-custom', policy: policy.key, message, audited: NO_AUDITS });
    }
  }
}

export function compilePolicy(policy: PolicyRules, point: EnforcementPoint): CompiledPolicy {
  return { key: policy.key, action: policy.action, matches: assemblePolicy(policy, point), decision: decisionOf(policy) };
}

function firstMatch(policies: readonly CompiledPolicy[], request: RequestView): CompiledPolicy | undefined {
  for (const policy of policies) if (policy.matches(request)) return policy;
  return undefined;
}

function verdict(applicable: ApplicablePolicies, request: RequestView): Decision {
  const custom = firstMatch(applicable.custom, request);
  if (custom !== undefined) return custom.decision;
  const deny = firstMatch(applicable.deny, request);
  if (deny !== undefined) return deny.decision;
  if (applicable.allow.length === 0) return ALLOWED_WITHOUT_POLICIES;
  return firstMatch(applicable.allow, request)?.decision ?? NONE_ALLOWED;
}

export function decide(applicable: ApplicablePolicies, request: RequestView): Decision {
  const decision = verdict(applicable, request);
  if (applicable.audit.length === 0) return decision;
  const audited = applicable.audit.filter((policy) => policy.matches(request)).map((policy) => policy.key);
  return audited.length === 0 ? decision : { ...decision, audited };
}
