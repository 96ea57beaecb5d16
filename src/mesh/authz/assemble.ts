// Turns a policy's checks into one matcher for an enforcement point, following what each real enforcer does:
//
// - ztunnel (istiod's ambient conversion, then ztunnel's rbac.rs): HTTP fields are removed from every `from`/`to`
//   entry and a `when` on an HTTP key becomes an empty match. ztunnel never matches an empty match, so such an
//   entry or condition can no longer match. In ALLOW (and AUDIT) a rule that used any HTTP field is dropped whole.
//   In DENY the L4 remainder is enforced, which denies more, unless it was left with an empty match, in which case
//   that rule never fires (istio/istio#61126).
// - a waypoint with an HTTP request (Envoy's HTTP RBAC filter): every field is evaluated.
// - a waypoint carrying plain TCP (Envoy's network RBAC filter): ALLOW rules with HTTP fields are skipped; in DENY
//   "missing attributes are treated as matches" (Istio's AuthorizationPolicy reference), so HTTP fields are dropped
//   and an entry left with nothing matches everything.
//
// A check that cannot be evaluated (a bad CIDR, an unknown key) fails closed: its rule never allows, always denies.
import type { FieldCheck } from './field-checks.ts';
import type { PolicyAction, PolicyRules, RuleChecks } from './policy-rules.ts';
import { ALWAYS, NEVER, allOf, anyOf, type Predicate } from './predicates.ts';

export type EnforcementPoint = 'ztunnel' | 'waypoint';

/** How much of a request the enforcer sees: ztunnel, a waypoint's HTTP filter, or a waypoint's TCP filter. */
type View = 'ztunnel' | 'waypoint-http' | 'waypoint-tcp';

/** DENY and CUSTOM deny on a match, so "when in doubt, match"; ALLOW and AUDIT do the opposite. */
function deniesOnMatch(action: PolicyAction): boolean {
  return action === 'DENY' || action === 'CUSTOM';
}

export function assemblePolicy(policy: PolicyRules, point: EnforcementPoint): Predicate {
  if (point === 'ztunnel') return rulesPredicate(policy, 'ztunnel');
  const http = rulesPredicate(policy, 'waypoint-http');
  const tcp = rulesPredicate(policy, 'waypoint-tcp');
  if (http === tcp) return http;
  return (request) => (request.http !== undefined ? http(request) : tcp(request));
}

function rulesPredicate(policy: PolicyRules, view: View): Predicate {
  return anyOf(policy.rules.map((rule) => rulePredicate(rule, policy.action, view)));
}

function rulePredicate(rule: RuleChecks, action: PolicyAction, view: View): Predicate {
  const failClosed = deniesOnMatch(action) ? ALWAYS : NEVER;
  if (rule.problems.length > 0) return failClosed;
  const seesHttp = view === 'waypoint-http';
  const checks = rule.checks;
  if (!seesHttp && !deniesOnMatch(action) && checks.some((check) => check.layer === 'http')) return NEVER;
  const kept = (check: FieldCheck) => seesHttp || check.layer === 'l4';
  if (checks.some((check) => kept(check) && check.test === undefined)) return failClosed;
  // What an entry or condition becomes once its HTTP fields are removed and nothing is left.
  const emptied = view === 'ztunnel' ? NEVER : ALWAYS;
  const entry = (entryChecks: readonly FieldCheck[]): Predicate => {
    const tests = entryChecks.filter(kept).map((check) => check.test!);
    return tests.length === 0 ? emptied : allOf(tests);
  };
  const clauses: Predicate[] = [];
  if (rule.from !== undefined) clauses.push(anyOf(rule.from.map(entry)));
  if (rule.to !== undefined) clauses.push(anyOf(rule.to.map(entry)));
  for (const condition of rule.when) clauses.push(kept(condition) ? condition.test! : emptied);
  return allOf(clauses);
}

export type HttpRuleEffect =
  /** ALLOW/AUDIT: the rule is dropped at ztunnel. */
  | 'omitted'
  /** DENY/CUSTOM: enforced without its HTTP parts, so it denies more. */
  | 'broadened'
  /** DENY/CUSTOM: an entry or condition was only HTTP, so the rule can never fire at ztunnel. */
  | 'inert';

export interface HttpAtZtunnel {
  /** The HTTP fields and condition keys found, sorted. */
  readonly fields: readonly string[];
  readonly rules: readonly { readonly index: number; readonly effect: HttpRuleEffect }[];
}

/** What ztunnel does with a policy's HTTP attributes; undefined when it has none. */
export function httpAtZtunnel(policy: PolicyRules): HttpAtZtunnel | undefined {
  const fields = new Set<string>();
  const rules: { index: number; effect: HttpRuleEffect }[] = [];
  for (const rule of policy.rules) {
    const http = rule.checks.filter((check) => check.layer === 'http');
    if (http.length === 0) continue;
    for (const check of http) fields.add(check.field);
    const effect: HttpRuleEffect = !deniesOnMatch(policy.action)
      ? 'omitted'
      : rulePredicate(rule, policy.action, 'ztunnel') === NEVER
        ? 'inert'
        : 'broadened';
    rules.push({ index: rule.index, effect });
  }
  return rules.length === 0 ? undefined : { fields: [...fields].sort(), rules };
}
