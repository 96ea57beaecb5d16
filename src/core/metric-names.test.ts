import { Counter, Gauge, Histogram, Registry, Summary, collectDefaultMetrics } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { expositionFamilies, expositionProblems, metricNameProblems, type MetricFamilyShape } from './metric-names.ts';
import { CheckedRegistry, DROPPED_DEFAULT_METRICS, MetricNameError, createMetricsRegistry } from './metrics.ts';

const family = (name: string, type: MetricFamilyShape['type'], labelNames: string[] = [], help = 'Something.'): MetricFamilyShape => ({ name, type, help, labelNames });

describe('metricNameProblems (promtool check metrics, without promtool)', () => {
  it('passes the names this project and Istio use', () => {
    for (const f of [
      family('istio_tcp_connections_opened_total', 'counter', ['reporter', 'source_principal', 'response_flags']),
      family('agentgateway_requests_total', 'counter', ['status', 'reason']),
      family('nodejs_active_handles', 'gauge', ['type']),
      family('process_resident_memory_bytes', 'gauge'),
      family('nodejs_gc_duration_seconds', 'histogram', ['kind']),
      family('rpc_duration_seconds', 'summary'),
      family('nodejs_version_info', 'gauge', ['version', 'major']),
    ]) {
      expect(metricNameProblems(f), f.name).toEqual([]);
    }
  });

  it.each<[string, MetricFamilyShape, string]>([
    ['a gauge with a counter suffix (prom-client default)', family('nodejs_active_handles_total', 'gauge'), 'non-counter metrics should not have "_total" suffix'],
    ['a histogram with a counter suffix', family('latency_seconds_total', 'histogram'), 'non-counter metrics should not have "_total" suffix'],
    ['a counter without _total', family('requests', 'counter'), 'counter metrics should have "_total" suffix'],
    ['no help', family('requests_total', 'counter', [], ' '), 'no help text'],
    ['milliseconds', family('request_duration_milliseconds', 'histogram'), 'use base unit "seconds" instead of "milliseconds"'],
    ['kilobytes', family('body_kilobytes', 'gauge'), 'use base unit "bytes" instead of "kilobytes"'],
    ['an abbreviated unit', family('request_latency_ms', 'gauge'), 'metric names should not contain abbreviated units'],
    ['a gauge named _count', family('queue_count', 'gauge'), 'non-histogram and non-summary metrics should not have "_count" suffix'],
    ['a gauge named _sum', family('amount_sum', 'gauge'), 'non-histogram and non-summary metrics should not have "_sum" suffix'],
    ['a summary named _bucket', family('latency_bucket', 'summary'), 'non-histogram metrics should not have "_bucket" suffix'],
    ['a gauge with an le label', family('temperature_celsius', 'gauge', ['le']), 'non-histogram metrics should not have "le" label'],
    ['a histogram with a quantile label', family('latency_seconds', 'histogram', ['quantile']), 'non-summary metrics should not have "quantile" label'],
    ['the type in the name', family('connections_gauge', 'gauge'), "metric name should not include type 'gauge'"],
    ['a colon', family('job:requests:rate5m', 'gauge'), "metric names should not contain ':'"],
    ['camelCase', family('activeHandles', 'gauge'), "metric names should be written in 'snake_case' not 'camelCase'"],
    ['a camelCase label', family('tool_calls_total', 'counter', ['toolName']), "label names should be written in 'snake_case' not 'camelCase'"],
  ])('flags %s', (_what, f, problem) => {
    expect(metricNameProblems(f)).toContain(problem);
  });

  it('leaves untyped metrics to their own devices, as promtool does for _total', () => {
    expect(metricNameProblems(family('legacy_total', 'untyped'))).toEqual([]);
  });
});

