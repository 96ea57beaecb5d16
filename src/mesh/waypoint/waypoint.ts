// A waypoint: the L7 policy point of ambient mode. It terminates the HBONE tunnels ztunnel sends it for the
// services that use it, reads the HTTP inside, enforces the AuthorizationPolicies attached to it or to the
// service (targetRefs: hosts, methods, paths, headers), and forwards each allowed request over HBONE, as
// itself, to a ready endpoint of the service. The caller is the certificate's identity, never a header.
import { request as httpRequest, type IncomingMessage, type RequestOptions, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../../core/log.ts';
import { createGuardedServer } from '../../core/request-guard.ts';
import { authorizeInbound, type InboundRequest, type InboundVerdict, type PoliciesInForce } from '../authz/inbound.ts';
import { asByteStream } from '../hbone/index.ts';
import { EndpointBalancer } from '../ztunnel/endpoints.ts';
import type { MeshService, MeshView, MeshWorkload } from '../ztunnel/state.ts';

/** Headers that describe one hop, not the request (RFC 9110 §7.6.1), plus the ones the waypoint sets. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'x-forwarded-client-cert']);

export interface WaypointOptions {
  workload: MeshWorkload;
  view: MeshView;
  authz: PoliciesInForce;
  log: Logger;
  metrics: Registry;
  /** Open an HBONE tunnel as this waypoint to a destination pod. */
  open(destination: MeshWorkload, authority: string): Promise<Duplex>;
}

interface TunnelContext {
  peerSpiffeId: string;
  service: MeshService;
  port: number;
  /** The checks of the requests still being served on this tunnel (a long answer, a stream). */
  inFlight: Set<InboundRequest>;
}

export class Waypoint {
  private readonly server = createGuardedServer({ shape: 'text', server: { keepAlive: true } }, (req, res) => this.onRequest(req, res));
  private readonly contexts = new WeakMap<object, TunnelContext>();
  private readonly balancer: EndpointBalancer;
  private readonly requests: Counter<string>;

  constructor(private readonly options: WaypointOptions) {
    this.balancer = new EndpointBalancer(options.view);
    // One counter per registry: several waypoints share the metric, told apart by their labels.
    this.requests =
      (options.metrics.getSingleMetric('istio_requests_total') as Counter<string> | undefined) ??
      new Counter({
        name: 'istio_requests_total',
        help: 'HTTP requests seen by a waypoint, as Istio reports them.',
        labelNames: ['reporter', 'source_principal', 'destination_service', 'destination_service_name', 'destination_service_namespace', 'request_protocol', 'response_code', 'response_flags'],
        registers: [options.metrics],
      });
  }

  get workload(): MeshWorkload {
    return this.options.workload;
  }

  /** Take over one HBONE stream (byte-safe, as the HBONE server hands it) whose :authority was `authority`. */
  accept(stream: Duplex, peerSpiffeId: string, authority: string): void {
    const colon = authority.lastIndexOf(':');
    const host = authority.slice(0, colon);
    const port = Number(authority.slice(colon + 1));
    const service = this.options.view.service(host, this.options.workload.namespace);
    if (!service) {
      this.options.log.warn('waypoint: no service at authority', { authority });
      stream.destroy();
      return;
    }
    this.contexts.set(stream, { peerSpiffeId, service, port, inFlight: new Set() });
    this.server.emit('connection', stream);
  }

  /**
   * The requests in flight on a tunnel `accept` took, judged against the policies in force now. An idle tunnel
   * has none: its next request is judged when it comes.
   */
  recheck(stream: Duplex): InboundVerdict[] {
    const context = this.contexts.get(stream);
    return context ? [...context.inFlight].map((check) => authorizeInbound(this.options.authz, check)) : [];
  }

  close(): void {
    this.server.close();
    this.server.closeAllConnections();
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const context = this.contexts.get(req.socket);
    if (!context) {
      res.writeHead(500).end();
      return;
    }
    const { service, port, peerSpiffeId } = context;
    const check: InboundRequest = {
      peerSpiffeId,
      at: {
        kind: 'waypoint',
        targets: [
          { kind: 'Service', namespace: service.namespace, name: service.name },
          { kind: 'Gateway', namespace: this.workload.namespace, name: this.workload.workload },
        ],
        http: { host: req.headers.host ?? `${service.hostname}:${port}`, method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers },
      },
      destination: { ip: service.clusterIp, port },
    };
    const decision = authorizeInbound(this.options.authz, check);
    const labels = (code: number, flags = '-') => ({
      reporter: 'waypoint',
      source_principal: peerSpiffeId,
      destination_service: service.hostname,
      destination_service_name: service.name,
      destination_service_namespace: service.namespace,
      request_protocol: 'http',
      response_code: String(code),
      response_flags: flags,
    });
    const access = (code: number, error?: string) =>
      (error ? this.options.log.warn : this.options.log.info)('request complete', {
        waypoint: `${this.workload.namespace}/${this.workload.workload}`,
        'src.identity': peerSpiffeId,
        'dst.service': service.hostname,
        method: req.method,
        path: req.url,
        response_code: code,
        ...(error ? { error } : {}),
      });

    if (!decision.allowed) {
      // Envoy's RBAC filter answers exactly this.
      res.writeHead(403, { 'content-type': 'text/plain' }).end('RBAC: access denied');
      this.requests.inc(labels(403, 'RBAC'));
      access(403, `rbac denied: ${decision.message}`);
      return;
    }
    context.inFlight.add(check);
    res.once('close', () => context.inFlight.delete(check));
    const servicePort = service.ports.find((p) => p.port === port);
    const pod = this.balancer.next(service);
    const containerPort = pod && servicePort ? this.options.view.containerPort(service, servicePort, pod) : undefined;
    if (!pod || containerPort === undefined) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('no healthy upstream');
      this.requests.inc(labels(503, 'UH'));
      access(503, 'no healthy upstream');
      return;
    }
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    // Like Envoy: the upstream learns the authenticated caller; a client-supplied value was dropped above.
    headers['x-forwarded-client-cert'] = `By=${this.workload.spiffeId};URI=${peerSpiffeId}`;
    const upstream = httpRequest({
      method: req.method,
      path: req.url,
      headers,
      createConnection: ((_options: unknown, callback: (error: Error | null, stream?: Duplex) => void) => {
        this.options.open(pod, `${pod.ip}:${containerPort}`).then(
          (stream) => callback(null, asByteStream(stream)),
          (error: Error) => callback(error),
        );
        return undefined;
      }) as unknown as RequestOptions['createConnection'],
    });
    upstream.on('response', (answer) => {
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
      res.writeHead(answer.statusCode ?? 502, out);
      answer.pipe(res);
      this.requests.inc(labels(answer.statusCode ?? 502));
      access(answer.statusCode ?? 502);
    });
    upstream.on('error', (error) => {
      if (!res.headersSent) res.writeHead(503, { 'content-type': 'text/plain' }).end('upstream connect error');
      else res.destroy();
      this.requests.inc(labels(503, 'UF'));
      access(503, `upstream: ${error.message}`);
    });
    req.pipe(upstream);
  }
}
