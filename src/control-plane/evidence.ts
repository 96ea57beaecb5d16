// The evidence stack wired to the cluster, as kube-prometheus wires it to Kubernetes: the embedded Prometheus
// scrapes every ready pod's /metrics (discovered from the pods and the Services that select them) and the node's
// own exposition (ztunnel, waypoints, gateways, admission), evaluates the PrometheusRule resources applied to
// the cluster, and sends firing alerts to the Alertmanager over its API v2; the Alertmanager mails the SOC inbox
// over SMTP. The query API joins the 18002 listener; the Alertmanager (18013) and the inbox (18012, SMTP 1025)
// listen on the host's loopback, where ztunnel never lets a pod connect (node-local addresses are refused).
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { Logger } from '../core/log.ts';
import { resetCumulativeMetrics } from '../core/metrics.ts';
import { startAlertmanager, type RunningAlertmanager } from '../evidence/alertmanager/index.ts';
import { createQueryApi, QUERY_API_PATHS } from '../evidence/api/query-api.ts';
import { prometheusPage } from '../evidence/api/page.ts';
import { startInbox, type RunningInbox } from '../evidence/inbox/index.ts';
import { Monitor } from '../evidence/monitor.ts';
import type { PrometheusApi } from '../evidence/prometheus-api.ts';
import type { RuleGroup } from '../evidence/rules/index.ts';
import { nodeOnlyMetric, podTargets } from '../evidence/scrape/discovery.ts';
import type { ScrapeTarget } from '../evidence/scrape/scrape.ts';
import type { Service } from '../manifests/types.ts';
import type { SocketAddress } from '../mesh/capture/protocol.ts';
import type { Engine } from './engine.ts';
import { connectAsNode } from '../runtime/pod.ts';

export const ALERTMANAGER_PORT = 18013;
export const INBOX_PORT = 18012;
export const SMTP_PORT = 1025;

export interface EvidenceOptions {
  engine: Engine;
  /** The PrometheusRules' groups, kept loaded by their controller. */
  rules: { groups(): RuleGroup[] };
  /** The node's own exposition (the `up` process: ztunnel, waypoints, gateways, admission). */
  /** The cluster's own registry: scraped as the node, its counters zeroed by `reset`. */
  nodeMetrics: Registry;
  /** The 18002 listener the query API joins, and its URL (for links and generator URLs). */
  prometheusApi: PrometheusApi;
  prometheusUrl: () => string;
  manifestsDir: string;
  alertmanagerPort: number;
  inboxPort: number;
  smtpPort: number;
  log: Logger;
  scrapeIntervalMs?: number;
  evaluationIntervalMs?: number;
  /** A security event for the ledger: an alert firing or resolved, a notification sent, a mail received. */
  record?: (kind: string, subject: string, data: Record<string, unknown>) => void;
}

export interface Evidence {
  monitor: Monitor;
  alertmanager: RunningAlertmanager;
  inbox: RunningInbox;
  /**
   * `reset`: a new epoch of evidence. The cluster's own counters (ztunnel, gateways, waypoints, admission) start
   * at zero, the metric store is emptied, and there is no alert state, no silence and no mail.
   */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function startEvidence(options: EvidenceOptions): Promise<Evidence> {
  const { engine, log } = options;
  const record = options.record ?? (() => undefined);
  const inbox = await startInbox({
    smtpPort: options.smtpPort,
    httpPort: options.inboxPort,
    httpPortHint: '--inbox-port N',
    smtpPortHint: '--smtp-port N',
    log: (message) => log.info('inbox', { message }),
    onMessage: (m) => record('mail.received', m.decoded.to.join(', ') || m.envelopeTo.join(', '), { subject: m.decoded.subject, from: m.decoded.from || m.envelopeFrom, to: m.envelopeTo, message_id: m.id }),
  });
  let alertmanager: RunningAlertmanager;
  try {
    // Alertmanager's own file, pointed at this stack's inbox (its smarthost is the only thing that varies).
    const config = readFileSync(join(options.manifestsDir, 'evidence', 'alertmanager.yaml'), 'utf8').replace(/^(\s*smtp_smarthost:).*$/m, `$1 ${inbox.smarthost}`);
    alertmanager = await startAlertmanager({
      config,
      port: options.alertmanagerPort,
      portHint: '--alertmanager-port N',
      log: (message) => log.info('alertmanager', { message }),
      onNotification: (n, to, error) =>
        record(error ? 'mail.failed' : 'mail.sent', to, { receiver: n.receiver, group: n.groupLabels, alerts: n.alerts.map((a) => a.labels.alertname), firing: n.alerts.filter((a) => a.endsAt === 0 || a.endsAt > n.now).length, ...(error ? { error: error.message } : {}) }),
    });
  } catch (error) {
    await inbox.close();
    throw error;
  }
  const monitor: Monitor = new Monitor({
    discover: () => [...discover(engine, options.nodeMetrics, options.prometheusUrl), ...evidenceTargets(options.prometheusUrl(), monitor, alertmanager.url, inbox.url)],
    ruleGroups: () => options.rules.groups(),
    ...(options.scrapeIntervalMs !== undefined ? { scrapeIntervalMs: options.scrapeIntervalMs } : {}),
    ...(options.evaluationIntervalMs !== undefined ? { evaluationIntervalMs: options.evaluationIntervalMs } : {}),
    // A lab must show the mail within seconds; Prometheus' minute-long resend delay would hide a second act.
    resendDelayMs: 10_000,
    notify: (alerts) => postAlerts(alertmanager.url, alerts),
    onError: (what, error) => log.warn('evidence', { what, error: error.message }),
    onAlert: (alert, state) => record(`alert.${state}`, alert.rule, { labels: alert.labels, summary: alert.annotations.summary, value: alert.value, active_at: new Date(alert.activeAt).toISOString() }),
  });
  const queryApi = createQueryApi({ store: monitor.store, scraper: monitor.scraper, rules: () => monitor.ruleGroups(), externalUrl: options.prometheusUrl() });
  for (const path of QUERY_API_PATHS) {
    for (const method of ['GET', 'POST'] as const) {
      options.prometheusApi.route(method, path, async (req, res) => {
        if (!(await queryApi.handle(req, res))) res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'error', errorType: 'not_found', error: 'not found' }));
      });
    }
  }
  options.prometheusApi.setIndex(prometheusPage({ store: monitor.store, scraper: monitor.scraper, rules: () => monitor.ruleGroups() }));
  monitor.start();
  return {
    monitor,
    alertmanager,
    inbox,
    reset: async () => {
      resetCumulativeMetrics(options.nodeMetrics);
      await monitor.reset();
      alertmanager.reset();
      inbox.reset();
    },
    close: async () => {
      await monitor.stop();
      await alertmanager.close();
      await inbox.close();
    },
  };
}

