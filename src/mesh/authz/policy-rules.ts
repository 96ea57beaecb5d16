// A policy's rules as checks, before deciding where they are enforced. ztunnel and a waypoint read the same
// checks differently (ztunnel cannot see HTTP), so this intermediate form is built once and assembled per
// enforcement point.
import type { Rule } from '../../manifests/types.ts';
import { conditionCheck, operationChecks, sourceChecks, type FieldCheck } from './field-checks.ts';
import type { PolicyRef } from './types.ts';

export type PolicyAction = 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';

export interface RuleChecks {
  /** Position in `spec.rules`, for messages. */
  readonly index: number;
  /** One list of checks per `from` entry (ORed); undefined when the rule has no `from`. */
  readonly from?: readonly (readonly FieldCheck[])[];
  /** One list of checks per `to` entry (ORed); undefined when the rule has no `to`. */
  readonly to?: readonly (readonly FieldCheck[])[];
  /** One check per `when` condition (ANDed). */
  readonly when: readonly FieldCheck[];
  /** Every check above, flattened once for the questions asked of a whole rule. */
  readonly checks: readonly FieldCheck[];
  /** Shape errors Istio's validation would refuse (an empty `from`, an empty source...). */
  readonly problems: readonly string[];
}

export interface PolicyRules {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly action: PolicyAction;
  readonly provider?: string;
  readonly rules: readonly RuleChecks[];
}

export function policyKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export function describePolicy(ref: PolicyRef): PolicyRules {
  const spec = ref.spec;
  return {
    key: policyKey(ref.namespace, ref.name),
    namespace: ref.namespace,
    name: ref.name,
    action: spec.action ?? 'ALLOW',
    provider: spec.provider?.name,
    rules: (spec.rules ?? []).map((rule, index) => describeRule(rule ?? {}, index, ref.namespace)),
  };
}

function describeRule(rule: Rule, index: number, policyNamespace: string): RuleChecks {
  const problems: string[] = [];
  const entries = <T>(list: readonly T[] | undefined, name: 'from' | 'to', checks: (entry: T) => FieldCheck[] | undefined) => {
    if (list === undefined) return undefined;
    if (list.length === 0) problems.push(`rule ${index}: \`${name}\` must not be empty`);
    return list.map((entry) => {
      const built = checks(entry);
      const what = name === 'from' ? 'from.source' : 'to.operation';
      if (built === undefined) problems.push(`rule ${index}: \`${what}\` must be set`);
      else if (built.length === 0) problems.push(`rule ${index}: \`${what}\` must not be empty`);
      return built ?? [];
    });
  };
  const from = entries(rule.from, 'from', (entry) => (entry?.source ? sourceChecks(entry.source, policyNamespace) : undefined));
  const to = entries(rule.to, 'to', (entry) => (entry?.operation ? operationChecks(entry.operation) : undefined));
  const when = (rule.when ?? []).map(conditionCheck);
  const checks = [...(from ?? []).flat(), ...(to ?? []).flat(), ...when];
  return { index, from, to, when, checks, problems };
}
