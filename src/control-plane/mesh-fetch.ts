// HTTP from a built-in proxy (the agent gateway) to services, through the mesh: the host is resolved like a
// pod's DNS would (service name or cluster IP), an endpoint is picked, and the request travels over an HBONE
// tunnel opened with the proxy's own identity, so the destination's ztunnel sees and authorizes it as the
// proxy. Tunnels are kept alive and reused per destination (a new HBONE stream costs a little under a
// millisecond). Hosts outside the mesh are reached directly, as Istio's ALLOW_ANY passthrough does.
import type { Agent } from 'node:http';
import type { Duplex } from 'node:stream';
import { KeepAlivePool } from '../core/http-pool.ts';
import { asByteStream } from '../mesh/hbone/index.ts';
import { EndpointBalancer } from '../mesh/ztunnel/endpoints.ts';
import type { MeshView, MeshWorkload } from '../mesh/ztunnel/state.ts';
import { requestOnce } from '../core/http-fetch.ts';
import { webFetch, type FetchLike } from '../core/fetch.ts';

export interface MeshFetchOptions {
  view: MeshView;
  /** The namespace short service names resolve in. */
  namespace: string;
  /** Open an HBONE tunnel to a destination pod (as the proxy). */
  open(destination: MeshWorkload, authority: string): Promise<Duplex>;
}

/**
 * An HTTP agent whose connections are dialled asynchronously (an HBONE tunnel, a captured connection). It
 * pools as KeepAlivePool does (no connection handed out as its server closes it); `keepAlive` false gives
 * each request its own connection.
 */
export class DialAgent extends KeepAlivePool {
  constructor(
    private readonly dial: () => Promise<Duplex>,
    keepAlive = true,
  ) {
    super(keepAlive ? {} : { maxIdleMs: 0 });
  }

  // Node's agent accepts a connection handed over later through the callback.
  override createConnection: Agent['createConnection'] = ((_options: unknown, callback?: (error: Error | null, stream?: Duplex) => void) => {
    this.dial().then(
      (stream) => callback?.(null, socketLike(stream)),
      (error: Error) => callback?.(error),
    );
    return undefined;
  }) as unknown as Agent['createConnection'];
}

/** The keep-alive agent treats its connections as sockets; a tunnel has no TCP options to set. */
function socketLike(stream: Duplex): Duplex {
  const socket = stream as Duplex & Record<string, unknown>;
  for (const method of ['setKeepAlive', 'setNoDelay', 'setTimeout', 'ref', 'unref']) if (typeof socket[method] !== 'function') socket[method] = () => socket;
  return socket;
}

export function createMeshFetch(options: MeshFetchOptions): FetchLike & { close(): void } {
  const agents = new Map<string, DialAgent>();
  const balancer = new EndpointBalancer(options.view);

  const agentFor = (host: string, port: number): { agent: Agent; authority: string } | undefined => {
    const { view } = options;
    let pod = view.workloadByIp(host);
    let containerPort = port;
    if (!pod) {
      const service = view.service(host, options.namespace);
      if (!service) return undefined;
      const servicePort = service.ports.find((p) => p.port === port);
      const chosen = servicePort ? balancer.next(service) : undefined;
      if (!servicePort || !chosen) throw new Error(`no healthy upstream for ${service.hostname}:${port}`);
      pod = chosen;
      const resolved = view.containerPort(service, servicePort, pod);
      if (resolved === undefined) throw new Error(`target port ${servicePort.targetPort} not found on ${pod.name}`);
      containerPort = resolved;
    }
    const authority = `${pod.ip}:${containerPort}`;
    let agent = agents.get(`${pod.uid}|${authority}`);
    if (!agent) {
      const destination = pod;
      agent = new DialAgent(async () => asByteStream(await options.open(destination, authority)));
      agents.set(`${pod.uid}|${authority}`, agent);
    }
    return { agent, authority };
  };

  const meshFetch = (async (url, init) => {
    const target = new URL(url);
    const routed = agentFor(target.hostname, Number(target.port || 80));
    if (!routed) return webFetch(url, init);
    return requestOnce(target, init, routed.agent, { host: target.host });
  }) as FetchLike & { close(): void };
  meshFetch.close = () => {
    for (const agent of agents.values()) agent.destroy();
    agents.clear();
  };
  return meshFetch;
}
