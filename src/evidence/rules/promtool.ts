// A runner for promtool's rule unit-test format (`promtool test rules`): rule_files, evaluation_interval,
// group_eval_order, and tests with input_series in the expanding notation (`0+1x10`, `_`, `stale`),
// alert_rule_test and promql_expr_test, evaluated by our store, engine and rule groups. It reports failures in
// promtool's words so that a rule file's tests mean the same here and under the real promtool.
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Engine, parseDurationMs, parseExpr, PromQLError } from '../promql/index.ts';
import { formatLabels, labelsKey, MemoryStore, parseValue, type Labels } from '../tsdb/index.ts';
import { RuleGroupRunner } from './group.ts';
import { loadRuleFile, RuleFileError, type RuleGroup } from './load.ts';

export interface RuleTestReport {
  file: string;
  /** One entry per test group, with the failures found (empty when it passed). */
  groups: { name: string; errors: string[] }[];
  /** Problems loading the test or rule files: nothing ran. */
  loadErrors: string[];
  passed: boolean;
}

interface TestFile {
  rule_files?: string[];
  evaluation_interval?: string;
  group_eval_order?: string[];
  tests?: TestGroup[];
}

interface TestGroup {
  name?: string;
  interval?: string;
  input_series?: { series: string; values: string }[];
  alert_rule_test?: { eval_time: string; alertname: string; exp_alerts?: { exp_labels?: Record<string, unknown>; exp_annotations?: Record<string, unknown> }[] }[];
  promql_expr_test?: { expr: string; eval_time: string; exp_samples?: { labels?: string; value: number | string }[] }[];
  external_labels?: Record<string, string>;
  external_url?: string;
}

const STALE = Symbol('stale');
export type SeriesValue = number | typeof STALE | undefined;

/** promtool's series notation: `1 2 _ stale 3+2x4 5-1x2 _x3 7x2` → values at 0, 1, 2, … intervals (undefined: omitted). */
export function parseSeriesValues(text: string): SeriesValue[] {
  const out: SeriesValue[] = [];
  for (const item of text.trim().split(/\s+/).filter(Boolean)) {
    if (item === '_') {
      out.push(undefined);
      continue;
    }
    if (item === 'stale') {
      out.push(STALE);
      continue;
    }
    const blanks = /^_x(\d+)$/.exec(item);
    if (blanks) {
      for (let i = 0; i < Number(blanks[1]); i++) out.push(undefined);
      continue;
    }
    const NUM = '[-+]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][-+]?\\d+)?|[-+]?(?:Inf|NaN|inf|nan)';
    const expanding = new RegExp(`^(${NUM})([-+](?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][-+]?\\d+)?)x(\\d+)$`).exec(item);
    if (expanding) {
      let value = parseValue(expanding[1]!)!;
      const step = Number(expanding[2]);
      out.push(value);
      for (let i = 1; i <= Number(expanding[3]); i++) out.push((value += step));
      continue;
    }
    const repeated = new RegExp(`^(${NUM})x(\\d+)$`).exec(item);
    if (repeated) {
      const value = parseValue(repeated[1]!)!;
      for (let i = 0; i <= Number(repeated[2]); i++) out.push(value);
      continue;
    }
    const value = parseValue(item);
    if (value === undefined) throw new Error(`bad series value ${JSON.stringify(item)} (expected a number, _, stale, a+bxn, axn or _xn)`);
    out.push(value);
  }
  return out;
}

/** A series description such as `metric{a="b"}`: a selector of equality matchers only. */
export function parseSeriesLabels(text: string): Labels {
  if (text.trim() === '' || text.trim() === '{}') return {};
  const expr = parseExpr(text);
  if (expr.kind !== 'vector' || expr.offsetMs !== 0 || expr.matchers.some((matcher) => matcher.type !== '=')) throw new Error(`bad series description ${JSON.stringify(text)}: only name{label="value", …}`);
  const labels: Record<string, string> = {};
  for (const matcher of expr.matchers) labels[matcher.name] = matcher.value;
  return labels;
}

function duration(text: string | undefined, fallback: number, what: string): number {
  if (text === undefined) return fallback;
  const ms = parseDurationMs(String(text));
  if (ms === undefined) throw new Error(`${what}: invalid duration ${JSON.stringify(text)}`);
  return ms;
}

/** Run one test file; `readFile` reads a path (rule files are resolved against the test file's directory). */
export function runRuleTests(file: string, readFile: (path: string) => string): RuleTestReport {
  const report: RuleTestReport = { file, groups: [], loadErrors: [], passed: false };
  let spec: TestFile;
  let groups: RuleGroup[] = [];
  let evalInterval: number;
  try {
    spec = (parseYaml(readFile(file)) ?? {}) as TestFile;
    evalInterval = duration(spec.evaluation_interval, 60_000, 'evaluation_interval');
    for (const ruleFile of spec.rule_files ?? []) {
      const path = resolve(dirname(file), ruleFile);
      groups.push(...loadRuleFile(readFile(path), path));
    }
  } catch (error) {
    report.loadErrors.push(error instanceof RuleFileError ? error.message : `${file}: ${error instanceof Error ? error.message : String(error)}`);
    return report;
  }
  if (spec.group_eval_order) {
    const order = spec.group_eval_order;
    const missing = order.filter((name) => !groups.some((group) => group.name === name));
    if (missing.length > 0) report.loadErrors.push(`group_eval_order names groups not in the rule files: ${missing.join(', ')}`);
    groups = [...groups].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  }
  (spec.tests ?? []).forEach((test, index) => {
    const name = test.name ?? `test ${index}`;
    try {
      report.groups.push({ name, errors: runTestGroup(test, groups, evalInterval) });
    } catch (error) {
      report.groups.push({ name, errors: [`    ${error instanceof Error ? error.message : String(error)}`] });
    }
  });
  report.passed = report.loadErrors.length === 0 && report.groups.every((group) => group.errors.length === 0);
  return report;
}

