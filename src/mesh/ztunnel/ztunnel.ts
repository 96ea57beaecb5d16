// The node's ztunnel: takes every connection its pods make (through the capture shim), finds where it is
// going, and carries it as HBONE — an HTTP/2 CONNECT stream over mutual TLS with the source pod's SVID — to
// the destination's inbound listener. Inbound, it learns the caller from the client certificate alone,
// asks the AuthorizationPolicy engine, and delivers the stream to the pod or refuses it with 401, which the
// source side turns into a reset for the calling pod. Connections to hosts outside the mesh pass through
// unencrypted as Istio's outboundTrafficPolicy says (ALLOW_ANY, or REGISTRY_ONLY with ServiceEntries), and
// never to the node itself (./egress.ts).
//
// Each pod has its own capture socket (a Unix socket in its socket directory, the only way out of a
// kernel-isolated pod), so the socket a connection arrives on names the pod, and the token in its preamble
// must agree, as a real ztunnel knows a pod by the network namespace it listens in.
import { lookup } from 'node:dns/promises';
import { rmSync } from 'node:fs';
import { connect as tcpConnect, createServer, isIP, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { NO_WORKLOAD_IDENTITY, authorizeInbound, callerOf, type InboundRequest } from '../authz/inbound.ts';
import { CONNECT_ACK, encodeSourceLine } from '../capture/protocol.ts';
import { abortTcp, spliceTunnel, type SpliceOutcome, type TunnelTarget } from '../hbone/index.ts';
import type { SocketAddress } from '../capture/protocol.ts';
import { isNodeLocalName, nodeAddresses, nodeLocalReason, type NodeAddresses } from './egress.ts';
import { EndpointBalancer, inboundSource } from './endpoints.ts';
import { readPreamble } from './preamble.ts';
import type { MeshService, MeshView, MeshWorkload } from './state.ts';
import { ZtunnelTelemetry, type ConnectionParties } from './telemetry.ts';
import type { Span } from '../../core/tracing.ts';

export interface Endpoint {
  host: string;
  port: number;
}

/** The HBONE client side as ztunnel needs it. */
export interface HboneDialer {
  /** Open a CONNECT tunnel as `source` to `destination`; rejects with a `TunnelRefused` on a non-200 answer. */
  open(request: { source: MeshWorkload; destination: MeshWorkload; server: Endpoint; authority: string; headers: Record<string, string> }): Promise<Duplex>;
  close(): Promise<void>;
}

export class TunnelRefused extends Error {
  override readonly name = 'TunnelRefused';
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(`http status: ${status}${status === 401 ? ' Unauthorized' : ''}`);
  }
}

/** What the inbound side decides for one CONNECT. */
export type InboundDecision = { allow: true; target: TunnelTarget; parties: ConnectionParties; check: InboundRequest; traceparent?: string } | { allow: false; status: number; reason: string };

/** Istio's outboundTrafficPolicy for destinations outside the mesh (after the node-local refusal). */
export type EgressDecision = { allow: true } | { allow: false; reason: string };

export interface ZtunnelOptions {
  view: MeshView;
  telemetry: ZtunnelTelemetry;
  log: Logger;
  dialer: HboneDialer;
  /** Where this ztunnel's HBONE inbound listener is (the destination of every mesh tunnel on this node). */
  inbound: () => Endpoint;
  /** The waypoint a service's traffic must go through, when it uses one. */
  waypoints?: { forService(service: MeshService): { workload: MeshWorkload; endpoint: Endpoint } | undefined };
  /** Where the node's own capture socket goes (the control plane's short-lived identities use it). */
  nodeSocket: string;
  /** outboundTrafficPolicy: may `source` reach `host:port` (a name or an address) outside the mesh? Default ALLOW_ANY. */
  egress?: (request: { source: MeshWorkload; host: string; port: number }) => EgressDecision;
}

export class Ztunnel {
  /** The node's capture socket and each pod's, by path. */
  private readonly captureServers = new Map<string, Server>();
  private readonly captured = new Set<Socket>();
  private readonly balancer: EndpointBalancer;
  private readonly node: NodeAddresses = nodeAddresses();

  constructor(private readonly options: ZtunnelOptions) {
    this.balancer = new EndpointBalancer(options.view);
  }

  /** Start the node's capture socket (for identities that are not pods); returns its address. */
  async start(): Promise<SocketAddress> {
    return this.listenCapture(this.options.nodeSocket, undefined);
  }

  /** Open a pod's own capture socket: connections on it are that pod's, whatever else they claim. */
  attachPod(uid: string, path: string): Promise<SocketAddress> {
    return this.listenCapture(path, uid);
  }

