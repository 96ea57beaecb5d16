// PrometheusRule (monitoring.coreos.com/v1, the Prometheus Operator's): rule groups in Prometheus' own format
// under spec.groups. They are checked at apply by the same loader the embedded Prometheus runs them with (field
// names, durations, PromQL with the position in the expression, Go templates), so a rule that would fail at
// evaluation is refused before anything is applied.
import { stringify } from 'yaml';
import { z } from 'zod';
import { loadRuleFile, RuleFileError } from '../../evidence/rules/index.ts';
import { kubeObject, type Expect, type SameShape } from '../fields.ts';
import { dns1123SubdomainProblem } from '../names.ts';
import { OBJECT_BOOKKEEPING, objectMeta } from '../object-meta.ts';
import type { PrometheusRule } from '../types.ts';

const rule = z.object({
  alert: z.string().optional(),
  record: z.string().optional(),
  expr: z.union([z.string(), z.number()]),
  for: z.string().optional(),
  keep_firing_for: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

const group = z.object({ name: z.string(), interval: z.string().optional(), rules: z.array(rule) });

const spec = z.object({ groups: z.array(group) }).superRefine((value, ctx) => {
  try {
    loadRuleFile(stringify({ groups: value.groups }), 'spec');
  } catch (error) {
    if (!(error instanceof RuleFileError)) throw error;
    for (const problem of error.problems) ctx.addIssue({ code: 'custom', path: fieldPath(problem.field), message: problem.message });
  }
});

/** `groups[0].rules[2].expr` as a path. */
function fieldPath(field: string): (string | number)[] {
  return field
    .split(/\.|(?=\[)/)
    .filter((part) => part !== '')
    .map((part) => (/^\[\d+\]$/.test(part) ? Number(part.slice(1, -1)) : part));
}

export const prometheusRuleSchema = kubeObject(
  { apiVersion: z.literal('monitoring.coreos.com/v1'), kind: z.literal('PrometheusRule'), metadata: objectMeta(dns1123SubdomainProblem), spec },
  { bookkeeping: OBJECT_BOOKKEEPING, upstream: 'Prometheus Operator' },
);

type _PrometheusRuleSchemaMatchesType = Expect<SameShape<z.output<typeof prometheusRuleSchema>, PrometheusRule>>;
