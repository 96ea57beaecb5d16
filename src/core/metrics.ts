// The one way this project makes a Prometheus registry, for every endpoint that serves /metrics (pods, and the
// cluster's: ztunnel, waypoints, agent gateways, control plane). Its registry refuses a metric whose name breaks
// Prometheus' naming rules the moment the metric is created, so a bad name fails at start-up, in a test, rather
// than on a Prometheus server's lint; and the Node.js process metrics it adds are prom-client's defaults without
// the three that break them.
import { Counter, Gauge, Histogram, Registry, Summary, collectDefaultMetrics, type Metric } from 'prom-client';
import { metricNameProblems, type MetricType } from './metric-names.ts';

/**
 * prom-client's default gauges named like counters (`non-counter metrics should not have "_total" suffix`). Each is
 * the sum of its labelled sibling without the suffix (`nodejs_active_handles{type}` and so on), so nothing is lost:
 * `sum(nodejs_active_handles)` is the same number.
 */
export const DROPPED_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'] as const;

export class MetricNameError extends Error {
  override readonly name = 'MetricNameError';
  constructor(
    readonly metric: string,
    readonly problems: readonly string[],
  ) {
    super(`metric ${metric}: ${problems.join('; ')}`);
  }
}

function typeOf(metric: Metric): MetricType {
  // The type field is set after the constructor registers the metric; the class is known already.
  if (metric instanceof Counter) return 'counter';
  if (metric instanceof Gauge) return 'gauge';
  if (metric instanceof Histogram) return 'histogram';
  if (metric instanceof Summary) return 'summary';
  return 'untyped';
}

/** A registry that accepts only metrics Prometheus' linter accepts. */
export class CheckedRegistry extends Registry {
  override registerMetric<T extends string>(metric: Metric<T>): void {
    const { name, help, labelNames = [] } = metric as unknown as { name: string; help: string; labelNames?: readonly string[] };
    const problems = metricNameProblems({ name, help, type: typeOf(metric as Metric), labelNames });
    if (problems.length > 0) throw new MetricNameError(name, problems);
    super.registerMetric(metric);
  }
}

export interface MetricsRegistryOptions {
  /** Add the Node.js process metrics (CPU, memory, event loop, GC, handles): what a pod's /metrics has. */
  processMetrics?: boolean;
}

export function createMetricsRegistry(options: MetricsRegistryOptions = {}): Registry {
  const registry = new CheckedRegistry();
  if (options.processMetrics) {
    // prom-client registers its defaults as it creates them; gather them apart, then keep those that pass.
    const defaults = new Registry();
    collectDefaultMetrics({ register: defaults });
    for (const name of DROPPED_DEFAULT_METRICS) defaults.removeSingleMetric(name);
    // getMetricsAsArray is typed as plain objects but holds the metric instances themselves.
    for (const metric of defaults.getMetricsAsArray() as unknown as Metric[]) registry.registerMetric(metric);
  }
  return registry;
}

/**
 * Zero the registry's counters, histograms and summaries (labelled ones lose their series until they count
 * again), leaving gauges and the Node.js process metrics as they are: the lab's `reset`, which starts a new epoch
 * of evidence as a restarted component would. Gauges describe the present (a pod's readiness, a pin), not history.
 */
export function resetCumulativeMetrics(registry: Registry): void {
  for (const metric of registry.getMetricsAsArray() as unknown as Metric[]) {
    const name = (metric as unknown as { name: string }).name;
    if (name.startsWith('process_') || name.startsWith('nodejs_')) continue;
    if (metric instanceof Counter || metric instanceof Histogram || metric instanceof Summary) metric.reset();
  }
}
