// The built-in proxies of the cluster, one per Gateway: an Istio waypoint for class istio-waypoint, an agent
// gateway for the agentgateway classes. Each has its own SPIFFE identity (the service account named after
// the gateway, as Istio and agentgateway do), a cluster address and its own HBONE listener; an agent gateway
// also gets a Service named after the Gateway with its listener ports, as its controller provisions one.
// The directory also says which waypoint, if any, a service's traffic must go through (`istio.io/use-waypoint`
// on the Service, else on its Namespace; the value `none` opts a service out); an agent gateway of class
// enterprise-agentgateway-waypoint can be that waypoint.
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import type { Logger } from '../core/log.ts';
import { join } from 'node:path';
import type { AgentgatewayBackend, Gateway, HTTPRoute, Namespace, ReferenceGrant, Service } from '../manifests/types.ts';
import { AGENTGATEWAY_CLASSES, WAYPOINT_CLASS } from '../manifests/kinds/gateway.ts';
import type { GatewayInputs, GatewayPolicy } from '../gateway/config.ts';
import { AgentGateway, type CallerIdentity, type ConnectionParent } from '../gateway/gateway.ts';
import { NO_WORKLOAD_IDENTITY, authorizeInbound, callerOf, type InboundRequest } from '../mesh/authz/inbound.ts';
import type { ConnectionManager, TrackedTunnel } from '../mesh/inbound/connection-manager.ts';
import type { ConnectionParties, ZtunnelTelemetry } from '../mesh/ztunnel/telemetry.ts';
import { HOST_PORT_ANNOTATION } from './host-port.ts';
import { inboundSource } from '../mesh/ztunnel/endpoints.ts';
import { createMeshFetch } from './mesh-fetch.ts';
import { webFetch, type FetchLike } from '../core/fetch.ts';
import type { SvidRotator } from '../mesh/ca/rotator.ts';
import { spiffeIdFor } from '../mesh/ca/spiffe-id.ts';
import { HboneServer } from '../mesh/hbone/index.ts';
import { Waypoint } from '../mesh/waypoint/waypoint.ts';
import type { MeshService, MeshView, MeshWorkload } from '../mesh/ztunnel/state.ts';
import type { Endpoint } from '../mesh/ztunnel/ztunnel.ts';
import type { Engine } from './engine.ts';
import { rebindingPolicyFromEnv } from '../core/dns-rebinding.ts';

export const USE_WAYPOINT_LABEL = 'istio.io/use-waypoint';
export const USE_WAYPOINT_NAMESPACE_LABEL = 'istio.io/use-waypoint-namespace';

interface RunningWaypoint {
  workload: MeshWorkload;
  server: HboneServer;
  endpoint: Endpoint;
  gateway?: AgentGateway;
  /** The agent gateway's HTTP client through the mesh. */
  gatewayFetch?: FetchLike;
  close(): Promise<void>;
}

export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

export interface WaypointDirectoryOptions {
  /** The control plane: the resources the proxies are configured from, addresses, provisioned Services. */
  engine: Engine;
  /** The data plane's state (pushed workloads, Services, policies): what the proxies decide with. */
  view: MeshView;
  rotator: SvidRotator;
  trustBundlePem: string;
  log: Logger;
  metrics: Registry;
  /** ztunnel's counters and access log: a tunnel refused or revoked by policy is reported as ztunnel reports it. */
  telemetry: ZtunnelTelemetry;
  /** Where the proxies' open tunnels are tracked, to be judged again when the policies change. */
  connections: ConnectionManager;
  /** Open an HBONE tunnel as `source` to a destination pod through the node's inbound listener. */
  open(source: MeshWorkload, destination: MeshWorkload, authority: string): Promise<Duplex>;
  /** The agent gateways' log (access log lines, drift, configuration warnings). */
  gatewayLog?: Logger;
  /** Where agent gateways keep their state: `<dir>/<namespace>/<name>`. */
  gatewayDataDir: string;
  /** Host ports chosen on the command line for `<namespace>/<gateway>`, and the flag that moves them. */
  hostPorts?: Record<string, number>;
  hostPortFlags?: Record<string, string>;
}

