// The trace collector wired to the node: the node's own spans (ztunnel, the gateways and waypoints, `chat`)
// go to it in-process, each pod's come over the pod's channel, stamped with the pod's identity (the channel
// is the pod's, whatever its spans claim), and anyone on the host's loopback may POST OTLP/HTTP JSON too
// (stamped `otlp-http`: nobody vouches for those).
import type { Registry } from 'prom-client';
import type { Logger } from '../core/log.ts';
import { addSpanSink, flushSpans } from '../core/tracing.ts';
import { MAX_SPAN_REPORT_BYTES } from '../mesh/capture/protocol.ts';
import { startTraceCollector, type TraceCollector } from '../evidence/traces/collector.ts';
import { OtlpError } from '../evidence/traces/otlp.ts';

export interface ClusterTraces {
  collector: TraceCollector;
  /** A pod's span batch, as its channel delivered it. */
  fromPod(pod: { namespace: string; name: string; spiffeId: string }, body: string): void;
  /** Hand the node's buffered spans to the collector now (before a test or an export reads the store). */
  flush(): void;
  close(): Promise<void>;
}

export async function startClusterTraces(options: { port: number; portHint?: string; metrics: Registry; log: Logger; env?: NodeJS.ProcessEnv }): Promise<ClusterTraces> {
  const collector = await startTraceCollector({
    port: options.port,
    ...(options.portHint ? { portHint: options.portHint } : {}),
    metrics: options.metrics,
    env: options.env ?? process.env,
    log: (message, fields) => options.log.warn(message, fields ?? {}),
  });
  const removeSink = addSpanSink((request) => collector.ingest(request, { kind: 'node' }));
  let refusedBatches = 0;
  return {
    collector,
    fromPod(pod, body) {
      const refuse = (why: string): void => {
        // A pod that sends garbage is worth one line, not one per batch.
        if (refusedBatches++ === 0) options.log.warn('span batch refused', { pod: `${pod.namespace}/${pod.name}`, reason: why });
      };
      if (body.length > MAX_SPAN_REPORT_BYTES) return refuse(`larger than ${MAX_SPAN_REPORT_BYTES} bytes`);
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return refuse('not JSON');
      }
      try {
        collector.ingest(parsed, { kind: 'pod', namespace: pod.namespace, pod: pod.name, spiffeId: pod.spiffeId });
      } catch (error) {
        if (error instanceof OtlpError) return refuse(error.message);
        throw error;
      }
    },
    flush: () => flushSpans(),
    close: async () => {
      flushSpans();
      removeSink();
      await collector.close();
    },
  };
}
