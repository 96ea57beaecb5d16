// Two small pieces every mesh data path needs (ztunnel, the waypoint, the agent gateway's mesh client):
// spreading a service's traffic over its ready endpoints, and reading the source pod from the `forwarded`
// header a source ztunnel sets.
import type { Caller } from '../authz/inbound.ts';
import type { MeshService, MeshView, MeshWorkload } from './state.ts';

/** Round robin over a service's ready endpoints, with a cursor per service. */
export class EndpointBalancer {
  private readonly cursors = new Map<string, number>();

  constructor(private readonly view: Pick<MeshView, 'endpoints'>) {}

  next(service: MeshService): MeshWorkload | undefined {
    const endpoints = this.view.endpoints(service);
    if (endpoints.length === 0) return undefined;
    const next = (this.cursors.get(service.hostname) ?? 0) % endpoints.length;
    this.cursors.set(service.hostname, next + 1);
    return endpoints[next];
  }
}

const FORWARDED_FOR = /(?:^|;|,)\s*for="?([0-9a-fA-F.:]+)"?/;

/**
 * The address in a `forwarded: for=<ip>` header, and the pod at that address when — and only when — it has
 * the identity the client certificate proved. The header itself proves nothing; it only names the pod for
 * telemetry and policy on addresses.
 */
export function forwardedSource(view: Pick<MeshView, 'workloadByIp'>, header: string | string[] | undefined, peerSpiffeId: string): { address?: string; pod?: MeshWorkload } {
  const address = FORWARDED_FOR.exec(String(header ?? ''))?.[1];
  if (address === undefined) return {};
  const claimed = view.workloadByIp(address);
  return claimed?.spiffeId === peerSpiffeId ? { address, pod: claimed } : { address };
}

/**
 * The source of an inbound connection for telemetry: the pod the `forwarded` header names when it holds the
 * proven identity, else a workload known only by that identity (and the unvouched address, for the log).
 */
export function inboundSource(view: Pick<MeshView, 'workloadByIp'>, header: string | string[] | undefined, caller: Caller): { source: MeshWorkload; vouched: boolean } {
  const { address, pod } = forwardedSource(view, header, caller.spiffeId);
  if (pod) return { source: pod, vouched: true };
  return {
    source: {
      uid: `${caller.namespace}/unknown`,
      name: 'unknown',
      namespace: caller.namespace,
      workload: 'unknown',
      serviceAccount: caller.serviceAccount,
      labels: {},
      ip: address ?? 'unknown',
      spiffeId: caller.spiffeId,
      listeners: new Map(),
      ready: true,
      imageDigest: 'unknown',
      image: 'unknown',
    },
    vouched: false,
  };
}