export class WaypointDirectory {
  private readonly running = new Map<string, RunningWaypoint>();
  private syncing: Promise<void> = Promise.resolve();

  constructor(private readonly options: WaypointDirectoryOptions) {}

  /** The waypoint a service's traffic goes through, if it uses one that is running. */
  forService(service: MeshService): { workload: MeshWorkload; endpoint: Endpoint } | undefined {
    const namespace = this.options.engine.list('Namespace').find((l) => l.resource.metadata.name === service.namespace)?.resource as Namespace | undefined;
    const labels = service.labels[USE_WAYPOINT_LABEL] !== undefined ? service.labels : (namespace?.metadata.labels ?? {});
    const name = labels[USE_WAYPOINT_LABEL];
    if (name === undefined || name === 'none') return undefined;
    const running = this.running.get(`${labels[USE_WAYPOINT_NAMESPACE_LABEL] ?? service.namespace}/${name}`);
    return running ? { workload: running.workload, endpoint: running.endpoint } : undefined;
  }

  /** Every running proxy, for `status`. */
  describe(): { namespace: string; name: string; kind: 'agentgateway' | 'waypoint'; identity: string; ip: string; hostUrl?: string }[] {
    return [...this.running.entries()].map(([key, running]) => {
      const hostUrl = this.hostUrls.get(key);
      return {
        namespace: running.workload.namespace,
        name: running.workload.workload,
        kind: running.gateway ? 'agentgateway' : 'waypoint',
        identity: running.workload.spiffeId,
        ip: running.workload.ip,
        ...(hostUrl ? { hostUrl } : {}),
      };
    });
  }

  /** The running agent gateways (for the admin API and tests). */
  agentGateways(): AgentGateway[] {
    return [...this.running.values()].flatMap((r) => (r.gateway ? [r.gateway] : []));
  }

  /** Reconfigure every agent gateway from the current resources (routes and policies changed). */
  private configureGateways(): void {
    for (const running of this.running.values()) {
      if (!running.gateway) continue;
      const gateway = this.options.engine.list('Gateway').find((l) => `${l.resource.metadata.namespace}/${l.resource.metadata.name}` === running.gateway!.key)?.resource as Gateway | undefined;
      if (!gateway) continue;
      const inputs = this.gatewayInputs(gateway);
      // Recompile only when what the gateway reads changed (most store changes are of other kinds).
      const signature = JSON.stringify([inputs.gateway, inputs.routes, inputs.backends, inputs.policies, inputs.referenceGrants, this.options.engine.list('Service').map((l) => l.resource), this.options.engine.list('Namespace').map((l) => l.resource.metadata.labels)]);
      if (this.signatures.get(running.gateway.key) === signature) continue;
      this.signatures.set(running.gateway.key, signature);
      const warnings = running.gateway.configure(inputs);
      const text = warnings.join('\n');
      if (text !== this.lastWarnings.get(running.gateway.key)) {
        this.lastWarnings.set(running.gateway.key, text);
        for (const warning of warnings) (this.options.gatewayLog ?? this.options.log).warn('gateway configuration', { gateway: running.gateway.key, warning });
      }
    }
  }

  private readonly lastWarnings = new Map<string, string>();
  private readonly signatures = new Map<string, string>();

