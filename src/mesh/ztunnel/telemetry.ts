// ztunnel's evidence: Istio's TCP metrics (names and labels as Istio emits them, so Istio's dashboards and
// alert rules work unchanged), access log lines shaped like ztunnel's, and a span per connection that came
// with a trace context (the pod's capture preamble outbound, the HBONE CONNECT's traceparent inbound) or was
// refused (a refusal is evidence even when the pod's code dropped its trace context).
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../../core/log.ts';
import { contextFromTraceparent, formatTraceparent, SpanKind, SpanStatusCode, tracer, type Span } from '../../core/tracing.ts';
import type { MeshService, MeshWorkload } from './state.ts';

const LABELS = [
  'reporter',
  'source_workload',
  'source_workload_namespace',
  'source_principal',
  'source_app',
  'destination_workload',
  'destination_workload_namespace',
  'destination_principal',
  'destination_app',
  'destination_service',
  'destination_service_name',
  'destination_service_namespace',
  'request_protocol',
  'connection_security_policy',
  'response_flags',
] as const;

export type TcpLabels = Record<(typeof LABELS)[number], string>;

export interface ConnectionParties {
  source: MeshWorkload;
  destination?: MeshWorkload;
  service?: MeshService;
  /** Where the connection was headed when it is not a mesh workload (passthrough). */
  externalHost?: string;
}

export class ZtunnelTelemetry {
  readonly opened: Counter<(typeof LABELS)[number]>;
  readonly closed: Counter<(typeof LABELS)[number]>;
  readonly failed: Counter<(typeof LABELS)[number]>;
  readonly sent: Counter<(typeof LABELS)[number]>;
  readonly received: Counter<(typeof LABELS)[number]>;

  constructor(
    registry: Registry,
    private readonly log: Logger,
  ) {
    const counter = (name: string, help: string) => new Counter({ name, help, labelNames: LABELS, registers: [registry] });
    this.opened = counter('istio_tcp_connections_opened_total', 'TCP connections opened, as Istio reports them.');
    this.closed = counter('istio_tcp_connections_closed_total', 'TCP connections closed, as Istio reports them.');
    this.failed = counter('istio_tcp_connections_failed_total', 'TCP connections that failed or were refused (response_flags says why).');
    this.sent = counter('istio_tcp_sent_bytes_total', 'Bytes sent by the destination in response, as Istio reports them.');
    this.received = counter('istio_tcp_received_bytes_total', 'Bytes received by the destination from the source, as Istio reports them.');
  }

  labels(reporter: 'source' | 'destination', parties: ConnectionParties, responseFlags = '-'): TcpLabels {
    const { source, destination, service } = parties;
    return {
      reporter,
      source_workload: source.workload,
      source_workload_namespace: source.namespace,
      source_principal: source.spiffeId,
      source_app: source.labels.app ?? source.workload,
      destination_workload: destination?.workload ?? 'unknown',
      destination_workload_namespace: destination?.namespace ?? 'unknown',
      destination_principal: destination?.spiffeId ?? 'unknown',
      destination_app: destination ? (destination.labels.app ?? destination.workload) : 'unknown',
      destination_service: service?.hostname ?? parties.externalHost ?? 'unknown',
      destination_service_name: service?.name ?? parties.externalHost ?? 'unknown',
      destination_service_namespace: service?.namespace ?? 'unknown',
      request_protocol: 'tcp',
      connection_security_policy: destination ? 'mutual_tls' : 'unknown',
      response_flags: responseFlags,
    };
  }

  /**
   * A connection its destination's policy refused at open, or closed later because a policy change denied it:
   * ztunnel counts and logs both the same way.
   */
  policyRejection(parties: ConnectionParties, authority: string, message: string, traceparent?: string): void {
    this.failed.inc(this.labels('destination', parties, 'DENY'));
    this.access({
      direction: 'inbound',
      parties,
      srcAddr: parties.source.ip,
      dstAddr: authority,
      hboneAddr: authority,
      bytesSent: 0,
      bytesReceived: 0,
      durationMs: 0,
      error: `connection closed due to policy rejection: ${message}`,
      decision: 'deny',
      ...(traceparent ? { span: this.connectionSpan('inbound', traceparent) } : {}),
    });
  }

  /**
   * The span of one connection, continuing the trace the pod (outbound) or the source ztunnel (inbound) said it
   * belongs to; none without one (a refusal still gets a root span of its own in `access`).
   */
  connectionSpan(direction: 'inbound' | 'outbound', traceparent: string | undefined, startTime?: number): Span | undefined {
    if (traceparent === undefined) return undefined;
    const parent = contextFromTraceparent(traceparent);
    return tracer('ztunnel').startSpan(`ztunnel ${direction}`, { kind: direction === 'outbound' ? SpanKind.CLIENT : SpanKind.SERVER, ...(startTime !== undefined ? { startTime } : {}) }, parent);
  }

  /** The traceparent to send on with a connection this span covers. */
  static traceparentOf(span: Span | undefined): string | undefined {
    return span ? formatTraceparent(span.spanContext()) : undefined;
  }

  /** One access log line, in ztunnel's vocabulary, and the connection's span ended with the same facts. */
  access(fields: {
    direction: 'inbound' | 'outbound';
    parties: ConnectionParties;
    srcAddr: string;
    dstAddr: string;
    hboneAddr?: string;
    bytesSent: number;
    bytesReceived: number;
    durationMs: number;
    error?: string;
    /** What the mesh decided: refused by policy (deny), failed for another reason (error), carried (allow). */
    decision?: 'allow' | 'deny' | 'error';
    span?: Span | undefined;
  }): void {
    const { source, destination, service } = fields.parties;
    const decision = fields.decision ?? (fields.error ? 'error' : 'allow');
    const span = fields.span ?? (fields.error ? tracer('ztunnel').startSpan(`ztunnel ${fields.direction}`, { kind: fields.direction === 'outbound' ? SpanKind.CLIENT : SpanKind.SERVER, startTime: Date.now() - fields.durationMs }, contextFromTraceparent(undefined)) : undefined);
    const line = {
      'src.addr': fields.srcAddr,
      'src.workload': source.name,
      'src.namespace': source.namespace,
      'src.identity': source.spiffeId,
      'dst.addr': fields.dstAddr,
      ...(fields.hboneAddr ? { 'dst.hbone_addr': fields.hboneAddr } : {}),
      'dst.service': service?.hostname ?? fields.parties.externalHost ?? 'unknown',
      ...(destination ? { 'dst.workload': destination.name, 'dst.namespace': destination.namespace, 'dst.identity': destination.spiffeId } : {}),
      direction: fields.direction,
      bytes_sent: fields.bytesSent,
      bytes_recv: fields.bytesReceived,
      duration: `${Math.round(fields.durationMs)}ms`,
      ...(fields.error ? { error: fields.error } : {}),
      ...(span?.isRecording() ? { 'trace.id': span.spanContext().traceId } : {}),
    };
    if (fields.error) this.log.warn('connection complete', line);
    else this.log.info('connection complete', line);
    if (span) {
      const policy = fields.error ? /denied by: (\S+)/.exec(fields.error)?.[1] : undefined;
      span.setAttributes({
        ...(line as Record<string, string | number>),
        'trustusbank.layer': 'mesh',
        'trustusbank.decision': decision,
        ...(fields.error ? { 'trustusbank.reason': fields.error } : {}),
        ...(policy ? { 'trustusbank.policy': policy } : {}),
      });
      if (fields.error) span.setStatus({ code: SpanStatusCode.ERROR, message: fields.error });
      span.end();
    }
  }
}
