// Which targets to scrape, from what the cluster runs, as kube-prometheus discovers them: every ready pod's
// metrics port, labelled with `namespace`, `pod`, `container`, and `job`/`service` from the Service that selects
// it (the workload's name when none does); `instance` is the pod's address and port. Pure: the cluster's view in,
// targets out; how a target is fetched is given by the caller.
import type { Labels } from '../tsdb/index.ts';

export interface PodView {
  namespace: string;
  name: string;
  workload: string;
  ip: string;
  ready: boolean;
  labels: Readonly<Record<string, string>>;
  /** The port its `/metrics` is served on. */
  metricsPort: number;
}

export interface ServiceView {
  namespace: string;
  name: string;
  selector: Readonly<Record<string, string>>;
}

export interface PodTarget {
  key: string;
  labels: Labels;
  pod: PodView;
}

export function podTargets(pods: readonly PodView[], services: readonly ServiceView[]): PodTarget[] {
  const targets: PodTarget[] = [];
  for (const pod of pods) {
    if (!pod.ready) continue;
    const service = services
      .filter((s) => s.namespace === pod.namespace && Object.keys(s.selector).length > 0 && Object.entries(s.selector).every(([k, v]) => pod.labels[k] === v))
      .sort((a, b) => a.name.localeCompare(b.name))[0];
    const job = service?.name ?? pod.workload;
    const instance = `${pod.ip}:${pod.metricsPort}`;
    targets.push({
      key: `${pod.namespace}/${job}/${instance}`,
      labels: { job, instance, namespace: pod.namespace, pod: pod.name, container: pod.workload, ...(service ? { service: service.name } : {}) },
      pod,
    });
  }
  return targets.sort((a, b) => a.key.localeCompare(b.key));
}

/**
 * What only the node reports: the mesh's, the gateways' and admission's metrics, and the alerts' own series. A pod
 * that exposes them (a compromised one could, to blame another workload or to hide its own attempts among forged
 * ones) has them dropped at the scrape, as a metricRelabelings drop rule would.
 */
const NODE_ONLY_METRICS = /^(?:istio_|agentgateway_|kyverno_|trustusbank_image_|ALERTS$|ALERTS_FOR_STATE$)/;

export function nodeOnlyMetric(name: string): boolean {
  return NODE_ONLY_METRICS.test(name);
}
