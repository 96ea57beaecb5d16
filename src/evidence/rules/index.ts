// Prometheus rule groups: the only door into src/evidence/rules.
export { loadRuleFile, RuleFileError, type RuleGroup, type Rule, type AlertingRule, type RecordingRule, type RuleProblem } from './load.ts';
export { RuleGroupRunner, RESOLVED_RETENTION_MS, type Alert, type AlertState, type GroupOptions, type RuleHealth } from './group.ts';
export { expandTemplate, parseTemplate, TemplateError, SUPPORTED_TEMPLATE_FUNCTIONS, formatFloat, formatG } from './template.ts';
export { runRuleTests, parseSeriesValues, type RuleTestReport } from './promtool.ts';
