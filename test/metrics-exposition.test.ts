// Every /metrics of a running cluster, as a Prometheus server would scrape it: each pod's (account-mcp,
// transaction-mcp, ticket-mcp, the converter, the attacker, the three agents) and the cluster's own (ztunnel,
// waypoints, the agent gateway, admission, the `up` process) on its Prometheus-compatible host port. Each one
// must pass `promtool check metrics`, Prometheus' own verdict, and the same naming rules checked without
// promtool (src/core/metric-names.ts), after real traffic has filled in the series.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_PROMPT } from '../src/demo/demo.ts';
import { expositionProblems } from '../src/core/metric-names.ts';
import { forwardToPod, startTestCluster, type TestCluster } from '../testing/cluster.ts';
import { PROMTOOL_MISSING, promtoolCheckMetrics } from '../testing/prometheus-tools.ts';

interface Scrape {
  endpoint: string;
  contentType: string;
  text: string;
}

describe('every /metrics endpoint of the cluster', () => {
  let t: TestCluster;
  const scrapes: Scrape[] = [];
  beforeAll(async () => {
    t = await startTestCluster();
    // Traffic through every layer first, so the exposition holds labelled series, not only declarations.
    const answer = await t.chat(SEED_PROMPT);
    expect(JSON.stringify(answer)).toContain('$');

    const scrape = async (endpoint: string, url: string): Promise<void> => {
      const response = await fetch(url);
      expect(response.status, endpoint).toBe(200);
      scrapes.push({ endpoint, contentType: response.headers.get('content-type') ?? '', text: await response.text() });
    };
    const cluster = t.cluster.forwards.find((f) => f.service === 'prometheus');
    if (!cluster) throw new Error(`no Prometheus-compatible host port among ${t.cluster.forwards.map((f) => f.service).join(', ')}`);
    await scrape('cluster (ztunnel, waypoints, agent gateway, control plane)', new URL('/metrics', cluster.url).href);
    // The evidence components' own: the Alertmanager and the inbox on their host ports, the embedded
    // Prometheus' as its scrape of itself reads it.
    for (const service of ['alertmanager', 'soc-inbox']) await scrape(`evidence ${service}`, new URL('/metrics', t.cluster.forwards.find((f) => f.service === service)!.url).href);
    scrapes.push({ endpoint: 'evidence prometheus', contentType: 'text/plain; version=0.0.4; charset=utf-8', text: t.cluster.evidence.monitor.metricsText() });
    for (const pod of t.cluster.engine.allPods()) {
      const [port] = [...pod.listeners.keys()];
      if (port === undefined) throw new Error(`${pod.uid} listens on no port`);
      const forward = await forwardToPod(pod, port);
      try {
        await scrape(`pod ${pod.namespace}/${pod.workload}`, `${forward.url}/metrics`);
      } finally {
        await forward.close();
      }
    }
  }, 240_000);
  afterAll(async () => {
    await t?.close();
  });

  it('reaches the cluster and every pod, each in the text exposition format', () => {
    expect(scrapes.map((s) => s.endpoint).sort()).toEqual([
      'cluster (ztunnel, waypoints, agent gateway, control plane)',
      'evidence alertmanager',
      'evidence prometheus',
      'evidence soc-inbox',
      'pod external-attacker/mock-attacker',
      'pod trustusbank-bank-agents/fraud-bot',
      'pod trustusbank-bank-agents/support-bot',
      'pod trustusbank-bank-agents/triage-bot',
      'pod trustusbank-bank-frontend/chatbot',
      'pod trustusbank-bank-mcp/account-mcp',
      'pod trustusbank-bank-mcp/ticket-mcp',
      'pod trustusbank-bank-mcp/transaction-mcp',
      'pod trustusbank-bank-vendors/currency-converter',
    ]);
    for (const s of scrapes) expect(s.contentType, s.endpoint).toBe('text/plain; version=0.0.4; charset=utf-8');
    const cluster = scrapes.find((s) => s.endpoint.startsWith('cluster'))!.text;
    for (const name of ['istio_tcp_connections_opened_total', 'agentgateway_requests_total', 'agentgateway_mcp_requests_total', 'process_resident_memory_bytes']) {
      expect(cluster, name).toMatch(new RegExp(`^${name}\\{?`, 'm'));
    }
    const account = scrapes.find((s) => s.endpoint.endsWith('/account-mcp'))!.text;
    expect(account).toMatch(/^mcp_tool_calls_total\{.*tool="get_balance"/m);
  });

  it('passes the naming rules on every endpoint (the rule promtool applies, checked without promtool)', () => {
    for (const s of scrapes) expect(expositionProblems(s.text), s.endpoint).toEqual([]);
  });

  describe.skipIf(PROMTOOL_MISSING !== undefined)('promtool check metrics', () => {
    it('passes on every endpoint', async () => {
      for (const s of scrapes) {
        const verdict = await promtoolCheckMetrics(s.text);
        expect({ endpoint: s.endpoint, ...verdict }).toEqual({ endpoint: s.endpoint, code: 0, output: '' });
      }
    });

    it('is a real check: it flags the gauges named like counters that prom-client exposes by default', async () => {
      const verdict = await promtoolCheckMetrics('# HELP nodejs_active_handles_total Total number of active handles.\n# TYPE nodejs_active_handles_total gauge\nnodejs_active_handles_total 3\n');
      expect(verdict.code).not.toBe(0);
      expect(verdict.output).toContain('nodejs_active_handles_total non-counter metrics should not have "_total" suffix');
    });
  });
});
