// Warnings about policies, worded so an operator reading `apply` output knows what is enforced and where.
// The ztunnel HTTP wording follows istiod's status messages (pilot/pkg/serviceregistry/kube/controller/ambient/
// authorization.go, and istio/istio#61166 for DENY rules that lose all their matches).
import type { HttpAtZtunnel } from './assemble.ts';
import type { PolicyRules } from './policy-rules.ts';
import type { PolicyWarning, PolicyWarningCode } from './types.ts';

function warning(code: PolicyWarningCode, policy: PolicyRules, fields: readonly string[], message: string): PolicyWarning {
  return { code, policy: policy.key, fields, message };
}

function ruleList(indexes: readonly number[]): string {
  return `${indexes.length === 1 ? 'rule' : 'rules'} ${indexes.join(', ')}`;
}

function deniesOnMatch(policy: PolicyRules): boolean {
  return policy.action === 'DENY' || policy.action === 'CUSTOM';
}

export function httpAtZtunnelWarning(policy: PolicyRules, report: HttpAtZtunnel, enforcedAtAll: boolean): PolicyWarning {
  const found =
    `ztunnel does not support HTTP attributes (found: ${report.fields.join(', ')}). ` +
    'In ambient mode you must use a waypoint proxy to enforce HTTP rules.';
  const indexes = (effect: string) => report.rules.filter((rule) => rule.effect === effect).map((rule) => rule.index);
  if (!deniesOnMatch(policy)) {
    const consequence = policy.action === 'AUDIT' ? ', so those requests are not audited.' : '. This will be more restrictive than requested.';
    const message = `${found} Within an ${policy.action} policy, rules matching HTTP attributes are omitted (${ruleList(indexes('omitted'))})${consequence}`;
    return warning('http-attributes-at-ztunnel', policy, report.fields, message);
  }
  if (!enforcedAtAll) {
    const message =
      `${found} After omitting unsupported HTTP attributes, this ${policy.action} policy has no enforceable rules at ztunnel ` +
      'and will have no effect. Deploy a waypoint proxy and use a targetRef to enforce this policy.';
    return warning('http-attributes-at-ztunnel', policy, report.fields, message);
  }
  const parts = [found];
  const broadened = indexes('broadened');
  if (broadened.length > 0) {
    parts.push(`${policy.action} policy with HTTP attributes is enforced without the HTTP rules (${ruleList(broadened)}). This will be more restrictive than requested.`);
  }
  const inert = indexes('inert');
  if (inert.length > 0) {
    parts.push(
      `In ${ruleList(inert)} a from/to entry or a when condition is made only of HTTP attributes; ztunnel cannot match it, ` +
        'so those rules have no effect.',
    );
  }
  return warning('http-attributes-at-ztunnel', policy, report.fields, parts.join(' '));
}

export function customActionWarning(policy: PolicyRules): PolicyWarning {
  const provider = policy.provider === undefined ? '' : ` "${policy.provider}"`;
  return warning(
    'custom-action-fails-closed',
    policy,
    [],
    `CUSTOM policy: no external authorization provider${provider} is available in TrustUsBank, so a request matching this ` +
      'policy is denied (fail closed). Note that a real ztunnel ignores CUSTOM policies ("ztunnel does not support the CUSTOM ' +
      'action"); Istio enforces them at waypoints through ext_authz.',
  );
}

/** Rules holding values or shapes Istio's validation would refuse; the engine fails them closed. */
export function invalidRuleWarnings(policy: PolicyRules): PolicyWarning[] {
  const outcome = deniesOnMatch(policy)
    ? 'matches every request in scope, so it denies them all'
    : 'never matches, so it allows (or audits) nothing';
  const warnings: PolicyWarning[] = [];
  for (const rule of policy.rules) {
    const invalid = rule.checks.filter((check) => check.problem !== undefined);
    const problems = [...rule.problems, ...invalid.map((check) => check.problem!)];
    if (problems.length === 0) continue;
    const fields = [...new Set(invalid.map((check) => check.field))];
    const message = `rule ${rule.index}: ${problems.join('; ')}. Istio's validation refuses this; here the rule fails closed: it ${outcome}.`;
    warnings.push(warning('invalid-rule', policy, fields, message));
  }
  return warnings;
}

export function withoutRulesWarning(policy: PolicyRules): PolicyWarning | undefined {
  if (policy.rules.length > 0 || policy.action === 'ALLOW') return undefined;
  return warning(
    'ineffective-policy',
    policy,
    ['rules'],
    `${policy.action} action without \`rules\` is meaningless as it will never be triggered; ` +
      'add an empty rule `{}` if you want it to be triggered for every request.',
  );
}

export function conflictingSourceWarnings(policy: PolicyRules): PolicyWarning[] {
  const warnings: PolicyWarning[] = [];
  for (const rule of policy.rules) {
    for (const source of rule.from ?? []) {
      const fields = new Set(source.map((check) => check.field));
      const accounts = fields.has('serviceAccounts') || fields.has('notServiceAccounts');
      const identities = ['principals', 'notPrincipals', 'namespaces', 'notNamespaces'].filter((field) => fields.has(field));
      if (!accounts || identities.length === 0) continue;
      warnings.push(
        warning(
          'conflicting-source-fields',
          policy,
          ['serviceAccounts', ...identities],
          `rule ${rule.index}: Istio does not allow serviceAccounts with namespaces or principals in one source; ` +
            'here all of them must match.',
        ),
      );
    }
  }
  return warnings;
}

export function selectorWithTargetWarning(policy: PolicyRules): PolicyWarning {
  return warning(
    'selector-with-target',
    policy,
    ['selector', 'targetRefs'],
    'only one of targetRefs or selector can be set; the selector is ignored and the policy applies at the waypoint(s) it targets.',
  );
}

export function unsupportedTargetWarning(policy: PolicyRules, reason: string): PolicyWarning {
  return warning('unsupported-target', policy, ['targetRefs'], `${reason}; this target is ignored.`);
}

export function duplicatePolicyWarning(policy: PolicyRules): PolicyWarning {
  return warning('duplicate-policy', policy, [], 'this policy is defined more than once; the last definition is used.');
}
