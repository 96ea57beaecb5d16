// ztunnel's evidence: Istio's TCP metrics (names and labels as Istio emits them, so Istio's dashboards and
// alert rules work unchanged) and access log lines shaped like ztunnel's.
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../../core/log.ts';
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
  policyRejection(parties: ConnectionParties, authority: string, message: string): void {
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
    });
  }

  /** One access log line, in ztunnel's vocabulary. */
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
  }): void {
    const { source, destination, service } = fields.parties;
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
    };
    if (fields.error) this.log.warn('connection complete', line);
    else this.log.info('connection complete', line);
  }
}
