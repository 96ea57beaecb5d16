// The Prometheus-compatible listener: a real HTTP scrape of /metrics, the route table later modules extend, a
// clear error when the port is taken, and (where Debian's prometheus is installed) a real Prometheus scraping it.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROMETHEUS_MISSING, startRealPrometheus, type RealPrometheus } from '../../testing/prometheus-tools.ts';
import { closeServer, listen, sendJson } from '../core/http.ts';
import { createMetricsRegistry } from '../core/metrics.ts';
import { expositionProblems } from '../core/metric-names.ts';
import { createGuardedServer } from '../core/request-guard.ts';
import { DuplicateRouteError, createPrometheusApi, type PrometheusApi } from './prometheus-api.ts';
import { createQueryApi } from './api/query-api.ts';
import { Monitor } from './monitor.ts';
import { loadRuleFile } from './rules/index.ts';

/** The shipped rules, in the plain rule-file form promtool reads. */
const SHIPPED_RULES = join(import.meta.dirname, '..', '..', 'deploy', 'prometheus', 'trustusbank.rules.yaml');

async function serve(api: PrometheusApi): Promise<{ server: Server; url: string; port: number }> {
  const server = createGuardedServer({ shape: 'json' }, (req, res) => api.handle(req, res)) as unknown as Server;
  const bound = await listen(server, { host: '127.0.0.1', port: 0, portHint: '--metrics-port N' });
  return { server, url: bound.url, port: bound.port };
}

describe('the Prometheus-compatible listener', () => {
  let registry: Registry;
  let api: PrometheusApi;
  let served: { server: Server; url: string; port: number };
  beforeAll(async () => {
    registry = createMetricsRegistry({ processMetrics: true });
    new Counter({ name: 'istio_tcp_connections_opened_total', help: 'Connections opened.', labelNames: ['reporter', 'source_principal'], registers: [registry] }).inc({ reporter: 'destination', source_principal: 'spiffe://cluster.local/ns/a/sa/b' }, 3);
    api = createPrometheusApi({ metrics: registry });
    served = await serve(api);
  });
  afterAll(async () => {
    await closeServer(served.server);
  });

  it('serves the registry on GET /metrics in the text exposition format, named as promtool wants', async () => {
    const response = await fetch(`${served.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    expect(text).toContain('istio_tcp_connections_opened_total{reporter="destination",source_principal="spiffe://cluster.local/ns/a/sa/b"} 3');
    expect(text).toContain('# TYPE process_resident_memory_bytes gauge');
    expect(expositionProblems(text)).toEqual([]);
  });

  it('answers HEAD like GET without a body, a wrong method with 405 and Allow, an unknown path with 404 naming the routes', async () => {
    const head = await fetch(`${served.url}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const post = await fetch(`${served.url}/metrics`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(await post.json()).toEqual({ error: 'POST is not served on /metrics (allowed: GET)' });
    const missing = await fetch(`${served.url}/api/v1/querry`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toBe('nothing is served at /api/v1/querry; this listener serves GET /, GET /metrics');
    const index = await (await fetch(`${served.url}/`)).text();
    expect(index).toContain('GET /metrics');
  });

  it('refuses request-targets that are not paths in its own error shape', async () => {
    const { request } = await import('node:http');
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: served.port, path: '//evil.example/metrics', method: 'GET' }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.once('error', reject);
      req.end();
    });
    // `//evil.example/metrics` is the path `//evil.example/metrics` here, never a scheme-relative URL to another host.
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toHaveProperty('error');
  });

  it('takes routes from other modules: exact, and a prefix for the rest of a path; a second handler for a key is refused', async () => {
    const extended = createPrometheusApi({ metrics: registry });
    extended.route('GET', '/api/v1/query', (_req, res, url) => sendJson(res, 200, { status: 'success', query: url.searchParams.get('query') }));
    extended.route('POST', '/api/v1/query', (_req, res) => sendJson(res, 200, { status: 'success', via: 'POST' }));
    extended.route('GET', '/api/v1/label/*', (_req, res, url) => sendJson(res, 200, { status: 'success', path: url.pathname }));
    extended.route('GET', '/api/v1/label/__name__/values', (_req, res) => sendJson(res, 200, { status: 'success', exact: true }));
    expect(() => extended.route('GET', '/metrics', () => undefined)).toThrow(new DuplicateRouteError('GET /metrics'));
    expect(() => extended.route('GET', '/api/v1/label/*', () => undefined)).toThrow(DuplicateRouteError);
    expect(extended.routes()).toEqual(['GET /', 'GET /api/v1/label/*', 'GET /api/v1/label/__name__/values', 'GET /api/v1/query', 'GET /metrics', 'POST /api/v1/query']);

    const s = await serve(extended);
    try {
      expect(await (await fetch(`${s.url}/api/v1/query?query=up`)).json()).toEqual({ status: 'success', query: 'up' });
      expect(await (await fetch(`${s.url}/api/v1/query`, { method: 'POST' })).json()).toEqual({ status: 'success', via: 'POST' });
      expect(await (await fetch(`${s.url}/api/v1/label/job/values`)).json()).toEqual({ status: 'success', path: '/api/v1/label/job/values' });
      expect(await (await fetch(`${s.url}/api/v1/label/__name__/values`)).json()).toEqual({ status: 'success', exact: true });
      expect((await fetch(`${s.url}/metrics`)).status).toBe(200);
      const wrong = await fetch(`${s.url}/api/v1/query`, { method: 'DELETE' });
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get('allow')).toBe('GET, POST, HEAD');
    } finally {
      await closeServer(s.server);
    }
  });

  it('names the port and the flag to move it when the port is taken', async () => {
    const second = createGuardedServer({ shape: 'json' }, (req, res) => api.handle(req, res)) as unknown as Server;
    await expect(listen(second, { host: '127.0.0.1', port: served.port, portHint: '--metrics-port N' })).rejects.toThrow(
      `port ${served.port} on 127.0.0.1 is already in use; choose another with --metrics-port N`,
    );
  });
});