describe('expositionFamilies', () => {
  it('reads types, help and label names, folding histogram and summary samples into their family', () => {
    const text = [
      '# HELP http_requests_total Requests.',
      '# TYPE http_requests_total counter',
      'http_requests_total{method="GET",route="/a \\"quoted\\", too"} 3',
      '# HELP lat_seconds Latency.',
      '# TYPE lat_seconds histogram',
      'lat_seconds_bucket{le="0.1",kind="x"} 1',
      'lat_seconds_bucket{le="+Inf",kind="x"} 2',
      'lat_seconds_sum{kind="x"} 0.3',
      'lat_seconds_count{kind="x"} 2',
      '',
    ].join('\n');
    const { families, errors } = expositionFamilies(text);
    expect(errors).toEqual([]);
    expect(families).toEqual([
      { name: 'http_requests_total', type: 'counter', help: 'Requests.', labelNames: ['method', 'route'] },
      { name: 'lat_seconds', type: 'histogram', help: 'Latency.', labelNames: ['kind'] },
    ]);
  });

  it('reports lines that are not samples instead of guessing', () => {
    expect(expositionFamilies('# TYPE x gauge\nx{a="1" 2\n').errors).toEqual(['line 2: not a sample: "x{a=\\"1\\" 2"']);
    expect(expositionFamilies('# TYPE x widget\n').errors).toEqual(['line 1: unknown metric type "widget"']);
  });

  it('finds the three problems promtool finds in prom-client\'s own defaults', async () => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    expect(expositionProblems(await registry.metrics()).sort()).toEqual(DROPPED_DEFAULT_METRICS.map((name) => `${name} non-counter metrics should not have "_total" suffix`).sort());
  });
});

describe('createMetricsRegistry', () => {
  it('serves the process metrics without a naming problem, keeping the labelled siblings of the dropped gauges', async () => {
    const text = await createMetricsRegistry({ processMetrics: true }).metrics();
    expect(expositionProblems(text)).toEqual([]);
    for (const name of DROPPED_DEFAULT_METRICS) expect(text).not.toContain(`# TYPE ${name} `);
    expect(text).toContain('# TYPE nodejs_active_handles gauge');
    expect(text).toContain('# TYPE process_resident_memory_bytes gauge');
    expect(text).toContain('# TYPE nodejs_gc_duration_seconds histogram');
  });

  it('refuses a badly named metric when it is created, naming the metric and the rule', () => {
    const registry = createMetricsRegistry();
    expect(() => new Gauge({ name: 'open_sessions_total', help: 'Open sessions.', registers: [registry] })).toThrow(new MetricNameError('open_sessions_total', ['non-counter metrics should not have "_total" suffix']));
    expect(() => new Counter({ name: 'tool_calls', help: 'Calls.', registers: [registry] })).toThrow('metric tool_calls: counter metrics should have "_total" suffix');
    expect(() => new Histogram({ name: 'call_duration_ms', help: 'Duration.', registers: [registry] })).toThrow(MetricNameError);
    expect(() => new Summary({ name: 'call_seconds', help: 'Duration.', labelNames: ['toolName'], registers: [registry] })).toThrow("label names should be written in 'snake_case' not 'camelCase'");
    expect(registry.getMetricsAsArray()).toEqual([]);
  });

  it('accepts well-named metrics of every type', async () => {
    const registry = new CheckedRegistry();
    new Counter({ name: 'tool_calls_total', help: 'Calls.', labelNames: ['tool_name'], registers: [registry] }).inc({ tool_name: 'x' });
    new Gauge({ name: 'open_sessions', help: 'Open sessions.', registers: [registry] }).set(2);
    new Histogram({ name: 'call_duration_seconds', help: 'Duration.', registers: [registry] }).observe(0.2);
    new Summary({ name: 'payload_bytes', help: 'Payload.', registers: [registry] }).observe(10);
    const text = await registry.metrics();
    expect(expositionFamilies(text).families.map((f) => f.name)).toEqual(['tool_calls_total', 'open_sessions', 'call_duration_seconds', 'payload_bytes']);
    expect(expositionProblems(text)).toEqual([]);
  });
});