/** Every ready pod's metrics port, and the node itself. */
function discover(engine: Engine, nodeMetrics: { metrics(): Promise<string> }, prometheusUrl: () => string): ScrapeTarget[] {
  const pods = engine.allPods();
  const services = engine.list('Service').map(({ resource }) => ({ namespace: resource.metadata.namespace!, name: resource.metadata.name, selector: (resource as Service).spec.selector ?? {} }));
  const targets: ScrapeTarget[] = podTargets(
    pods.map((pod) => ({ namespace: pod.namespace, name: pod.name, workload: pod.workload, ip: pod.ip, ready: pod.ready, labels: pod.labels, metricsPort: pod.template.probe.containerPort })),
    services,
  ).map((target) => {
    const pod = pods.find((p) => p.namespace === target.pod.namespace && p.name === target.pod.name)!;
    return { key: target.key, labels: target.labels, url: `http://${target.labels.instance}/metrics`, fetch: (signal) => scrapeSocket(pod.listeners.get(target.pod.metricsPort), signal), dropMetric: nodeOnlyMetric };
  });
  const node = new URL(prometheusUrl());
  targets.push({ key: 'node', labels: { job: 'trustusbank-node', instance: node.host }, url: `${node.origin}/metrics`, fetch: () => nodeMetrics.metrics() });
  return targets;
}

/** The evidence components themselves, in their namespace, as kube-prometheus scrapes its Prometheus and Alertmanager. */
function evidenceTargets(prometheusUrl: string, monitor: Monitor, alertmanagerUrl: string, inboxUrl: string): ScrapeTarget[] {
  const labels = (job: string, url: string) => ({ job, instance: new URL(url).host, namespace: OBSERVABILITY_NAMESPACE });
  const overHttp = (url: string) => async (signal: AbortSignal) => {
    const response = await fetch(url, { signal });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.text();
  };
  return [
    { key: 'evidence/prometheus', labels: labels('prometheus', prometheusUrl), url: `${new URL(prometheusUrl).origin}/metrics`, fetch: async () => monitor.metricsText() },
    { key: 'evidence/alertmanager', labels: labels('alertmanager', alertmanagerUrl), url: new URL('/metrics', alertmanagerUrl).href, fetch: overHttp(new URL('/metrics', alertmanagerUrl).href) },
    { key: 'evidence/soc-inbox', labels: labels('soc-inbox', inboxUrl), url: new URL('/metrics', inboxUrl).href, fetch: overHttp(new URL('/metrics', inboxUrl).href) },
  ];
}

/** GET /metrics on a pod's own socket, as the kubelet's network reaches a pod (not through the mesh). */
function scrapeSocket(address: SocketAddress | undefined, signal: AbortSignal): Promise<string> {
  if (!address) return Promise.reject(new Error('the pod does not listen on its metrics port'));
  return new Promise((resolve, reject) => {
    const req = httpRequest({ createConnection: () => connectAsNode(address), path: '/metrics', headers: { host: 'localhost', accept: 'text/plain;version=0.0.4' }, signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        // A pod that answers without end must not fill the node's memory.
        if (size > 16 * 1024 * 1024) req.destroy(new Error('exposition larger than 16 MiB'));
        else chunks.push(chunk);
      });
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const OBSERVABILITY_NAMESPACE = 'trustusbank-observability';

async function postAlerts(url: string, alerts: unknown[]): Promise<void> {
  const response = await fetch(new URL('/api/v2/alerts', url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
  if (!response.ok) throw new Error(`Alertmanager answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
}