describe.skipIf(PROMETHEUS_MISSING !== undefined)('a real Prometheus scraping the listener', () => {
  let prometheus: RealPrometheus | undefined;
  let served: { server: Server; url: string; port: number };
  afterAll(async () => {
    await prometheus?.close();
    if (served) await closeServer(served.server);
  });

  it('scrapes /metrics: the target is up and the series read back with their values and labels', async () => {
    const registry = createMetricsRegistry({ processMetrics: true });
    new Counter({ name: 'agentgateway_requests_total', help: 'Requests.', labelNames: ['status', 'reason'], registers: [registry] }).inc({ status: '403', reason: 'policy' }, 7);
    new Gauge({ name: 'trustusbank_scrape_probe', help: 'A value the test reads back.', registers: [registry] }).set(42);
    served = await serve(createPrometheusApi({ metrics: registry }));
    prometheus = await startRealPrometheus(['global:', '  scrape_interval: 1s', 'scrape_configs:', '  - job_name: trustusbank', '    static_configs:', `      - targets: ['127.0.0.1:${served.port}']`, ''].join('\n'));
    // Readiness, not a sleep: poll until the first scrape has landed (about 5 s after start on this machine).
    const up = await prometheus.until('up{job="trustusbank"}');
    expect(up[0]!.value[1]).toBe('1');
    expect((await prometheus.query('agentgateway_requests_total'))!.map((r) => [r.metric, r.value[1]])).toEqual([[{ __name__: 'agentgateway_requests_total', instance: `127.0.0.1:${served.port}`, job: 'trustusbank', reason: 'policy', status: '403' }, '7']]);
    expect((await prometheus.query('trustusbank_scrape_probe'))![0]!.value[1]).toBe('42');
    expect(Number((await prometheus.query('scrape_samples_scraped{job="trustusbank"}'))![0]!.value[1])).toBeGreaterThan(20);
  }, 60_000);
});

describe.skipIf(PROMETHEUS_MISSING !== undefined)('a real Prometheus federating from the embedded one', () => {
  let prometheus: RealPrometheus | undefined;
  let monitor: Monitor;
  let served: { server: Server; url: string; port: number };
  afterAll(async () => {
    await prometheus?.close();
    await monitor?.stop();
    if (served) await closeServer(served.server);
  });

  it('takes the series and the firing ALERTS from /federate with their labels (honor_labels), as from a real one', async () => {
    const LABELS = 'reporter="source",source_workload="currency-converter",source_workload_namespace="trustusbank-bank-vendors",source_principal="spiffe://cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter",destination_workload_namespace="external-attacker"';
    let attempts = 0;
    monitor = new Monitor({
      discover: () => [{ key: 'node', labels: { job: 'trustusbank-node', instance: 'node', namespace: 'istio-system' }, url: 'http://node/metrics', fetch: async () => (attempts === 0 ? '' : `# TYPE istio_tcp_connections_opened_total counter\nistio_tcp_connections_opened_total{${LABELS}} ${attempts}\n`) }],
      ruleGroups: () => loadRuleFile(readFileSync(SHIPPED_RULES, 'utf8'), SHIPPED_RULES),
      scrapeIntervalMs: 500,
      evaluationIntervalMs: 500,
    });
    const api = createPrometheusApi({ metrics: createMetricsRegistry() });
    const queryApi = createQueryApi({ store: monitor.store, scraper: monitor.scraper, rules: () => monitor.ruleGroups() });
    api.route('GET', '/federate', async (req, res) => void (await queryApi.handle(req, res)));
    served = await serve(api);
    monitor.start();
    // The converter's first attempt: BankToAttackerAttempt fires in the embedded Prometheus.
    await eventually('the first scrape', async () => (monitor.scraper.targets()[0]?.health === 'up' ? true : undefined));
    attempts = 1;
    await eventually('BankToAttackerAttempt firing', async () => (monitor.alerts().some((a) => a.rule === 'BankToAttackerAttempt' && a.state === 'firing') ? true : undefined));

    prometheus = await startRealPrometheus(
      [
        'global:',
        '  scrape_interval: 1s',
        'scrape_configs:',
        '  - job_name: trustusbank-federate',
        '    honor_labels: true',
        '    metrics_path: /federate',
        '    params:',
        "      'match[]': ['{__name__=~\"ALERTS|istio_tcp_connections_opened_total\"}']",
        '    static_configs:',
        `      - targets: ['127.0.0.1:${served.port}']`,
        '',
      ].join('\n'),
    );
    const alerts = await prometheus.until('ALERTS{alertstate="firing"}');
    expect(alerts.map((a) => a.metric)).toEqual([
      expect.objectContaining({ __name__: 'ALERTS', alertname: 'BankToAttackerAttempt', alertstate: 'firing', severity: 'critical', dora_article: '10', source_workload: 'currency-converter', source_principal: 'spiffe://cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter' }),
    ]);
    // honor_labels: the embedded Prometheus' target labels are kept, not overwritten by the federating job's.
    const opened = (await prometheus.query('istio_tcp_connections_opened_total'))!;
    expect(opened.map((s) => [s.metric.job, s.metric.instance, s.metric.destination_workload_namespace, s.value[1]])).toEqual([['trustusbank-node', 'node', 'external-attacker', '1']]);
    expect((await prometheus.query('up{job="trustusbank-federate"}'))![0]!.value[1]).toBe('1');
  }, 90_000);
});

/** Poll (bounded) until `check` gives a value. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
