// What a ztunnel knows about the mesh: the workloads on it, the services and their endpoints, and who may
// talk to whom. `DataPlaneState` (data-plane.ts) holds it as the control plane pushes it, the embedded
// stand-in for the workload and authorization config a real ztunnel receives over xDS; ztunnel only reads it.
import type { PoliciesInForce } from '../authz/inbound.ts';
import type { SocketAddress } from '../capture/protocol.ts';

export interface MeshWorkload {
  /** `<namespace>/<pod name>`. */
  uid: string;
  name: string;
  namespace: string;
  /** The Deployment (workload) this pod belongs to. */
  workload: string;
  serviceAccount: string;
  labels: Record<string, string>;
  /** The pod's cluster address (a virtual 10.244.0.0/16 address; nothing on the host listens there). */
  ip: string;
  spiffeId: string;
  /** containerPort → where the pod really listens on this machine (a Unix socket only the node reaches). */
  listeners: ReadonlyMap<number, SocketAddress>;
  ready: boolean;
  /** Digest of the image the pod runs, for evidence. */
  imageDigest: string;
  image: string;
  /** Set for a workload that terminates HBONE itself (a waypoint or gateway): tunnels to it go here,
   *  addressed to the service or address the caller dialled, instead of through a node's inbound listener. */
  hboneEndpoint?: { host: string; port: number };
}

export interface MeshServicePort {
  name?: string;
  port: number;
  /** A containerPort number, or the name of a container port. */
  targetPort: number | string;
}

export interface MeshService {
  name: string;
  namespace: string;
  /** `<name>.<namespace>.svc.cluster.local` */
  hostname: string;
  clusterIp: string;
  ports: MeshServicePort[];
  labels: Record<string, string>;
}

export interface MeshView {
  workloadByToken(token: string): MeshWorkload | undefined;
  workloadByIp(ip: string): MeshWorkload | undefined;
  /** A service by cluster IP or by name as resolved from `fromNamespace`. */
  service(host: string, fromNamespace: string): MeshService | undefined;
  /** Ready pods behind a service. */
  endpoints(service: MeshService): MeshWorkload[];
  /** Resolve a service port's targetPort to the container port on a given pod. */
  containerPort(service: MeshService, port: MeshServicePort, pod: MeshWorkload): number | undefined;
  /** The AuthorizationPolicies in force, which every inbound check reads (`authorizeInbound`). */
  readonly authz: PoliciesInForce;
}