  async detachPod(path: string): Promise<void> {
    const server = this.captureServers.get(path);
    if (!server) return;
    this.captureServers.delete(path);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async listenCapture(path: string, podUid: string | undefined): Promise<SocketAddress> {
    const server = createServer((socket) => {
      this.captured.add(socket);
      socket.once('close', () => this.captured.delete(socket));
      void this.handleCaptured(socket, podUid);
    });
    rmSync(path, { force: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    this.captureServers.set(path, server);
    return { path };
  }

  async close(): Promise<void> {
    // server.close() waits for every open connection; a node going away ends them.
    for (const socket of this.captured) socket.destroy();
    await Promise.all([...this.captureServers.keys()].map((path) => this.detachPod(path)));
    await this.options.dialer.close();
  }

  // --- outbound ----------------------------------------------------------------------------------------

  private async handleCaptured(socket: Socket, podUid: string | undefined): Promise<void> {
    try {
      await this.onCaptured(socket, podUid);
    } catch (error) {
      this.options.log.warn('capture failed', { error: errorMessage(error) });
      socket.destroy();
    }
  }

  private async onCaptured(socket: Socket, podUid: string | undefined): Promise<void> {
    const { view, log } = this.options;
    socket.on('error', () => undefined);
    const { destination, rest } = await readPreamble(socket);
    const source = view.workloadByToken(destination.token);
    if (!source || (podUid !== undefined && source.uid !== podUid)) {
      log.warn('capture refused: the token is not of the pod this socket belongs to', { pod: podUid ?? 'node socket' });
      socket.destroy();
      return;
    }
    const started = performance.now();
    const span = this.options.telemetry.connectionSpan('outbound', destination.traceparent);
    const target = await this.route(source, destination.host, destination.port);
    if (target.kind === 'refuse') {
      this.options.telemetry.failed.inc(this.options.telemetry.labels('source', { source, service: target.service, externalHost: destination.host }, target.flags));
      this.options.telemetry.access({
        direction: 'outbound',
        parties: { source, service: target.service, externalHost: destination.host },
        srcAddr: source.ip,
        dstAddr: `${destination.host}:${destination.port}`,
        bytesSent: 0,
        bytesReceived: 0,
        durationMs: performance.now() - started,
        error: target.error,
        // The mesh refused it (node-local, outboundTrafficPolicy); a name that does not resolve is an error.
        decision: / refused: /.test(target.error) ? 'deny' : 'error',
        span,
      });
      abortTcp(socket);
      return;
    }
    if (target.kind === 'passthrough') return this.passthrough(socket, rest, source, destination.host, target.address, destination.port, started, span);
    return this.tunnel(socket, rest, source, target.pod, target.containerPort, target.service, started, target.authority, target.server, span);
  }

  private async route(
    source: MeshWorkload,
    host: string,
    port: number,
  ): Promise<
    | { kind: 'mesh'; pod: MeshWorkload; containerPort: number; service?: MeshService; authority?: string; server?: Endpoint }
    | { kind: 'passthrough'; address: string }
    | { kind: 'refuse'; flags: string; error: string; service?: MeshService }
  > {
    const { view } = this.options;
    const pod = view.workloadByIp(host);
    if (pod) return { kind: 'mesh', pod, containerPort: port, ...(pod.hboneEndpoint ? { authority: `${host}:${port}`, server: pod.hboneEndpoint } : {}) };
    const service = view.service(host, source.namespace);
    if (!service) {
      if (/\.cluster\.local\.?$/i.test(host) || /^10\.(96|244)\./.test(host)) return { kind: 'refuse', flags: 'NR', error: `no such service: ${host}` };
      return this.routeOutside(source, host, port);
    }
    const servicePort = service.ports.find((p) => p.port === port);
    if (!servicePort) return { kind: 'refuse', flags: 'NR', error: `service ${service.hostname} has no port ${port}`, service };
    // A service that uses a waypoint is reached through it: HBONE to the waypoint, addressed to the service.
    const waypoint = this.options.waypoints?.forService(service);
    if (waypoint) return { kind: 'mesh', pod: waypoint.workload, containerPort: port, service, authority: `${service.clusterIp}:${port}`, server: waypoint.endpoint };
    const chosen = this.balancer.next(service);
    if (!chosen) return { kind: 'refuse', flags: 'UH', error: `no healthy upstream for ${service.hostname}`, service };
    // A proxy that terminates HBONE itself learns which service the caller dialled from the :authority.
    if (chosen.hboneEndpoint) return { kind: 'mesh', pod: chosen, containerPort: port, service, authority: `${service.clusterIp}:${port}`, server: chosen.hboneEndpoint };
    const containerPort = view.containerPort(service, servicePort, chosen);
    if (containerPort === undefined) return { kind: 'refuse', flags: 'NR', error: `target port ${servicePort.targetPort} not found on ${chosen.name}`, service };
    return { kind: 'mesh', pod: chosen, containerPort, service };
  }

  /**
   * A destination outside the mesh: never the node (by name, then by the address the name resolves to), and
   * only as outboundTrafficPolicy allows (decided on what the pod dialled, before any lookup on its behalf).
   */
  private async routeOutside(source: MeshWorkload, host: string, port: number): Promise<{ kind: 'passthrough'; address: string } | { kind: 'refuse'; flags: string; error: string }> {
    const refuse = (why: string) => ({ kind: 'refuse' as const, flags: 'NR', error: why });
    if (isNodeLocalName(host)) return refuse(`outbound to ${host}:${port} refused: ${host} is the node itself`);
    const egress = this.options.egress?.({ source, host, port }) ?? { allow: true };
    if (!egress.allow) return refuse(egress.reason);
    let address = host;
    if (isIP(host) === 0) {
      try {
        address = (await lookup(host, { verbatim: true })).address;
      } catch (error) {
        return refuse(`outbound to ${host}:${port} refused: ${host} does not resolve (${errorMessage(error)})`);
      }
    }
    const local = nodeLocalReason(address, this.node);
    if (local) return refuse(`outbound to ${host}:${port} refused: ${address === host ? host : `${host} resolves to ${address}, which`} is ${local} (the node itself)`);
    return { kind: 'passthrough', address };
  }

  private async tunnel(
    socket: Socket,
    rest: Buffer,
    source: MeshWorkload,
    destination: MeshWorkload,
    containerPort: number,
    service: MeshService | undefined,
    started: number,
    authorityOverride?: string,
    server?: Endpoint,
    span?: Span,
  ): Promise<void> {
    const { telemetry, dialer } = this.options;
    const parties: ConnectionParties = { source, destination, ...(service ? { service } : {}) };
    const authority = authorityOverride ?? `${destination.ip}:${containerPort}`;
    // As ztunnel's source reporter: a connection counts as opened when the pod opens it, before the far side
    // has said yes, so an attempt the destination refuses is both opened and failed (what an alert on attempts
    // to a destination reads, with enforcement on or off).
    const labels = telemetry.labels('source', parties);
    telemetry.opened.inc(labels);
    let stream: Duplex;
    try {
      const traceparent = ZtunnelTelemetry.traceparentOf(span);
      stream = await dialer.open({ source, destination, server: server ?? this.options.inbound(), authority, headers: { forwarded: `for=${source.ip}`, ...(traceparent ? { traceparent } : {}) } });
    } catch (error) {
      const refused = error instanceof TunnelRefused;
      telemetry.failed.inc(telemetry.labels('source', parties, refused ? 'CONNECT' : 'UF'));
      telemetry.closed.inc(labels);
      telemetry.access({
        direction: 'outbound',
        parties,
        srcAddr: source.ip,
        dstAddr: authority,
        hboneAddr: authority,
        bytesSent: 0,
        bytesReceived: 0,
        durationMs: performance.now() - started,
        error: refused ? error.message : `connection failed: ${errorMessage(error)}`,
        decision: refused && error.status === 401 ? 'deny' : 'error',
        span,
      });
      abortTcp(socket);
      return;
    }
    socket.write(Buffer.of(CONNECT_ACK));
    if (rest.length > 0) stream.write(rest);
    // FIN and reset carried across both ways: a tunnel the far side cancels (a policy revoked it) resets the
    // pod's connection instead of leaving it half-open.
    const outcome = await new Promise<SpliceOutcome>((resolve) => spliceTunnel(stream, socket, resolve));
    const sent = outcome.sentBytes + rest.length;
    const received = outcome.receivedBytes;
    telemetry.received.inc(labels, sent);
    telemetry.sent.inc(labels, received);
    telemetry.closed.inc(labels);
    telemetry.access({ direction: 'outbound', parties, srcAddr: source.ip, dstAddr: authority, hboneAddr: authority, bytesSent: sent, bytesReceived: received, durationMs: performance.now() - started, span });
  }

  private async passthrough(socket: Socket, rest: Buffer, source: MeshWorkload, host: string, address: string, port: number, started: number, span?: Span): Promise<void> {
    const { telemetry } = this.options;
    const parties: ConnectionParties = { source, externalHost: host };
    // The address the egress check passed, not the name again: a second lookup could answer differently.
    const upstream = tcpConnect({ host: address, port });
    const connected = await new Promise<boolean>((resolve) => {
      upstream.once('connect', () => resolve(true));
      upstream.once('error', () => resolve(false));
    });
    if (!connected) {
      telemetry.failed.inc(telemetry.labels('source', parties, 'UF'));
      telemetry.access({ direction: 'outbound', parties, srcAddr: source.ip, dstAddr: `${host}:${port}`, bytesSent: 0, bytesReceived: 0, durationMs: performance.now() - started, error: 'connection failed: upstream refused', span });
      abortTcp(socket);
      return;
    }
    const labels = telemetry.labels('source', parties);
    telemetry.opened.inc(labels);
    socket.write(Buffer.of(CONNECT_ACK));
    const { sent, received } = await splice(socket, rest, upstream);
    telemetry.received.inc(labels, sent);
    telemetry.sent.inc(labels, received);
    telemetry.closed.inc(labels);
    telemetry.access({ direction: 'outbound', parties, srcAddr: source.ip, dstAddr: `${host}:${port}`, bytesSent: sent, bytesReceived: received, durationMs: performance.now() - started, span });
  }

  // --- inbound -------------------------------------------------------------------------------------------

  /**
   * Decide one inbound CONNECT. `peerSpiffeId` comes from the verified client certificate; the `forwarded`
   * header (set by the source ztunnel) is used only to name the source pod in telemetry, and only when that
   * pod really has the certificate's identity. An allowed tunnel carries the check that allowed it, to be
   * made again when the policies change.
   */
  decideInbound(peerSpiffeId: string, authority: string, headers: Record<string, string | string[] | undefined>): InboundDecision {
    const { view, telemetry } = this.options;
    const colon = authority.lastIndexOf(':');
    const ip = authority.slice(0, colon);
    const port = Number(authority.slice(colon + 1));
    const destination = view.workloadByIp(ip);
    if (!destination || !Number.isInteger(port)) return { allow: false, status: 404, reason: `no workload at ${authority}` };
    const caller = callerOf(peerSpiffeId);
    if (!caller) return { allow: false, status: 401, reason: NO_WORKLOAD_IDENTITY };
    const { source, vouched } = inboundSource(view, headers.forwarded, caller);
    const parties: ConnectionParties = { source, destination };
    const check: InboundRequest = { peerSpiffeId, at: { kind: 'workload', workload: destination }, destination: { ip: destination.ip, port }, ...(vouched ? { sourceIp: source.ip } : {}) };
    const verdict = authorizeInbound(view.authz, check);
    const traceparent = typeof headers.traceparent === 'string' ? headers.traceparent : undefined;
    if (!verdict.allowed) {
      telemetry.policyRejection(parties, authority, verdict.message, traceparent);
      return { allow: false, status: 401, reason: verdict.message };
    }
    const target = destination.listeners.get(port);
    if (target === undefined) return { allow: false, status: 503, reason: `${destination.name} does not listen on ${port}` };
    // The pod sees the source pod's address as its peer, as ambient keeps it; only an address whose pod
    // really holds the certificate's identity is vouched for (else the peer is unknown).
    const preface = encodeSourceLine(vouched ? { address: source.ip, port: 0 } : undefined, { address: destination.ip, port });
    return { allow: true, target: { ...target, preface }, parties, check, ...(traceparent ? { traceparent } : {}) };
  }

  /** Account for an open inbound connection closed because a policy change denied it (as a refusal at open). */
  inboundRevoked(parties: ConnectionParties, authority: string, message: string): void {
    this.options.telemetry.policyRejection(parties, authority, message);
  }

  /** Account for an inbound tunnel once it closes. */
  inboundClosed(parties: ConnectionParties, authority: string, bytes: { toDestination: number; fromDestination: number }, durationMs: number, traceparent?: string): void {
    const { telemetry } = this.options;
    const span = telemetry.connectionSpan('inbound', traceparent, Date.now() - durationMs);
    const labels = telemetry.labels('destination', parties);
    telemetry.received.inc(labels, bytes.toDestination);
    telemetry.sent.inc(labels, bytes.fromDestination);
    telemetry.closed.inc(labels);
    telemetry.access({ direction: 'inbound', parties, srcAddr: parties.source.ip, dstAddr: authority, hboneAddr: authority, bytesSent: bytes.fromDestination, bytesReceived: bytes.toDestination, durationMs, span });
  }

  inboundOpened(parties: ConnectionParties): void {
    this.options.telemetry.opened.inc(this.options.telemetry.labels('destination', parties));
  }
}

/** Pipe a captured socket and its upstream both ways; resolve with byte counts once both are done. */
function splice(socket: Socket, rest: Buffer, upstream: Duplex): Promise<{ sent: number; received: number }> {
  return new Promise((resolve) => {
    let sent = rest.length;
    let received = 0;
    if (rest.length > 0) upstream.write(rest);
    socket.on('data', (chunk: Buffer) => (sent += chunk.length));
    upstream.on('data', (chunk: Buffer) => (received += chunk.length));
    socket.pipe(upstream);
    upstream.pipe(socket);
    let open = 2;
    const done = (): void => {
      if (--open === 0) resolve({ sent, received });
    };
    const once = <T extends Duplex>(stream: T): void => {
      let finished = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        done();
      };
      stream.once('close', finish);
    };
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
    once(socket);
    once(upstream);
    socket.resume();
  });
}
