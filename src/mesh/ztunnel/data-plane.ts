// The data plane's own state: what ztunnel, the waypoints and the gateways decide with. The control plane pushes
// it (workloads and their tokens as they come and go, the whole Service set on each change, the egress registry,
// the policies into `authz`), as istiod pushes WDS/ADS resources to ztunnel; the data plane never reads the control plane's store
// or registry. Pushes are synchronous and incremental for workloads, so there is no moment where a pod holds a
// token the data plane does not know, or an address it still maps to a pod that is gone.
import { qualifyServiceName } from '../capture/protocol.ts';
import type { AuthorizationPolicyEngine } from '../authz/index.ts';
import { egressDecision, type EgressRequest, type OutboundMode, type RegisteredHost } from './egress.ts';
import type { MeshService, MeshServicePort, MeshView, MeshWorkload } from './state.ts';

/** A Service as pushed: with the selector that picks its endpoints. */
export interface PushedService extends MeshService {
  selector: Record<string, string>;
}

/** A workload as pushed. */
export interface PushedWorkload {
  workload: MeshWorkload;
  /** `pod`: selected by Services when ready; `proxy`: a waypoint or gateway, selected too; `identity`: a
   *  short-lived identity with no process (never an endpoint). */
  kind: 'pod' | 'proxy' | 'identity';
  /** Whether a ready pod is really serving (running, not on its way out). */
  serving?: () => boolean;
  /** The pod's named container ports, for a Service's `targetPort: <name>`. */
  namedPorts?: Readonly<Record<string, number>>;
}

export class DataPlaneState implements MeshView {
  private readonly byIp = new Map<string, PushedWorkload>();
  private readonly byToken = new Map<string, MeshWorkload>();
  private services = new Map<string, PushedService>();
  private outbound: { mode: OutboundMode; hosts: readonly RegisteredHost[] } = { mode: 'ALLOW_ANY', hosts: [] };

  /** `authz`: the policies in force, pushed into it by the control plane. */
  constructor(readonly authz: AuthorizationPolicyEngine) {}

  // --- pushes ------------------------------------------------------------------------------------------

  /** A workload is there, reachable at its address and speaking with these tokens. */
  putWorkload(entry: PushedWorkload, tokens: readonly string[] = []): void {
    this.byIp.set(entry.workload.ip, entry);
    for (const token of tokens) this.byToken.set(token, entry.workload);
  }

  /** A workload is gone: its address and every token that speaks as it. */
  removeWorkload(workload: MeshWorkload): void {
    if (this.byIp.get(workload.ip)?.workload === workload) this.byIp.delete(workload.ip);
    for (const [token, holder] of this.byToken) if (holder === workload) this.byToken.delete(token);
  }

  /** One more token speaking as a workload (an `exec` into its pod). */
  putToken(token: string, workload: MeshWorkload): void {
    this.byToken.set(token, workload);
  }

  removeToken(token: string): void {
    this.byToken.delete(token);
  }

  /** The whole Service set, replacing the last one. */
  setServices(services: readonly PushedService[]): void {
    this.services = new Map(services.map((s) => [s.hostname, s]));
  }

  /** Istio's outboundTrafficPolicy and the ServiceEntries, replacing the last ones (ALLOW_ANY until pushed). */
  setEgress(mode: OutboundMode, hosts: readonly RegisteredHost[]): void {
    this.outbound = { mode, hosts };
  }

  /** May a pod reach this destination outside the mesh? (ztunnel's egress decision, with what was pushed.) */
  egress(request: EgressRequest): ReturnType<typeof egressDecision> {
    return egressDecision(this.outbound.mode, this.outbound.hosts, request);
  }

  // --- MeshView ----------------------------------------------------------------------------------------

  workloadByToken(token: string): MeshWorkload | undefined {
    return this.byToken.get(token);
  }

  workloadByIp(ip: string): MeshWorkload | undefined {
    return this.byIp.get(ip)?.workload;
  }

  service(host: string, fromNamespace: string): MeshService | undefined {
    for (const service of this.services.values()) if (service.clusterIp === host) return service;
    const qualified = qualifyServiceName(host, fromNamespace);
    return qualified === undefined ? undefined : this.services.get(qualified);
  }

  endpoints(service: MeshService): MeshWorkload[] {
    const selector = this.services.get(service.hostname)?.selector ?? {};
    if (Object.keys(selector).length === 0) return [];
    const selected = [...this.byIp.values()].filter(
      ({ workload, kind, serving }) =>
        kind !== 'identity' && workload.ready && (serving?.() ?? true) && workload.namespace === service.namespace && Object.entries(selector).every(([k, v]) => workload.labels[k] === v),
    );
    // Pods by name, then the built-in proxies (a Gateway's), as their pods would be listed.
    const pods = selected.filter((e) => e.kind === 'pod').sort((a, b) => a.workload.uid.localeCompare(b.workload.uid));
    return [...pods, ...selected.filter((e) => e.kind === 'proxy')].map((e) => e.workload);
  }

  containerPort(_service: MeshService, port: MeshServicePort, pod: MeshWorkload): number | undefined {
    if (typeof port.targetPort === 'number') return port.targetPort;
    return this.byIp.get(pod.ip)?.namedPorts?.[port.targetPort];
  }
}
