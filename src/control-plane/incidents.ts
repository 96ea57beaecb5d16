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
  const exfiltration = (cause: Cause): ExfiltrationCounts | undefined => {
    if (!cause.workload) return undefined;
    const who = `reporter="source",source_workload=${JSON.stringify(cause.workload)},source_workload_namespace=${JSON.stringify(cause.namespace)},destination_workload_namespace="external-attacker"`;
    return { attempts: total(`sum(istio_tcp_connections_opened_total{${who}})`), refused: total(`sum(istio_tcp_connections_failed_total{${who},response_flags="CONNECT"})`) };
  };
  return deriveIncidents({ records: cluster.ledger.records(), register, entityCountry: catalogue.financialEntity.country, exfiltration, now });
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