function runTestGroup(test: TestGroup, ruleGroups: RuleGroup[], evalInterval: number): string[] {
  const interval = duration(test.interval, evalInterval, 'interval');
  // Retention must cover the whole test; promtool's storage keeps everything.
  const store = new MemoryStore({ retentionMs: Number.MAX_SAFE_INTEGER, maxSeries: 100_000 });
  for (const input of test.input_series ?? []) {
    const labels = parseSeriesLabels(input.series);
    parseSeriesValues(String(input.values)).forEach((value, i) => {
      if (value === undefined) return;
      if (value === STALE) store.appendStale(labels, i * interval);
      else store.append(labels, i * interval, value);
    });
  }
  const options = { externalLabels: test.external_labels ?? {}, externalURL: test.external_url ?? '' };
  const runners = ruleGroups.map((group) => new RuleGroupRunner(group, store, options));
  const alertTests = (test.alert_rule_test ?? []).map((alertTest) => ({ ...alertTest, t: duration(alertTest.eval_time, 0, 'eval_time') })).sort((a, b) => a.t - b.t);
  const exprTests = (test.promql_expr_test ?? []).map((exprTest) => ({ ...exprTest, t: duration(exprTest.eval_time, 0, 'eval_time') }));
  const maxT = Math.max(0, ...alertTests.map((a) => a.t), ...exprTests.map((e) => e.t));
  const errors: string[] = [];
  let next = 0;
  for (let ts = 0; ts <= maxT; ts += evalInterval) {
    const evalErrors: string[] = [];
    for (const runner of runners) {
      runner.evaluate(ts);
      for (const health of runner.rulesHealth()) if (health.lastError) evalErrors.push(`    rule: ${health.rule}, time: ${formatDuration(ts)}, err: ${health.lastError}`);
    }
    if (evalErrors.length > 0) return [...errors, ...evalErrors];
    // An alert test at eval_time t checks the state after the evaluation at the last tick ≤ t.
    while (next < alertTests.length && alertTests[next]!.t >= ts && alertTests[next]!.t < ts + evalInterval) {
      const alertTest = alertTests[next++]!;
      const got = runners
        .flatMap((runner) => runner.alertsOf(alertTest.alertname))
        .filter((alert) => alert.state === 'firing')
        .map((alert) => describeAlert(alert.labels, alert.annotations));
      const expected = (alertTest.exp_alerts ?? []).map((alert) =>
        describeAlert({ ...stringRecord(alert.exp_labels), alertname: alertTest.alertname }, stringRecord(alert.exp_annotations)),
      );
      got.sort();
      expected.sort();
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        errors.push(`    alertname: ${alertTest.alertname}, time: ${formatDuration(alertTest.t)}, \n        exp:${JSON.stringify(expected)}, \n        got:${JSON.stringify(got)}`);
      }
    }
  }
  const engine = new Engine(store);
  for (const exprTest of exprTests) {
    let got: string[];
    try {
      const value = engine.instantQuery(exprTest.expr, exprTest.t);
      if (value.type === 'scalar') got = [describeSample({}, value.value)];
      else if (value.type === 'vector') got = value.samples.map((sample) => describeSample(sample.labels, sample.value));
      else throw new PromQLError('execution', 'rule result is not a vector or scalar');
    } catch (error) {
      errors.push(`    expr: ${JSON.stringify(exprTest.expr)}, time: ${formatDuration(exprTest.t)}, err: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    const expected = (exprTest.exp_samples ?? []).map((sample) => describeSample(parseSeriesLabels(sample.labels ?? ''), parseValue(String(sample.value)) ?? NaN));
    got.sort();
    expected.sort();
    if (JSON.stringify(got) !== JSON.stringify(expected)) {
      errors.push(`    expr: ${JSON.stringify(exprTest.expr)}, time: ${formatDuration(exprTest.t)},\n        exp: ${expected.join(', ') || 'nil'}\n        got: ${got.join(', ') || 'nil'}`);
    }
  }
  return errors;
}

function stringRecord(record: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(record ?? {})) out[key] = String(value);
  return out;
}

function describeAlert(labels: Labels, annotations: Record<string, string>): string {
  return `${formatLabels(labels)} ${labelsKey(annotations) === '' ? '{}' : JSON.stringify(Object.fromEntries(Object.entries(annotations).sort()))}`;
}

function describeSample(labels: Labels, value: number): string {
  return `${formatLabels(labels) || '{}'} ${Number.isNaN(value) ? 'NaN' : String(value)}`;
}

function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const units: [string, number][] = [['h', 3_600_000], ['m', 60_000], ['s', 1_000], ['ms', 1]];
  let out = '';
  for (const [unit, size] of units) {
    if (ms >= size) {
      out += `${Math.floor(ms / size)}${unit}`;
      ms %= size;
    }
  }
  return out;
}
