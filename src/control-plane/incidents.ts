// The cluster's incidents: the ledger's records, the registry's DORA register and the metric store's connection
// counts, handed to the pure derivation (src/evidence/incidents).
import { deriveIncidents, type Cause, type ExfiltrationCounts, type Incident, type RegisterFacts } from '../evidence/incidents/derive.ts';
import { Engine } from '../evidence/promql/index.ts';
import { Gauge, type Registry } from 'prom-client';
import type { Cluster } from './cluster.ts';

export function clusterIncidents(cluster: Pick<Cluster, 'ledger' | 'registry' | 'evidence'>, now = Date.now()): Incident[] {
  const { catalogue } = cluster.registry;
  const register: RegisterFacts[] = catalogue.entries.map((e) => ({
    name: e.name,
    namespace: e.namespace,
    workload: e.workload,
    image: e.image,
    endpoint: e.endpoint,
    publisher: e.publisher,
    thirdParty: e.dora.lei !== catalogue.financialEntity.lei,
    dora: { providerLegalName: e.dora.providerLegalName, lei: e.dora.lei, country: e.dora.country, functionSupported: e.dora.functionSupported, criticality: e.dora.criticality, dataLocations: [...e.dora.dataLocations], contractReference: e.dora.contractReference },
  }));
  const engine = new Engine(cluster.evidence.monitor.store);
  const total = (query: string): number => {
    const value = engine.instantQuery(query, now);
    return value.type === 'vector' ? value.samples.reduce((sum, s) => sum + s.value, 0) : 0;
  };
  return deriveIncidents({ records: cluster.ledger.records(), register, entityCountry: catalogue.financialEntity.country, exfiltration: (cause) => exfiltrationCounts(total, cause), now });
}

/**
 * A workload's connections to the attacker, from ztunnel's counters. Each connection is counted on both sides:
 * by the source ztunnel (opened, and failed with CONNECT when refused) and, when the destination's policy
 * refuses it, by the destination side (failed with DENY), which is what the alerts read. The two are scraped
 * from the same node but not at the same instant, so a scrape can hold the destination's refusal and not yet
 * the source's counts: the larger of the two is the number, never the sum.
 */
export function exfiltrationCounts(total: (query: string) => number, cause: Pick<Cause, 'workload' | 'namespace'>): ExfiltrationCounts | undefined {
  if (!cause.workload) return undefined;
  const source = `source_workload=${JSON.stringify(cause.workload)},source_workload_namespace=${JSON.stringify(cause.namespace)},destination_workload_namespace="external-attacker"`;
  const refused = Math.max(
    total(`sum(istio_tcp_connections_failed_total{reporter="source",${source},response_flags="CONNECT"})`),
    total(`sum(istio_tcp_connections_failed_total{reporter="destination",${source},response_flags="DENY"})`),
  );
  return { attempts: Math.max(total(`sum(istio_tcp_connections_opened_total{reporter="source",${source}})`), refused), refused };
}

/**
 * Ledger the incidents as they open and grow: after each alert that fires, derive again and append
 * `incident.opened` for a new id, `incident.updated` when an open one gained an alert. The derivation ignores
 * `incident.*` records, so this never feeds itself.
 */
export function incidentRecorder(derive: () => Incident[], append: (kind: string, subject: string, data: Record<string, unknown>) => void): () => void {
  const known = new Map<string, string>();
  return () => {
    for (const incident of derive()) {
      const alerts = incident.alerts.join(',');
      const before = known.get(incident.id);
      if (before === alerts) continue;
      known.set(incident.id, alerts);
      append(before === undefined ? 'incident.opened' : 'incident.updated', incident.id, { title: incident.title, alerts: incident.alerts, major: incident.classification.major, cause: incident.cause.key, detected_at: incident.detectedAt });
    }
  };
}

/**
 * `trustusbank_incident_info{incident, cause, status, major}` 1 for each incident, computed when scraped: what the
 * dashboard's incident panel reads, in a real Grafana too (a Prometheus that scrapes or federates the node).
 */
export function registerIncidentMetrics(registry: Registry, incidents: () => Incident[]): void {
  new Gauge({
    name: 'trustusbank_incident_info',
    help: 'DORA incident records derived from the ledger (1 per incident), by status and classification.',
    labelNames: ['incident', 'cause', 'status', 'major'],
    registers: [registry],
    collect() {
      this.reset();
      for (const incident of incidents()) this.set({ incident: incident.id, cause: incident.cause.key, status: incident.status, major: String(incident.classification.major) }, 1);
    },
  });
}

/** A value computed at most once per `ms`, however often it is asked for. */
export function cachedFor<T>(ms: number, compute: () => T, now: () => number = Date.now): () => T {
  let cached: { at: number; value: T } | undefined;
  return () => {
    if (!cached || now() - cached.at > ms) cached = { at: now(), value: compute() };
    return cached.value;
  };
}
