// The resources TrustUsBank understands, as validated objects. They mirror the Kubernetes / Istio YAML
// one-to-one (field names and nesting unchanged) for the subset the engine supports; anything outside this
// subset is refused by the schemas in this directory, never silently dropped.

export interface ObjectMeta {
  name: string;
  /** Absent for cluster-scoped kinds (Namespace); defaulted to "default" for namespaced kinds when omitted. */
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface Resource<Kind extends string, ApiVersion extends string, Spec> {
  apiVersion: ApiVersion;
  kind: Kind;
  metadata: ObjectMeta;
  spec: Spec;
}

export type Namespace = Omit<Resource<'Namespace', 'v1', never>, 'spec'>;
export type ServiceAccount = Omit<Resource<'ServiceAccount', 'v1', never>, 'spec'>;

export interface EnvVar {
  name: string;
  value?: string;
}

export interface ContainerPort {
  containerPort: number;
  name?: string;
  protocol?: 'TCP';
}

export interface HttpGetProbe {
  httpGet: { path: string; port: number | string };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}

export interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
  ports?: ContainerPort[];
  readinessProbe?: HttpGetProbe;
}

export interface DeploymentSpec {
  replicas?: number;
  selector: { matchLabels: Record<string, string> };
  template: {
    metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
    spec: { serviceAccountName?: string; containers: [Container] };
  };
}

export type Deployment = Resource<'Deployment', 'apps/v1', DeploymentSpec>;

export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: 'TCP';
  appProtocol?: string;
}

export interface ServiceSpec {
  type?: 'ClusterIP';
  selector?: Record<string, string>;
  ports: ServicePort[];
}

export type Service = Resource<'Service', 'v1', ServiceSpec>;

// --- Istio security.istio.io/v1 -------------------------------------------------------------------------

export interface Source {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  serviceAccounts?: string[];
  notServiceAccounts?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
}

export interface Operation {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}

export interface Condition {
  key: string;
  values?: string[];
  notValues?: string[];
}

export interface Rule {
  from?: { source: Source }[];
  to?: { operation: Operation }[];
  when?: Condition[];
}

export interface PolicyTargetReference {
  group?: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface AuthorizationPolicySpec {
  selector?: { matchLabels?: Record<string, string> };
  targetRef?: PolicyTargetReference;
  targetRefs?: PolicyTargetReference[];
  action?: 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';
  provider?: { name: string };
  rules?: Rule[];
}

export type AuthorizationPolicy = Resource<'AuthorizationPolicy', 'security.istio.io/v1' | 'security.istio.io/v1beta1', AuthorizationPolicySpec>;

export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE' | 'UNSET';

export interface PeerAuthenticationSpec {
  selector?: { matchLabels?: Record<string, string> };
  mtls?: { mode?: MtlsMode };
  portLevelMtls?: Record<string, { mode?: MtlsMode }>;
}

export type PeerAuthentication = Resource<'PeerAuthentication', 'security.istio.io/v1' | 'security.istio.io/v1beta1', PeerAuthenticationSpec>;

// --- Gateway API gateway.networking.k8s.io/v1 ----------------------------------------------------------

export interface GatewayListener {
  name: string;
  port: number;
  protocol: 'HBONE';
}

export interface GatewaySpec {
  /** Istio's class for ambient waypoints; the MCP gateway's classes will widen this. */
  gatewayClassName: 'istio-waypoint';
  listeners: GatewayListener[];
}

export type Gateway = Resource<'Gateway', 'gateway.networking.k8s.io/v1', GatewaySpec>;

export type KnownResource = Namespace | ServiceAccount | Deployment | Service | AuthorizationPolicy | PeerAuthentication | Gateway;
export type KnownKind = KnownResource['kind'];

/** Where a document came from, for error messages and `get -o yaml`. */
export interface DocumentOrigin {
  file: string;
  /** 0-based index of the document in its file. */
  index: number;
}

export interface LoadedResource<R extends KnownResource = KnownResource> {
  resource: R;
  origin: DocumentOrigin;
}
