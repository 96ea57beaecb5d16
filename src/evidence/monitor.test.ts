// The embedded Prometheus end to end in-process: a target scraped over HTTP, a seed alert rule going pending →
// firing → resolved on a controlled clock, alerts sent on as Alertmanager takes them, and the HTTP API answering
// in Prometheus' shapes (and promtool's own client, where Debian's prometheus package is installed).
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueryApi, formatNumber } from './api/query-api.ts';
import { prometheusPage } from './api/page.ts';
import { Monitor, type PostableAlert } from './monitor.ts';
import { loadRuleFile } from './rules/index.ts';
import { Scraper, type ScrapeTarget } from './scrape/scrape.ts';
import { nodeOnlyMetric } from './scrape/discovery.ts';
import { MemoryStore, newMatcher } from './tsdb/index.ts';
import { expositionProblems } from '../core/metric-names.ts';
import { PROMTOOL_MISSING, PROMTOOL_PATH } from '../../testing/prometheus-tools.ts';

const RULES = `groups:
  - name: trustusbank-mesh
    rules:
      - alert: BankToAttackerAttempt
        expr: sum by (source_workload, source_workload_namespace, source_principal) (rate(istio_tcp_connections_opened_total{source_workload_namespace=~"trustusbank-bank-.*|trustusbank-platform", destination_workload_namespace="external-attacker"}[10m])) > 0
        for: 4s
        labels:
          severity: critical
          dora_article: "10"
        annotations:
          summary: "{{ $labels.source_workload }} in {{ $labels.source_workload_namespace }} tried to reach the attacker"
`;

