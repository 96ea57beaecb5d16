// Where a workload process sends its spans: to its node over the pod's channel (the node's collector knows the
// pod by the channel, so the spans' origin is vouched for), or, outside the lab's cluster, to the OTLP/HTTP
// endpoint the standard variables name. Both take OTLP JSON batches from `addSpanSink`.
import { addSpanSink, setServiceName, type OtlpTraceRequest } from './tracing.ts';

/** The message a pod's span batch travels in over its channel to the node. */
export const SPAN_REPORT_TYPE = 'tub/otlp';

/** The OTLP/HTTP traces URL the standard variables name, if any. */
export function otlpTracesUrl(env: NodeJS.ProcessEnv): string | undefined {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined;
}

/**
 * Export this workload's spans: over the node's channel when it has one (a pod), else over OTLP/HTTP when an
 * endpoint is set, else nowhere (spans are still made, so trace context still flows downstream).
 */
export function exportWorkloadSpans(serviceName: string, env: NodeJS.ProcessEnv): 'channel' | 'otlp-http' | 'none' {
  setServiceName(serviceName);
  if (typeof process.send === 'function' && env.TRUSTUSBANK_TRACES !== 'otlp') {
    addSpanSink((request: OtlpTraceRequest) => {
      // A channel that is gone (the node is stopping) loses the batch; the workload carries on.
      if (process.connected) process.send?.({ type: SPAN_REPORT_TYPE, body: JSON.stringify(request) }, undefined, undefined, () => undefined);
    });
    return 'channel';
  }
  const url = otlpTracesUrl(env);
  if (!url) return 'none';
  addSpanSink((request) => {
    void fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request), signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
  });
  return 'otlp-http';
}
