// What the OFFENDING DEPLOYMENT panel needs and Istio's metrics do not carry: which image and digest each
// Deployment runs now, who signed that digest, since when it runs, and whether the registry's onboarded digest
// still matches. Gauges computed at scrape time from the cluster's state, on the node's exposition (a pod cannot
// report them: the scraper drops `trustusbank_image_*` from pods' /metrics).
import { Gauge, type Registry } from 'prom-client';
import type { RegistryEntryView } from '../registry/drift.ts';

/** A running pod, as far as these gauges care. */
export interface RunningImage {
  namespace: string;
  workload: string;
  image: string;
  digest: string;
  startedAt: Date;
}

export interface ImageMetricsSource {
  pods(): RunningImage[];
  signersOf(digest: string): { signer: string }[];
  registry(): RegistryEntryView[];
}

export interface ImageInfoRow {
  labels: { resource_namespace: string; workload: string; image: string; digest: string; signer: string; onboarded_digest: string; registry_drift: string };
  /** The earliest start of a pod running this digest, in seconds since the epoch. */
  runningSince: number;
}

/** One row per Deployment and digest it runs (two during a rollout). */
export function imageInfoRows(source: ImageMetricsSource): ImageInfoRow[] {
  const rows = new Map<string, ImageInfoRow>();
  const registry = source.registry();
  for (const pod of source.pods()) {
    const key = `${pod.namespace}/${pod.workload}/${pod.digest}`;
    const since = pod.startedAt.getTime() / 1000;
    const existing = rows.get(key);
    if (existing) {
      existing.runningSince = Math.min(existing.runningSince, since);
      continue;
    }
    const entry = registry.find((e) => e.entry.namespace === pod.namespace && e.entry.workload === pod.workload);
    const signers = [...new Set(source.signersOf(pod.digest).map((s) => s.signer))].sort();
    rows.set(key, {
      labels: {
        resource_namespace: pod.namespace,
        workload: pod.workload,
        image: pod.image,
        digest: pod.digest,
        signer: signers.length > 0 ? signers.join(',') : 'unsigned',
        // Not in the register (the bank's chatbot, the attacker): nothing to drift from.
        onboarded_digest: entry?.onboarded.digest ?? 'none',
        registry_drift: entry === undefined || entry.onboarded.digest === null ? 'unknown' : entry.onboarded.digest === pod.digest ? 'false' : 'true',
      },
      runningSince: since,
    });
  }
  return [...rows.values()];
}

export function registerImageMetrics(registry: Registry, source: ImageMetricsSource): void {
  new Gauge({
    name: 'trustusbank_image_info',
    help: 'The image each Deployment runs: digest, signers of that digest, the registry\'s onboarded digest and whether they differ (registry_drift).',
    labelNames: ['resource_namespace', 'workload', 'image', 'digest', 'signer', 'onboarded_digest', 'registry_drift'],
    registers: [registry],
    collect() {
      this.reset();
      for (const row of imageInfoRows(source)) this.set(row.labels, 1);
    },
  });
  new Gauge({
    name: 'trustusbank_image_running_since_timestamp_seconds',
    help: 'When the first pod still running this Deployment\'s digest started (the image\'s age in the cluster is time() minus this).',
    labelNames: ['resource_namespace', 'workload', 'image', 'digest'],
    registers: [registry],
    collect() {
      this.reset();
      for (const row of imageInfoRows(source)) {
        const { resource_namespace, workload, image, digest } = row.labels;
        this.set({ resource_namespace, workload, image, digest }, row.runningSince);
      }
    },
  });
}