describe('the embedded Prometheus', () => {
  let exposed = 0;
  let targetUp = true;
  let clock = Date.parse('2026-12-02T12:00:00Z');
  let target: Server;
  let api: Server;
  let apiUrl = '';
  const sent: PostableAlert[][] = [];
  let monitor: Monitor;

  beforeAll(async () => {
    target = createServer((_req, res) => {
      if (!targetUp) return void res.writeHead(500).end('down');
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(
        [
          '# TYPE istio_tcp_connections_opened_total counter',
          `istio_tcp_connections_opened_total{reporter="source",source_workload="currency-converter",source_workload_namespace="trustusbank-bank-vendors",source_principal="spiffe://cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter",destination_workload_namespace="external-attacker",job="exposed-by-target"} ${exposed}`,
          '',
        ].join('\n'),
      );
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const targetUrl = `http://127.0.0.1:${(target.address() as { port: number }).port}/metrics`;
    const scrapeTarget: ScrapeTarget = {
      key: 'node/ztunnel',
      labels: { job: 'ztunnel', instance: 'node', namespace: 'istio-system' },
      url: targetUrl,
      fetch: async (signal) => {
        const response = await fetch(targetUrl, { signal });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return response.text();
      },
    };
    monitor = new Monitor({
      discover: () => [scrapeTarget],
      ruleGroups: () => loadRuleFile(RULES, 'rules.yaml'),
      now: () => clock,
      notify: async (alerts) => void sent.push(alerts),
      resendDelayMs: 60_000,
    });
    const handler = createQueryApi({ store: monitor.store, scraper: monitor.scraper, rules: () => monitor.ruleGroups(), now: () => clock });
    api = createServer((req, res) => void handler.handle(req, res).then((handled) => handled || res.writeHead(404).end()));
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    apiUrl = `http://127.0.0.1:${(api.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await monitor.stop();
    await Promise.all([target, api].map((s) => new Promise((resolve) => s.close(resolve))));
  });

  const round = async (): Promise<void> => {
    clock += 2_000;
    await monitor.scraper.scrapeOnce();
    await monitor.evaluateOnce();
  };
  const query = async (q: string, extra = ''): Promise<{ status: number; body: { status: string; data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] }; errorType?: string; error?: string } }> => {
    const response = await fetch(`${apiUrl}/api/v1/query?query=${encodeURIComponent(q)}${extra}`);
    return { status: response.status, body: (await response.json()) as never };
  };

  it('scrapes the target with its labels and the scrape series, and a clean run fires nothing', async () => {
    for (let i = 0; i < 4; i++) await round();
    const up = await query('up');
    expect(up.status).toBe(200);
    expect(up.body.data!.resultType).toBe('vector');
    expect(up.body.data!.result).toEqual([{ metric: { __name__: 'up', job: 'ztunnel', instance: 'node', namespace: 'istio-system' }, value: [clock / 1000, '1'] }]);
    // The target's own `job` label loses to the target's, and is kept as exported_job (honor_labels: false).
    const opened = await query('istio_tcp_connections_opened_total');
    expect(opened.body.data!.result[0]!.metric).toMatchObject({ job: 'ztunnel', exported_job: 'exposed-by-target' });
    expect(monitor.alerts()).toEqual([]);
    expect(sent).toEqual([]);
  });

  it('fires BankToAttackerAttempt after its `for` once attempts are counted, and sends it on once per resend delay', async () => {
    exposed = 1;
    await round();
    expect(monitor.alerts().map((a) => a.state)).toEqual(['pending']);
    await round();
    await round();
    expect(monitor.alerts().map((a) => [a.rule, a.state])).toEqual([['BankToAttackerAttempt', 'firing']]);
    expect(sent).toHaveLength(1);
    expect(sent[0]![0]).toMatchObject({
      labels: { alertname: 'BankToAttackerAttempt', severity: 'critical', dora_article: '10', source_workload: 'currency-converter' },
      annotations: { summary: 'currency-converter in trustusbank-bank-vendors tried to reach the attacker' },
    });
    expect(Date.parse(sent[0]![0]!.endsAt)).toBeGreaterThan(clock);
    await round();
    expect(sent).toHaveLength(1);
    const alerts = (await (await fetch(`${apiUrl}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
    expect(alerts.data.alerts.map((a) => [a.labels.alertname, a.state])).toEqual([['BankToAttackerAttempt', 'firing']]);
    const rules = (await (await fetch(`${apiUrl}/api/v1/rules?type=alert`)).json()) as { data: { groups: { name: string; rules: { name: string; state: string; health: string; type: string }[] }[] } };
    expect(rules.data.groups[0]!.rules[0]).toMatchObject({ name: 'BankToAttackerAttempt', state: 'firing', health: 'ok', type: 'alerting' });
  });

  it("exposes its own metrics with Prometheus' names: the store, the rule groups and the alerts sent", () => {
    const text = monitor.metricsText();
    expect(expositionProblems(text)).toEqual([]);
    expect(text).toMatch(/^prometheus_notifications_sent_total 1$/m);
    expect(text).toMatch(/^prometheus_rule_group_rules\{rule_group="rules.yaml;trustusbank-mesh"\} 1$/m);
    expect(text).toMatch(/^prometheus_rule_group_last_evaluation_timestamp_seconds\{rule_group="rules.yaml;trustusbank-mesh"\} \d+/m);
    expect(Number(/^trustusbank_tsdb_series (\d+)$/m.exec(text)![1])).toBe(monitor.store.stats().series);
  });

  it('marks the series stale and up 0 when the target fails, and answers /targets with the error', async () => {
    targetUp = false;
    await round();
    expect((await query('up')).body.data!.result[0]!.value[1]).toBe('0');
    expect((await query('istio_tcp_connections_opened_total')).body.data!.result).toEqual([]);
    const targets = (await (await fetch(`${apiUrl}/api/v1/targets`)).json()) as { data: { activeTargets: { health: string; lastError: string; scrapePool: string }[] } };
    expect(targets.data.activeTargets).toEqual([expect.objectContaining({ health: 'down', lastError: 'HTTP 500', scrapePool: 'ztunnel' })]);
    targetUp = true;
  });

  it('refuses bad input in Prometheus error shapes', async () => {
    const broken = await query('sum(');
    expect(broken.status).toBe(400);
    expect(broken.body).toMatchObject({ status: 'error', errorType: 'bad_data' });
    expect(broken.body.error).toMatch(/parse error/);
    expect((await query('up', '&time=yesterday')).status).toBe(400);
    const series = await fetch(`${apiUrl}/api/v1/series`);
    expect(series.status).toBe(400);
    expect(((await series.json()) as { error: string }).error).toBe('no match[] parameter provided');
    const range = await fetch(`${apiUrl}/api/v1/query_range?query=up&start=10&end=5&step=1`);
    expect(range.status).toBe(400);
  });

  it('answers series, labels, label values, range queries and federation', async () => {
    await round();
    const names = (await (await fetch(`${apiUrl}/api/v1/label/__name__/values`)).json()) as { data: string[] };
    expect(names.data).toEqual(expect.arrayContaining(['ALERTS', 'istio_tcp_connections_opened_total', 'scrape_duration_seconds', 'scrape_samples_scraped', 'up']));
    const labels = (await (await fetch(`${apiUrl}/api/v1/labels`)).json()) as { data: string[] };
    expect(labels.data).toEqual([...labels.data].sort());
    expect(labels.data).toContain('source_principal');
    const range = (await (await fetch(`${apiUrl}/api/v1/query_range?query=up&start=${(clock - 4_000) / 1000}&end=${clock / 1000}&step=2`)).json()) as { data: { resultType: string; result: { values: [number, string][] }[] } };
    expect(range.data.resultType).toBe('matrix');
    // Up before the failed scrape, down at it, up again at the last round.
    expect(range.data.result[0]!.values.map((v) => v[1])).toEqual(['1', '0', '1']);
    const federate = await (await fetch(`${apiUrl}/federate?match[]=${encodeURIComponent('{job="ztunnel"}')}`)).text();
    expect(federate).toMatch(/^# TYPE up untyped\nup\{instance="node",job="ztunnel",namespace="istio-system"\} 1 \d+$/m);
  });

  it('formats values as Prometheus does', () => {
    expect([formatNumber(1), formatNumber(0.5), formatNumber(1e21), formatNumber(1e-7), formatNumber(-2.5e-8), formatNumber(Infinity), formatNumber(-Infinity), formatNumber(NaN)]).toEqual(['1', '0.5', '1000000000000000000000', '0.0000001', '-0.000000025', '+Inf', '-Inf', 'NaN']);
  });

  describe.skipIf(PROMTOOL_MISSING !== undefined)("promtool's own client", () => {
    it('queries the API and gets what the API says', async () => {
      const { stdout } = await promisify(execFile)(PROMTOOL_PATH!, ['query', 'instant', `--time=${new Date(clock).toISOString()}`, apiUrl, 'up']);
      expect(stdout.trim()).toMatch(/^up\{instance="node", job="ztunnel", namespace="istio-system"\} => 1 @\[[\d.]+\]$/);
    });
  });
});

describe('the first attempt, and a new epoch', () => {
  const LABELS = 'reporter="source",source_workload="currency-converter",source_workload_namespace="trustusbank-bank-vendors",source_principal="spiffe://cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter",destination_workload_namespace="external-attacker"';
  let exposition = '';
  let hold: Promise<void> | undefined;
  let clock = Date.parse('2026-12-02T12:00:00Z');
  const monitor = new Monitor({
    discover: () => [{ key: 'node/ztunnel', labels: { job: 'ztunnel', instance: 'node', namespace: 'istio-system' }, url: 'http://node/metrics', fetch: async () => (await hold, exposition) }],
    ruleGroups: () => loadRuleFile(RULES, 'rules.yaml'),
    now: () => clock,
  });
  const round = async (): Promise<void> => {
    clock += 2_000;
    await monitor.scraper.scrapeOnce();
    await monitor.evaluateOnce();
  };
  const opened = (value: number) => `# TYPE istio_tcp_connections_opened_total counter\nistio_tcp_connections_opened_total{${LABELS}} ${value}\n`;

  it('fires on the first attempt ever: a counter that appears at 1 between two scrapes started at zero', async () => {
    await round();
    exposition = opened(1);
    await round();
    expect(monitor.alerts().map((a) => [a.rule, a.state])).toEqual([['BankToAttackerAttempt', 'pending']]);
    for (let i = 0; i < 3; i++) await round();
    expect(monitor.alerts().map((a) => [a.rule, a.state])).toEqual([['BankToAttackerAttempt', 'firing']]);
  });

  it("reset forgets alerts and samples: the previous run's attempts fire nothing in the next", async () => {
    await monitor.reset();
    expect(monitor.alerts()).toEqual([]);
    expect(monitor.store.stats().series).toBe(0);
    // The counter is still at 1 at its source: the new epoch's first scrape takes it as the baseline.
    for (let i = 0; i < 5; i++) await round();
    expect(monitor.alerts()).toEqual([]);
    exposition = opened(2);
    await round();
    expect(monitor.alerts().map((a) => a.state)).toEqual(['pending']);
  });

  it('stores nothing from a scrape that was running when reset came', async () => {
    await monitor.reset();
    let release!: () => void;
    hold = new Promise((resolve) => (release = resolve));
    const running = monitor.scraper.scrapeOnce();
    const reset = monitor.reset();
    release();
    await Promise.all([running, reset]);
    hold = undefined;
    expect(monitor.store.stats().series).toBe(0);
    expect(monitor.scraper.targets().map((t) => t.health)).toEqual(['unknown']);
  });
});

describe('a scrape target that lies or floods', () => {
  const target = (text: string, dropMetric?: (name: string) => boolean): ScrapeTarget => ({
    key: 'pod',
    labels: { job: 'currency-converter', instance: '10.244.0.8:8080', namespace: 'trustusbank-bank-vendors' },
    url: 'http://10.244.0.8:8080/metrics',
    fetch: async () => text,
    ...(dropMetric ? { dropMetric } : {}),
  });

  it("drops the metrics only the node may report, and keeps the pod's own", async () => {
    const forged = [
      'istio_tcp_connections_failed_total{reporter="source",source_workload="support-bot",response_flags="CONNECT"} 5',
      'ALERTS{alertname="IstioAuthZDeny",alertstate="firing"} 1',
      'converter_requests_total 3',
      '',
    ].join('\n');
    const store = new MemoryStore();
    const scraper = new Scraper({ store, discover: () => [target(forged, nodeOnlyMetric)], now: () => 1_000_000 });
    await scraper.scrapeOnce();
    const names = store.labelSets([newMatcher('=~', '__name__', '.+')]).map((l) => l.__name__).sort();
    expect(names).toEqual(['converter_requests_total', 'scrape_duration_seconds', 'scrape_samples_scraped', 'up']);
    // The node's own target is not filtered: the same names from it are the evidence.
    expect(nodeOnlyMetric('istio_tcp_connections_opened_total')).toBe(true);
    expect(nodeOnlyMetric('agentgateway_requests_total')).toBe(true);
    expect(nodeOnlyMetric('nodejs_heap_size_used_bytes')).toBe(false);
  });

  it('stores no forged series when the name is smuggled in as a __name__ label', async () => {
    const store = new MemoryStore();
    const smuggled = 'innocent_total{__name__="istio_tcp_connections_failed_total",source_workload="support-bot",response_flags="CONNECT"} 7\n';
    const scraper = new Scraper({ store, discover: () => [target(smuggled, nodeOnlyMetric)], now: () => 1_000_000 });
    await scraper.scrapeOnce();
    expect(store.labelSets([newMatcher('=', '__name__', 'istio_tcp_connections_failed_total')])).toEqual([]);
    expect(store.labelSets([newMatcher('=', 'source_workload', 'support-bot')])).toEqual([]);
  });

  it('fails a scrape over the sample limit with up 0, storing none of it', async () => {
    const flood = Array.from({ length: 50 }, (_, i) => `flood_total{i="${i}"} 1`).join('\n');
    const store = new MemoryStore();
    const scraper = new Scraper({ store, discover: () => [target(flood)], now: () => 1_000_000, sampleLimit: 40 });
    await scraper.scrapeOnce();
    expect(store.labelSets([newMatcher('=', '__name__', 'flood_total')])).toEqual([]);
    expect(scraper.targets()[0]).toMatchObject({ health: 'down', lastError: 'sample limit exceeded: 50 samples, limit 40' });
  });
});

describe("the embedded Prometheus' page", () => {
  it('runs a query on the server, lists rules and targets, escapes what targets say, and allows no script', async () => {
    const store = new MemoryStore();
    const hostile: ScrapeTarget = { key: 'p', labels: { job: 'x<script>alert(1)</script>', instance: 'p:1' }, url: 'http://p:1/metrics', fetch: async () => 'hostile_total{note="<img src=x onerror=alert(1)>"} 1\n' };
    const scraper = new Scraper({ store, discover: () => [hostile], now: () => 5_000_000 });
    await scraper.scrapeOnce();
    const page = prometheusPage({ store, scraper, rules: () => [], now: () => 5_000_000 });
    const server = createServer((req, res) => page(req, res, new URL(req.url ?? '/', 'http://x')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const ok = await fetch(`${base}/?query=${encodeURIComponent('hostile_total')}`);
      const html = await ok.text();
      expect(ok.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
      expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
      expect(html).toContain('x&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(html).not.toMatch(/<script|<img/);
      const bad = await (await fetch(`${base}/?query=${encodeURIComponent('sum(')}`)).text();
      expect(bad).toMatch(/<p class="error" role="alert">bad_data: 1:\d+: parse error/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
