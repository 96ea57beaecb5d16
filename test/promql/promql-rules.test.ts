// The promtool-format rule tests (every *.test.yaml here) through our own store, PromQL engine and rule groups,
// plus what promtool's format cannot say: that bad input is refused with its position, and unsupported PromQL is
// refused by name instead of answered wrongly.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine, PromQLError } from '../../src/evidence/promql/index.ts';
import { loadRuleFile, RuleFileError, runRuleTests } from '../../src/evidence/rules/index.ts';
import { MemoryStore } from '../../src/evidence/tsdb/index.ts';

const DIR = import.meta.dirname;
const TEST_FILES = readdirSync(DIR).filter((name) => name.endsWith('.test.yaml'));
const read = (path: string) => readFileSync(path, 'utf8');

describe('promtool-format rule tests through our evaluator', () => {
  it('finds the shipped rule tests and the PromQL corpus', () => {
    expect(TEST_FILES).toEqual(expect.arrayContaining(['trustusbank-rules.test.yaml', 'corpus.test.yaml']));
  });

  it.each(TEST_FILES)('%s passes', (file) => {
    const report = runRuleTests(join(DIR, file), read);
    expect(report.loadErrors).toEqual([]);
    expect(report.groups.flatMap((group) => group.errors)).toEqual([]);
    expect(report.passed).toBe(true);
  });

  it('fails a test whose expectation is wrong, naming the expression and both answers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'promql-'));
    const corpus = read(join(DIR, 'corpus.test.yaml')).replace('rule_files:\n  - corpus.rules.yaml', `rule_files:\n  - ${join(DIR, 'corpus.rules.yaml')}`);
    const wrong = corpus.replace(/(- expr: "rate\(http_requests_total\{job=\\"web\\"\}\[5m\]\)"[\s\S]*?value: )0\.375/, '$10.376');
    expect(wrong).not.toBe(corpus);
    writeFileSync(join(dir, 'wrong.test.yaml'), wrong);
    const report = runRuleTests(join(dir, 'wrong.test.yaml'), read);
    expect(report.passed).toBe(false);
    expect(report.groups[0]!.errors.join('\n')).toMatch(/rate\(http_requests_total.*\n.*exp: .*0\.376\n.*got: .*0\.375/);
  });

  it('fails an alert test when the alert does not fire as expected', () => {
    const dir = mkdtempSync(join(tmpdir(), 'promql-'));
    const rules = read(join(DIR, 'trustusbank-rules.test.yaml')).replace('../../deploy', join(DIR, '../../deploy')).replace('      - eval_time: 20m\n        alertname: IstioAuthZDeny\n        exp_alerts: []', '      - eval_time: 2m\n        alertname: BankToAttackerAttempt\n        exp_alerts: []');
    writeFileSync(join(dir, 'alerts.test.yaml'), rules);
    const report = runRuleTests(join(dir, 'alerts.test.yaml'), read);
    expect(report.passed).toBe(false);
    expect(report.groups[0]!.errors.join('\n')).toContain('alertname: BankToAttackerAttempt, time: 2m');
  });
});