  private gatewayInputs(gateway: Gateway): GatewayInputs {
    const { engine } = this.options;
    const list = <T>(kind: Parameters<Engine['list']>[0]): T[] => engine.list(kind).map((l) => l.resource as T);
    return {
      gateway,
      routes: list<HTTPRoute>('HTTPRoute'),
      backends: list<AgentgatewayBackend>('AgentgatewayBackend'),
      policies: [...list<GatewayPolicy>('AgentgatewayPolicy'), ...list<GatewayPolicy>('EnterpriseAgentgatewayPolicy')],
      referenceGrants: list<ReferenceGrant>('ReferenceGrant'),
      service: (namespace, name) => {
        const service = engine.list('Service').find((l) => l.resource.metadata.namespace === namespace && l.resource.metadata.name === name)?.resource as Service | undefined;
        if (service) {
          return {
            name,
            namespace,
            hostname: `${name}.${namespace}.svc.cluster.local`,
            ports: service.spec.ports.map((p) => ({ port: p.port, ...(p.name ? { name: p.name } : {}), ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}) })),
            annotations: service.metadata.annotations ?? {},
          };
        }
        const provisioned = this.options.view.service(`${name}.${namespace}.svc.cluster.local`, namespace);
        return provisioned ? { name, namespace, hostname: provisioned.hostname, ports: provisioned.ports.map((p) => ({ port: p.port })), annotations: {} } : undefined;
      },
      fetchJwks: async (url) => {
        const running = this.running.get(`${gateway.metadata.namespace}/${gateway.metadata.name}`);
        const response = await (running?.gatewayFetch ?? webFetch)(url, { method: 'GET', headers: { accept: 'application/json' }, timeoutMs: 5_000 });
        if (!response.ok) throw new Error(`HTTP ${response.status} from ${url}`);
        return response.json();
      },
    };
  }

  /** Start waypoints for new Gateways, stop those whose Gateway is gone. Serialised. */
  sync(): Promise<void> {
    const pass = this.syncing.then(() => this.syncOnce());
    this.syncing = pass.catch((error: unknown) => this.options.log.error('waypoint sync failed', { error }));
    return pass;
  }

  async close(): Promise<void> {
    await this.syncing;
    for (const key of [...this.running.keys()]) await this.stop(key);
  }

  private async syncOnce(): Promise<void> {
    const gateways = this.options.engine
      .list('Gateway')
      .map((l) => l.resource as Gateway)
      .filter((g) => g.spec.gatewayClassName === WAYPOINT_CLASS || (AGENTGATEWAY_CLASSES as readonly string[]).includes(g.spec.gatewayClassName));
    const wanted = new Set(gateways.map((g) => `${g.metadata.namespace}/${g.metadata.name}`));
    for (const key of this.running.keys()) if (!wanted.has(key)) await this.stop(key);
    // One gateway that cannot start (its host port is taken) must not keep the others from starting; the
    // pass still fails with its error, so that `up` stops with it instead of saying "Ready" without it.
    const failures: unknown[] = [];
    for (const gateway of gateways) {
      const key = `${gateway.metadata.namespace}/${gateway.metadata.name}`;
      if (this.running.has(key)) continue;
      try {
        await this.start(gateway);
      } catch (error) {
        failures.push(error);
        // Half-started is not started: the next pass tries again from nothing.
        await this.stop(key).catch(() => undefined);
      }
    }
    this.configureGateways();
    if (failures.length > 0) throw failures[0];
  }

  private async start(gateway: Gateway): Promise<void> {
    const { engine, rotator, log } = this.options;
    const namespace = gateway.metadata.namespace!;
    const name = gateway.metadata.name;
    const key = `${namespace}/${name}`;
    const spiffeId = spiffeIdFor(namespace, name);
    const agent = gateway.spec.gatewayClassName !== WAYPOINT_CLASS;
    await rotator.ensure({ namespace, serviceAccount: name });
    const workload: MeshWorkload = {
      uid: `${key}-${agent ? 'gateway' : 'waypoint'}`,
      name: `${name}-${agent ? 'gateway' : 'waypoint'}`,
      namespace,
      workload: name,
      serviceAccount: name,
      labels: { [GATEWAY_NAME_LABEL]: name },
      ip: engine.assignAddress(`${key}-${agent ? 'gateway' : 'waypoint'}`),
      spiffeId,
      listeners: new Map(),
      ready: true,
      imageDigest: 'built-in',
      image: agent ? 'trustusbank/agentgateway (built in)' : 'trustusbank/waypoint (built in)',
    };
    const serverIdentity = () => {
      const svid = rotator.current(spiffeId);
      if (!svid) throw new Error(`no SVID for ${spiffeId}`);
      return svid;
    };
    if (!agent) {
      const waypoint = new Waypoint({
        workload,
        view: this.options.view,
        authz: this.options.view.authz,
        log: log.child({ waypoint: key }),
        metrics: this.options.metrics,
        open: (destination, authority) => this.options.open(workload, destination, authority),
      });
      // Policy at a waypoint is judged per request (Envoy's HTTP RBAC filter); the tunnel is tracked so that a
      // request still in flight when a policy denies it is cut.
      const server: HboneServer = new HboneServer({
        trustBundlePem: this.options.trustBundlePem,
        serverIdentity,
        authorize: (request) => {
          const caller = callerOf(request.peerSpiffeId);
          if (!caller) return { allow: false, status: 401, reason: NO_WORKLOAD_IDENTITY };
          const parties: ConnectionParties = { source: inboundSource(this.options.view, request.headers.forwarded, caller).source, destination: workload };
          return {
            allow: true,
            accept: (stream, tunnelId) => {
              waypoint.accept(stream, request.peerSpiffeId, request.authority);
              this.track(key, server, tunnelId, stream, { recheck: () => waypoint.recheck(stream), parties, authority: request.authority });
            },
          };
        },
      });
      const endpoint = await server.listen(0, '127.0.0.1');
      engine.addWorkload(workload);
      this.running.set(key, { workload, server, endpoint, close: async () => waypoint.close() });
      log.info('waypoint started', { waypoint: key, identity: spiffeId, ip: workload.ip });
      return;
    }

    const gatewayFetch = createMeshFetch({ view: this.options.view, namespace, open: (destination, authority) => this.options.open(workload, destination, authority) });
    const agentGateway = new AgentGateway({
      key,
      log: (this.options.gatewayLog ?? log).child({ gateway: key }),
      metrics: this.options.metrics,
      dataDir: join(this.options.gatewayDataDir, namespace, name),
      fetch: gatewayFetch,
      // TRUSTUSBANK_GATEWAY_ALLOWED_ORIGINS / _HOSTS of the `up` process (README, "DNS-rebinding protection").
      rebinding: rebindingPolicyFromEnv(process.env, 'TRUSTUSBANK_GATEWAY_'),
      namespaceLabels: (ns) => (engine.list('Namespace').find((l) => l.resource.metadata.name === ns)?.resource as Namespace | undefined)?.metadata.labels ?? {},
    });
    const listenerPorts = gateway.spec.listeners.filter((l) => l.protocol === 'HTTP').map((l) => l.port);
    const server: HboneServer = new HboneServer({
      trustBundlePem: this.options.trustBundlePem,
      serverIdentity,
      authorize: (request) => {
        const colon = request.authority.lastIndexOf(':');
        const host = request.authority.slice(0, colon);
        const port = Number(request.authority.slice(colon + 1));
        const caller = callerOf(request.peerSpiffeId);
        if (!caller) return { allow: false, status: 401, reason: NO_WORKLOAD_IDENTITY };
        // L4 policy on the gateway itself, as ztunnel would apply it in front of a gateway pod.
        const { source, vouched } = inboundSource(this.options.view, request.headers.forwarded, caller);
        const check: InboundRequest = { peerSpiffeId: caller.spiffeId, at: { kind: 'workload', workload }, destination: { ip: workload.ip, port }, ...(vouched ? { sourceIp: source.ip } : {}) };
        const parties: ConnectionParties = { source, destination: workload };
        const verdict = authorizeInbound(this.options.view.authz, check);
        if (!verdict.allowed) {
          const traceparent = request.headers.traceparent;
          this.options.telemetry.policyRejection(parties, request.authority, verdict.message, typeof traceparent === 'string' ? traceparent : undefined);
          return { allow: false, status: 401, reason: verdict.message };
        }
        const service = host === workload.ip ? undefined : this.options.view.service(host, namespace);
        const own = !service || (service.namespace === namespace && service.name === name);
        if (own && !listenerPorts.includes(port)) return { allow: false, status: 503, reason: `${key} does not listen on ${port}` };
        const parent: ConnectionParent = own ? { kind: 'Gateway' } : { kind: 'Service', namespace: service.namespace, name: service.name, hostname: service.hostname, port };
        // The source pod's address, as ztunnel forwards it, only when that pod really has the proven identity.
        const address = vouched ? source.ip : 'unknown';
        const identity: CallerIdentity = { spiffeId: caller.spiffeId, trustDomain: caller.trustDomain, namespace: caller.namespace, serviceAccount: caller.serviceAccount };
        return {
          allow: true,
          accept: (stream, tunnelId) => {
            agentGateway.accept(stream, identity, address, parent);
            this.track(key, server, tunnelId, stream, { recheck: () => [authorizeInbound(this.options.view.authz, check)], parties, authority: request.authority });
          },
        };
      },
    });
    const endpoint = await server.listen(0, '127.0.0.1');
    workload.hboneEndpoint = endpoint;
    engine.addWorkload(workload);
    engine.setProvisionedService(namespace, name, {
      ports: gateway.spec.listeners.filter((l) => l.protocol === 'HTTP').map((l) => ({ name: l.name, port: l.port, targetPort: l.port })),
      selector: { [GATEWAY_NAME_LABEL]: name },
      labels: { [GATEWAY_NAME_LABEL]: name },
    });
    const running: RunningWaypoint = {
      workload,
      server,
      endpoint,
      gateway: agentGateway,
      gatewayFetch,
      close: async () => {
        engine.setProvisionedService(namespace, name, undefined);
        gatewayFetch.close();
        await agentGateway.close();
      },
    };
    this.running.set(key, running);
    agentGateway.configure(this.gatewayInputs(gateway));
    const annotation = gateway.metadata.annotations?.[HOST_PORT_ANNOTATION];
    if (annotation !== undefined) {
      const port = this.options.hostPorts?.[key] ?? Number(annotation);
      const bound = await agentGateway.listenOnHost(port, '127.0.0.1', this.options.hostPortFlags?.[key] ?? `--host-port ${key}=N`);
      log.info('agent gateway host listener', { gateway: key, url: bound.url });
      this.hostUrls.set(key, bound.url);
    }
    log.info('agent gateway started', { gateway: key, identity: spiffeId, ip: workload.ip, class: gateway.spec.gatewayClassName });
  }

  /**
   * Hand a tunnel this proxy's server accepted to the connection manager: judged again on every policy change,
   * closed (and reported as ztunnel reports a refusal) when no longer allowed, forgotten when it ends.
   */
  private track(key: string, server: HboneServer, tunnelId: number, stream: Duplex, tunnel: { recheck: TrackedTunnel['recheck']; parties: ConnectionParties; authority: string }): void {
    const release = this.options.connections.track({
      server: key,
      recheck: tunnel.recheck,
      revoke: (verdict) => {
        if (!server.closeTunnel(tunnelId)) return false;
        this.options.telemetry.policyRejection(tunnel.parties, tunnel.authority, verdict.message);
        return true;
      },
    });
    stream.once('close', release);
  }

  /** Host URLs of agent gateways that have a host listener. */
  readonly hostUrls = new Map<string, string>();

  private async stop(key: string): Promise<void> {
    const running = this.running.get(key);
    if (!running) return;
    this.running.delete(key);
    this.hostUrls.delete(key);
    this.signatures.delete(key);
    this.options.engine.removeWorkload(running.workload);
    await running.close();
    await running.server.close();
    this.options.log.info('waypoint stopped', { waypoint: key });
  }
}
