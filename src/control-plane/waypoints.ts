// The waypoints of the cluster: one per Gateway of class istio-waypoint, each with its own SPIFFE identity
// (the service account named after the gateway, as Istio does), address and HBONE listener; and which
// waypoint, if any, a service's traffic must go through (`istio.io/use-waypoint` on the Service, else on
// its Namespace; the value `none` opts a service out).
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import type { Logger } from '../core/log.ts';
import type { Gateway, Namespace } from '../manifests/types.ts';
import { WAYPOINT_CLASS } from '../manifests/kinds/gateway.ts';
import type { SvidRotator } from '../mesh/ca/rotator.ts';
import { spiffeIdFor } from '../mesh/ca/spiffe-id.ts';
import { HboneServer } from '../mesh/hbone/index.ts';
import { Waypoint } from '../mesh/waypoint/waypoint.ts';
import type { MeshService, MeshWorkload } from '../mesh/ztunnel/state.ts';
import type { Endpoint } from '../mesh/ztunnel/ztunnel.ts';
import type { Engine } from './engine.ts';

export const USE_WAYPOINT_LABEL = 'istio.io/use-waypoint';
export const USE_WAYPOINT_NAMESPACE_LABEL = 'istio.io/use-waypoint-namespace';

interface RunningWaypoint {
  waypoint: Waypoint;
  server: HboneServer;
  endpoint: Endpoint;
}

export interface WaypointDirectoryOptions {
  engine: Engine;
  rotator: SvidRotator;
  trustBundlePem: string;
  log: Logger;
  metrics: Registry;
  /** Open an HBONE tunnel as `source` to a destination pod through the node's inbound listener. */
  open(source: MeshWorkload, destination: MeshWorkload, authority: string): Promise<Duplex>;
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
    return running ? { workload: running.waypoint.workload, endpoint: running.endpoint } : undefined;
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
      .filter((g) => g.spec.gatewayClassName === WAYPOINT_CLASS);
    const wanted = new Set(gateways.map((g) => `${g.metadata.namespace}/${g.metadata.name}`));
    for (const key of this.running.keys()) if (!wanted.has(key)) await this.stop(key);
    for (const gateway of gateways) {
      const key = `${gateway.metadata.namespace}/${gateway.metadata.name}`;
      if (!this.running.has(key)) await this.start(gateway);
    }
  }

  private async start(gateway: Gateway): Promise<void> {
    const { engine, rotator, log } = this.options;
    const namespace = gateway.metadata.namespace!;
    const name = gateway.metadata.name;
    const key = `${namespace}/${name}`;
    const spiffeId = spiffeIdFor(namespace, name);
    await rotator.ensure({ namespace, serviceAccount: name });
    const workload: MeshWorkload = {
      uid: `${key}-waypoint`,
      name: `${name}-waypoint`,
      namespace,
      workload: name,
      serviceAccount: name,
      labels: { 'gateway.networking.k8s.io/gateway-name': name },
      ip: engine.assignAddress(`${key}-waypoint`),
      spiffeId,
      hostPorts: new Map(),
      ready: true,
      imageDigest: 'built-in',
      image: 'trustusbank/waypoint (built in)',
    };
    const waypoint = new Waypoint({
      workload,
      view: engine,
      authz: engine.authz,
      log: log.child({ waypoint: key }),
      metrics: this.options.metrics,
      open: (destination, authority) => this.options.open(workload, destination, authority),
    });
    const server = new HboneServer({
      trustBundlePem: this.options.trustBundlePem,
      serverIdentity: () => {
        const svid = rotator.current(spiffeId);
        if (!svid) throw new Error(`no SVID for ${spiffeId}`);
        return svid;
      },
      authorize: (request) => ({ allow: true, accept: (stream) => waypoint.accept(stream, request.peerSpiffeId, request.authority) }),
    });
    const endpoint = await server.listen(0, '127.0.0.1');
    engine.addWorkload(workload);
    this.running.set(key, { waypoint, server, endpoint });
    log.info('waypoint started', { waypoint: key, identity: spiffeId, ip: workload.ip });
  }

  private async stop(key: string): Promise<void> {
    const running = this.running.get(key);
    if (!running) return;
    this.running.delete(key);
    this.options.engine.removeWorkload(running.waypoint.workload);
    running.waypoint.close();
    await running.server.close();
    this.options.log.info('waypoint stopped', { waypoint: key });
  }
}
