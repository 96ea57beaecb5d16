import { describe, expect, it } from 'vitest';
import { MemoryStore, newMatcher } from '../tsdb/index.ts';
import { expandTemplate, formatFloat, loadRuleFile, RuleGroupRunner, TemplateError } from './index.ts';

const data = (value: number, labels: Record<string, string> = { pod: 'converter-7d9', namespace: 'trustusbank-bank-vendors' }) => ({ labels, externalLabels: { cluster: 'lab' }, externalURL: 'http://127.0.0.1:18002', value });

describe('alert templates (Go text/template, as Prometheus renders them)', () => {
  it.each([
    ['{{ $labels.pod }} in {{ $labels.namespace }}', 'converter-7d9 in trustusbank-bank-vendors'],
    ['{{ .Labels.pod }}/{{ $labels.missing }}/', 'converter-7d9//'],
    ['{{ $value }}', '1.234567e+06'],
    ['{{ $value | humanize }}', '1.235M'],
    ['{{ humanize $value }}', '1.235M'],
    ['{{ printf "%.2f" $value }}', '1234567.00'],
    ['{{ $externalLabels.cluster }} {{ $externalURL }}', 'lab http://127.0.0.1:18002'],
    ['a {{- " b " -}} c', 'a b c'],
    ['{{ $labels.pod | toUpper }}', 'CONVERTER-7D9'],
  ])('%s → %s', (template, expected) => {
    expect(expandTemplate(template, data(1234567))).toBe(expected);
  });

  it('formats values as Go prints a float64', () => {
    expect([0.005, 100000, 123456.5, 1e21, 0.00001234, -2].map(formatFloat)).toEqual(['0.005', '100000', '123456.5', '1e+21', '1.234e-05', '-2']);
    expect(expandTemplate('{{ humanize 0.01666 }}|{{ humanizePercentage 0.12345 }}|{{ humanize1024 2048 }}', data(0))).toBe('16.66m|12.35%|2ki');
  });

  it.each([
    ['{{ if $value }}x{{ end }}', 'the action {{if}} is not supported'],
    ['{{ $value | query }}', 'function "query" not defined'],
    ['{{ $nope }}', 'undefined variable "$nope"'],
    ['{{ $value', 'unclosed action'],
  ])('refuses %s by name', (template, message) => {
    expect(() => expandTemplate(template, data(1))).toThrow(TemplateError);
    expect(() => expandTemplate(template, data(1))).toThrow(message);
  });
});

describe('rule group evaluation', () => {
  const rules = loadRuleFile(
    [
      'groups:',
      '  - name: g',
      '    rules:',
      '      - record: job:x:sum',
      '        expr: sum by (job) (x)',
      '        labels: {recorded: "yes"}',
      '      - alert: XHigh',
      '        expr: job:x:sum > 5',
      '        for: 2m',
      '        keep_firing_for: 1m',
      '        labels: {severity: critical}',
      '        annotations: {summary: "{{ $labels.job }} at {{ $value }}"}',
    ].join('\n'),
    'g.rules.yaml',
  )[0]!;

  it('records, goes pending, fires after `for`, keeps firing, resolves, and writes ALERTS with staleness', () => {
    const store = new MemoryStore();
    const runner = new RuleGroupRunner(rules, store);
    const values = [1, 6, 7, 8, 9, 1, 1, 1];
    const states: string[] = [];
    values.forEach((value, i) => {
      const t = i * 60_000;
      store.append({ __name__: 'x', job: 'api', instance: 'a' }, t, value);
      runner.evaluate(t);
      states.push(runner.alertsOf('XHigh').map((alert) => alert.state).join(',') || '-');
    });
    // pending at 1m; firing at 3m (for 2m); condition gone at 5m, kept firing for 1m; resolved at 6m.
    expect(states).toEqual(['-', 'pending', 'pending', 'firing', 'firing', 'firing', 'inactive', 'inactive']);
    // The annotations keep the last value the condition matched with (9), as Prometheus' do.
    const alert = runner.alertsOf('XHigh')[0]!;
    expect(alert).toMatchObject({ labels: { alertname: 'XHigh', job: 'api', recorded: 'yes', severity: 'critical' }, annotations: { summary: 'api at 9' }, activeAt: 60_000, firedAt: 180_000, resolvedAt: 360_000 });
    const recorded = store.select([newMatcher('=', '__name__', 'job:x:sum')], 0, 1e9);
    expect(recorded.map((series) => series.labels)).toEqual([{ __name__: 'job:x:sum', job: 'api', recorded: 'yes' }]);
    const pending = store.select([newMatcher('=', '__name__', 'ALERTS'), newMatcher('=', 'alertstate', 'pending')], 0, 1e9)[0]!;
    expect([...pending.t]).toEqual([60_000, 120_000, 180_000]);
    expect([...pending.stale]).toEqual([0, 0, 1]);
    const forState = store.select([newMatcher('=', '__name__', 'ALERTS_FOR_STATE')], 0, 1e9)[0]!;
    expect([...forState.v].slice(0, 5)).toEqual([60, 60, 60, 60, 60]);
    expect(runner.rulesHealth().every((health) => health.lastError === undefined)).toBe(true);
  });

  it('records a failing rule\'s error and keeps evaluating the others', () => {
    const group = loadRuleFile(['groups:', '  - name: g', '    rules:', '      - record: dup', '        expr: -{a="1"}', '      - record: ok', '        expr: vector(1)'].join('\n'), 'g.yaml')[0]!;
    const store = new MemoryStore();
    store.append({ __name__: 'x', a: '1' }, 0, 1);
    store.append({ __name__: 'y', a: '1' }, 0, 1);
    const runner = new RuleGroupRunner(group, store);
    runner.evaluate(0);
    expect(runner.rulesHealth()).toEqual([
      { rule: 'dup', lastEvaluation: 0, lastError: 'vector cannot contain metrics with the same labelset' },
      { rule: 'ok', lastEvaluation: 0 },
    ]);
    expect(store.select([newMatcher('=', '__name__', 'ok')], 0, 0)).toHaveLength(1);
  });
});
