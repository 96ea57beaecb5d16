// Rule files in Prometheus' `groups:` format (a plain rule file, or a PrometheusRule whose spec holds the groups),
// validated as `promtool check rules` does: every problem names the file, line and column of the field, the group
// and rule, and for an expression the position inside it. Nothing from a file with a problem is used.
import { isMap, isSeq, LineCounter, parseAllDocuments, type Node as YamlNode, type YAMLMap } from 'yaml';
import { parseDurationMs, parseExpr, PromQLError, type Expr } from '../promql/index.ts';
import { parseTemplate, TemplateError } from './template.ts';

type TemplateParts = ReturnType<typeof parseTemplate>;

export interface RecordingRule {
  readonly kind: 'record';
  readonly name: string;
  readonly expr: Expr;
  readonly exprText: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface AlertingRule {
  readonly kind: 'alert';
  readonly name: string;
  readonly expr: Expr;
  readonly exprText: string;
  readonly forMs: number;
  readonly keepFiringForMs: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** Parsed once at load; rendering cannot fail on syntax. */
  readonly labelTemplates: Readonly<Record<string, TemplateParts>>;
  readonly annotationTemplates: Readonly<Record<string, TemplateParts>>;
}

export type Rule = RecordingRule | AlertingRule;

export interface RuleGroup {
  readonly name: string;
  readonly file: string;
  /** Undefined: the evaluation interval of whoever runs the group (Prometheus' global one). */
  readonly intervalMs?: number;
  readonly rules: readonly Rule[];
}

export interface RuleProblem {
  file: string;
  line: number;
  column: number;
  /** Where in the file: `groups[0].rules[2].expr`. */
  field: string;
  message: string;
}

export class RuleFileError extends Error {
  override readonly name = 'RuleFileError';
  constructor(readonly problems: readonly RuleProblem[]) {
    super(problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.field}: ${p.message}`).join('\n'));
  }
}

const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const GROUP_FIELDS = new Set(['name', 'interval', 'rules']);
const RULE_FIELDS = new Set(['record', 'alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations']);

/** Parse and check every group in a rule file's text; throws RuleFileError listing every problem found. */
export function loadRuleFile(text: string, file: string): RuleGroup[] {
  const lineCounter = new LineCounter();
  const problems: RuleProblem[] = [];
  const groups: RuleGroup[] = [];
  const at = (node: YamlNode | null | undefined, field: string, message: string) => {
    const offset = node?.range?.[0] ?? 0;
    const { line, col } = lineCounter.linePos(offset);
    problems.push({ file, line, column: col, field, message });
  };
  const documents = parseAllDocuments(text, { lineCounter, uniqueKeys: true });
  for (const document of Array.isArray(documents) ? documents : [documents]) {
    for (const error of document.errors) {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      problems.push({ file, line, column: col, field: '(yaml)', message: error.message.split('\n')[0]! });
    }
    if (document.errors.length > 0) continue;
    const contents = document.contents as YamlNode | null;
    if (contents === null) continue;
    if (!isMap(contents)) {
      at(contents, '(document)', 'expected a mapping with `groups:` or a PrometheusRule');
      continue;
    }
    let root: YAMLMap = contents;
    let prefix = '';
    if (root.get('kind') !== undefined) {
      if (root.get('kind') !== 'PrometheusRule') {
        at(root, 'kind', `expected kind PrometheusRule, got ${JSON.stringify(root.get('kind'))}`);
        continue;
      }
      const spec = root.get('spec', true);
      if (!isMap(spec)) {
        at(root, 'spec', 'a PrometheusRule needs a spec with groups');
        continue;
      }
      root = spec;
      prefix = 'spec.';
    }
    const groupsNode = root.get('groups', true) as YamlNode | undefined;
    for (const pair of root.items) {
      const key = String((pair.key as { value?: unknown })?.value ?? pair.key);
      if (key !== 'groups') at(pair.key as YamlNode, `${prefix}${key}`, `field ${key} not found in type rulefmt.RuleGroups`);
    }
    if (!isSeq(groupsNode)) {
      at(groupsNode ?? root, `${prefix}groups`, 'expected a list of rule groups');
      continue;
    }
    const names = new Set<string>();
    groupsNode.items.forEach((groupNode, g) => {
      const where = `${prefix}groups[${g}]`;
      if (!isMap(groupNode)) return at(groupNode as YamlNode, where, 'expected a mapping');
      for (const pair of groupNode.items) {
        const key = String((pair.key as { value?: unknown })?.value);
        if (!GROUP_FIELDS.has(key)) at(pair.key as YamlNode, `${where}.${key}`, `field ${key} is not supported in a rule group (supported: ${[...GROUP_FIELDS].join(', ')})`);
      }
      const name = groupNode.get('name');
      if (typeof name !== 'string' || name === '') return at(groupNode, `${where}.name`, 'groupname must not be empty');
      if (names.has(name)) at(groupNode.get('name', true) as YamlNode, `${where}.name`, `groupname: ${JSON.stringify(name)} is repeated in the same file`);
      names.add(name);
      let intervalMs: number | undefined;
      const interval = groupNode.get('interval');
      if (interval !== undefined) {
        intervalMs = parseDurationMs(String(interval));
        if (intervalMs === undefined || intervalMs === 0) at(groupNode.get('interval', true) as YamlNode, `${where}.interval`, `invalid duration ${JSON.stringify(interval)}`);
      }
      const rulesNode = groupNode.get('rules', true);
      const rules: Rule[] = [];
      if (!isSeq(rulesNode)) {
        at((rulesNode as YamlNode | undefined) ?? groupNode, `${where}.rules`, 'expected a list of rules');
        return;
      }
      rulesNode.items.forEach((ruleNode, r) => {
        const rule = checkRule(ruleNode as YamlNode, `${where}.rules[${r}]`, at);
        if (rule) rules.push(rule);
      });
      groups.push({ name, file, ...(intervalMs !== undefined ? { intervalMs } : {}), rules });
    });
  }
  if (problems.length > 0) throw new RuleFileError(problems);
  return groups;
}

function checkRule(node: YamlNode, where: string, at: (node: YamlNode | null | undefined, field: string, message: string) => void): Rule | undefined {
  if (!isMap(node)) {
    at(node, where, 'expected a mapping');
    return undefined;
  }
  const before = { count: 0 };
  const report = (child: YamlNode | null | undefined, field: string, message: string) => {
    before.count++;
    at(child, `${where}${field}`, message);
  };
  for (const pair of node.items) {
    const key = String((pair.key as { value?: unknown })?.value);
    if (!RULE_FIELDS.has(key)) report(pair.key as YamlNode, `.${key}`, `field ${key} is not supported in a rule (supported: ${[...RULE_FIELDS].join(', ')})`);
  }
  const record = node.get('record');
  const alert = node.get('alert');
  if ((record === undefined) === (alert === undefined)) {
    report(node, '', "one of 'record' or 'alert' must be set");
    return undefined;
  }
  const name = String(record ?? alert);
  if (record !== undefined && !METRIC_NAME_RE.test(name)) report(node.get('record', true) as YamlNode, '.record', `invalid recording rule name: ${name}`);
  if (alert !== undefined && name.trim() === '') report(node.get('alert', true) as YamlNode, '.alert', 'alert name must not be empty');
  const exprNode = node.get('expr', true) as YamlNode | undefined;
  const exprText = node.get('expr');
  let expr: Expr | undefined;
  if (typeof exprText !== 'string' || exprText.trim() === '') report(exprNode ?? node, '.expr', "field 'expr' must be set in rule");
  else {
    try {
      expr = parseExpr(exprText);
    } catch (error) {
      if (!(error instanceof PromQLError)) throw error;
      report(exprNode, '.expr', `could not parse expression: ${error.message}`);
    }
  }
  const labels = stringMap(node, 'labels', report);
  for (const labelName of Object.keys(labels)) {
    if (!LABEL_NAME_RE.test(labelName)) report(node.get('labels', true) as YamlNode, `.labels.${labelName}`, `invalid label name: ${labelName}`);
    if (labelName === '__name__') report(node.get('labels', true) as YamlNode, `.labels.${labelName}`, 'invalid label name: __name__');
  }
  const durationOf = (field: 'for' | 'keep_firing_for'): number => {
    const value = node.get(field);
    if (value === undefined) return 0;
    const ms = parseDurationMs(String(value));
    if (ms === undefined) report(node.get(field, true) as YamlNode, `.${field}`, `invalid duration ${JSON.stringify(value)}`);
    return ms ?? 0;
  };
  if (record !== undefined) {
    for (const field of ['for', 'keep_firing_for', 'annotations']) if (node.get(field) !== undefined) report(node.get(field, true) as YamlNode, `.${field}`, `invalid field '${field}' in recording rule`);
    if (before.count > 0 || !expr) return undefined;
    return { kind: 'record', name, expr, exprText: exprText as string, labels };
  }
  const forMs = durationOf('for');
  const keepFiringForMs = durationOf('keep_firing_for');
  const annotations = stringMap(node, 'annotations', report);
  const templates = (field: 'labels' | 'annotations', values: Record<string, string>) => {
    const out: Record<string, TemplateParts> = {};
    for (const [key, value] of Object.entries(values)) {
      try {
        out[key] = parseTemplate(value);
      } catch (error) {
        if (!(error instanceof TemplateError)) throw error;
        report(node.get(field, true) as YamlNode, `.${field}.${key}`, `template: __alert_${name}: ${error.message}`);
      }
    }
    return out;
  };
  const labelTemplates = templates('labels', labels);
  const annotationTemplates = templates('annotations', annotations);
  if (before.count > 0 || !expr) return undefined;
  return { kind: 'alert', name, expr, exprText: exprText as string, forMs, keepFiringForMs, labels, annotations, labelTemplates, annotationTemplates };
}

function stringMap(node: YAMLMap, field: string, report: (child: YamlNode | null | undefined, field: string, message: string) => void): Record<string, string> {
  const value = node.get(field, true) as YamlNode | undefined;
  if (value === undefined || (value as { value?: unknown }).value === null) return {};
  if (!isMap(value)) {
    report(value, `.${field}`, 'expected a mapping of names to strings');
    return {};
  }
  const out: Record<string, string> = {};
  for (const pair of value.items) {
    const key = String((pair.key as { value?: unknown })?.value);
    const raw = (pair.value as { value?: unknown } | null)?.value;
    if (raw === null || raw === undefined || typeof raw === 'object') report(pair.value as YamlNode, `.${field}.${key}`, 'expected a string');
    else out[key] = String(raw);
  }
  return out;
}
