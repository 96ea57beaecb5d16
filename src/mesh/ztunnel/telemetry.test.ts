// ztunnel's connection spans: a connection that came with a trace context continues it; a refused one is
// recorded even without one (a workload that drops its trace context still leaves the mesh's record), and a
// carried connection without one is not (no trace of every probe and keep-alive).
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createLogger } from '../../core/log.ts';
import { addSpanSink, flushSpans, setTracing, type OtlpTraceRequest } from '../../core/tracing.ts';
import { flattenRequest, attribute } from '../../evidence/traces/otlp.ts';
import type { MeshWorkload } from './state.ts';
import { ZtunnelTelemetry } from './telemetry.ts';

const workload = (name: string, namespace: string): MeshWorkload => ({ uid: `${namespace}/${name}-0`, name: `${name}-0`, namespace, workload: name, serviceAccount: name, labels: {}, ip: '10.244.0.9', spiffeId: `spiffe://cluster.local/ns/${namespace}/sa/${name}`, listeners: new Map(), ready: true, imageDigest: 'sha256:x', image: 'i' });
const converter = workload('currency-converter', 'trustusbank-bank-vendors');
const attacker = workload('mock-attacker', 'external-attacker');
const TRACE = 'ab'.repeat(16);

function recorded(run: (telemetry: ZtunnelTelemetry) => void) {
  const batches: OtlpTraceRequest[] = [];
  const remove = addSpanSink((r) => batches.push(r));
  try {
    run(new ZtunnelTelemetry(new Registry(), createLogger('ztunnel', { write: () => undefined })));
    flushSpans();
  } finally {
    remove();
  }
  return batches.flatMap((b) => flattenRequest(b, { kind: 'node' }).spans).filter((s) => attribute(s.resource, 'service.name') === 'ztunnel');
}

afterEach(() => setTracing(true));

describe("ztunnel's connection spans", () => {
  it('puts a policy refusal in the trace it came with, with both identities and the policy', () => {
    const spans = recorded((t) => t.policyRejection({ source: converter, destination: attacker }, '10.244.0.9:8080', 'explicitly denied by: external-attacker/deny-bank-to-attacker', `00-${TRACE}-${'cd'.repeat(8)}-01`));
    expect(spans).toHaveLength(1);
    expect(spans[0]).toMatchObject({ traceId: TRACE, parentSpanId: 'cd'.repeat(8), name: 'ztunnel inbound', status: { code: 2 } });
    const a = (k: string) => attribute(spans[0]!.attributes, k);
    expect([a('src.identity'), a('dst.identity'), a('trustusbank.decision'), a('trustusbank.policy')]).toEqual([converter.spiffeId, attacker.spiffeId, 'deny', 'external-attacker/deny-bank-to-attacker']);
  });

  it('records a refusal without a trace context as a trace of its own, and a carried connection without one not at all', () => {
    const spans = recorded((t) => {
      t.policyRejection({ source: converter, destination: attacker }, '10.244.0.9:8080', 'explicitly denied by: x/y');
      t.access({ direction: 'outbound', parties: { source: converter, destination: attacker }, srcAddr: converter.ip, dstAddr: '10.244.0.9:8080', bytesSent: 1, bytesReceived: 1, durationMs: 1 });
    });
    expect(spans).toHaveLength(1);
    expect(spans[0]!.parentSpanId).toBeUndefined();
    expect(attribute(spans[0]!.attributes, 'trustusbank.decision')).toBe('deny');
  });

  it('follows the caller’s unsampled flag, and records no refusal root while tracing is off', () => {
    const spans = recorded((t) => {
      t.policyRejection({ source: converter, destination: attacker }, '10.244.0.9:8080', 'denied', `00-${TRACE}-${'cd'.repeat(8)}-00`);
      setTracing(false);
      t.policyRejection({ source: converter, destination: attacker }, '10.244.0.9:8080', 'denied');
    });
    expect(spans).toEqual([]);
  });
});