describe('PromQL errors', () => {
  const engine = new Engine(new MemoryStore());
  const errorOf = (query: string): PromQLError => {
    try {
      engine.instantQuery(query, 0);
    } catch (error) {
      if (error instanceof PromQLError) return error;
      throw error;
    }
    throw new Error(`no error for ${query}`);
  };

  it.each([
    ['sum(rate(x[5m])', '1:16: parse error: unexpected end of input'],
    ['rate(x)', '1:6: parse error: expected type range vector in call to function "rate", got instant vector'],
    ['x{a=~"(?=b)"}', '1:6: parse error: invalid regular expression'],
    ['1 > 2', '1:3: parse error: comparisons between scalars must use BOOL modifier'],
    ['x + bool y', '1:3: parse error: bool modifier can only be used on comparison operators'],
    ['x and 1', 'set operator "and" not allowed in binary scalar expression'],
    ['{a=""}', 'vector selector must contain at least one non-empty matcher'],
    ['sum(x) offset 5m', 'offset modifier must be preceded by an instant vector selector'],
    ['x offset 1m offset 2m', 'offset may not be set multiple times'],
    ['(x)[5m]', 'ranges only allowed for vector selectors'],
    ['x + on(a) group_left(a) y', 'label "a" must not occur in ON and GROUP clause at once'],
    ['x and on(a) group_left y', 'no grouping allowed for "and" operation'],
    ['topk(x, y)', 'expected type scalar in aggregation parameter, got instant vector'],
    ['round(x, 1, 2)', 'expected 1 to 2 argument(s) in call to "round", got 3'],
  ])('%s → bad_data %s', (query, message) => {
    const error = errorOf(query);
    expect(error.errorType).toBe('bad_data');
    expect(error.message).toContain(message);
  });

  it.each([
    ['x[5m:1m]', 'a subquery'],
    ['x @ 100', 'the @ modifier'],
    ['count_values("v", x)', 'the aggregation "count_values"'],
    ['predict_linear(x[5m], 60)', 'the function "predict_linear"'],
    ['sort(x)', 'the function "sort"'],
    ['x[1m+1m]', 'a duration expression'],
  ])('refuses %s by name rather than answering it', (query, construct) => {
    const error = errorOf(query);
    expect(error.errorType).toBe('bad_data');
    expect(error.message).toContain(`unsupported: ${construct} is not implemented`);
  });

  it('refuses many-to-many matching and duplicate label sets as Prometheus does', () => {
    const store = new MemoryStore();
    store.append({ __name__: 'a', job: 'x', i: '1' }, 0, 1);
    store.append({ __name__: 'a', job: 'x', i: '2' }, 0, 2);
    store.append({ __name__: 'b', job: 'x' }, 0, 3);
    store.append({ __name__: 'c', job: 'x', i: '1' }, 0, 4);
    const engine = new Engine(store);
    expect(() => engine.instantQuery('b + on(job) a', 0)).toThrow(/found duplicate series for the match group \{job="x"\} on the right hand-side/);
    expect(() => engine.instantQuery('a + on(job) b', 0)).toThrow(/multiple matches for labels: many-to-one matching must be explicit/);
    expect(engine.instantQuery('a + on(job) group_left b', 0)).toEqual({ type: 'vector', samples: [{ labels: { job: 'x', i: '1' }, value: 4 }, { labels: { job: 'x', i: '2' }, value: 5 }] });
    expect(() => engine.instantQuery('-{i="1"}', 0)).toThrow(/vector cannot contain metrics with the same labelset/);
  });

  it('reads a window as left-open and ends a series at its staleness marker', () => {
    const store = new MemoryStore();
    for (let i = 0; i <= 10; i++) store.append({ __name__: 'c' }, i * 60_000, i);
    const engine = new Engine(store);
    // At 10m, [5m] holds the samples after 5m: 6..10, as Prometheus 3 (Prometheus 2 also took the one at 5m).
    expect(engine.instantQuery('count_over_time(c[5m])', 600_000)).toEqual({ type: 'vector', samples: [{ labels: {}, value: 5 }] });
    store.appendStale({ __name__: 'c' }, 630_000);
    expect(engine.instantQuery('c', 620_000)).toMatchObject({ samples: [{ value: 10 }] });
    expect(engine.instantQuery('c', 630_000)).toEqual({ type: 'vector', samples: [] });
  });

  it('answers range queries step by step, and refuses too many steps', () => {
    const store = new MemoryStore();
    for (let i = 0; i <= 10; i++) store.append({ __name__: 'g', a: 'b' }, i * 60_000, i * 2);
    const engine = new Engine(store);
    expect(engine.rangeQuery('g * 10', 0, 180_000, 60_000)).toEqual([{ labels: { a: 'b' }, points: [0, 20, 40, 60].map((value, i) => ({ t: i * 60_000, value })) }]);
    expect(() => engine.rangeQuery('g', 0, 1e12, 1)).toThrow(/exceeded maximum resolution of 11000 points/);
    expect(() => engine.rangeQuery('g[5m]', 0, 60_000, 60_000)).toThrow(/invalid expression type "range vector" for range query/);
  });
});

describe('rule files', () => {
  it('loads the shipped rules, and their PrometheusRule wrapper to the same groups', () => {
    const plain = loadRuleFile(read(join(DIR, '../../deploy/prometheus/trustusbank.rules.yaml')), 'trustusbank.rules.yaml');
    expect(plain.flatMap((group) => group.rules.map((rule) => rule.name))).toEqual(['IstioAuthZDeny', 'BankToAttackerAttempt', 'KagentAccessPolicyDeny', 'GatewayDLPDeny', 'ToolDefinitionDrift', 'ImageRefusedAtAdmission']);
    const wrapped = loadRuleFile(read(join(DIR, '../../deploy/manifests/evidence/trustusbank.prometheusrule.yaml')), 'trustusbank.prometheusrule.yaml');
    // Parsed expressions hold compiled matchers (closures): compare what the files say.
    const said = (groups: typeof plain) => groups.map((group) => ({ name: group.name, rules: group.rules.map(({ expr: _expr, ...rest }) => ({ ...rest, labelTemplates: undefined, annotationTemplates: undefined })) }));
    expect(said(wrapped)).toEqual(said(plain));
  });

  it('refuses a bad rule naming file, line, column, field and the position in the expression', () => {
    const text = ['groups:', '  - name: g', '    rules:', '      - alert: Bad', '        expr: sum(rate(x[5m]) > 0', '        labels: {severity: "{{ $labels.a | nope }}"}', '        bogus: 1'].join('\n');
    let error: RuleFileError | undefined;
    try {
      loadRuleFile(text, 'bad.rules.yaml');
    } catch (caught) {
      error = caught as RuleFileError;
    }
    expect(error).toBeInstanceOf(RuleFileError);
    expect(error!.message).toContain('bad.rules.yaml:5:15: groups[0].rules[0].expr: could not parse expression: 1:20: parse error: unexpected end of input');
    expect(error!.message).toContain('groups[0].rules[0].labels.severity: template: __alert_Bad: function "nope" not defined');
    expect(error!.message).toContain('bad.rules.yaml:7:9: groups[0].rules[0].bogus: field bogus is not supported');
  });

  it('refuses a recording rule with alert fields, a missing expr, and a repeated group', () => {
    const text = ['groups:', '  - name: g', '    rules:', '      - record: a:b', '        expr: x', '        for: 5m', '      - alert: A', '  - name: g', '    rules: []'].join('\n');
    expect(() => loadRuleFile(text, 'r.yaml')).toThrow(/invalid field 'for' in recording rule[\s\S]*field 'expr' must be set in rule[\s\S]*groupname: "g" is repeated/);
  });
});
