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

export interface ConfigMap {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: ObjectMeta;
  data?: Record<string, string>;
}

export interface PrometheusRuleDefinition {
  alert?: string | undefined;
  record?: string | undefined;
  expr: string | number;
  for?: string | undefined;
  keep_firing_for?: string | undefined;
  labels?: Record<string, string> | undefined;
  annotations?: Record<string, string> | undefined;
}

export interface PrometheusRuleGroup {
  name: string;
  interval?: string | undefined;
  rules: PrometheusRuleDefinition[];
}

/** The Prometheus Operator's PrometheusRule: rule groups in Prometheus' format. */
export type PrometheusRule = Resource<'PrometheusRule', 'monitoring.coreos.com/v1', { groups: PrometheusRuleGroup[] }>;

export interface ServiceEntrySpec {
  hosts: string[];
  addresses?: string[];
  ports: { number: number; protocol?: string; name: string; targetPort?: number }[];
  location?: 'MESH_EXTERNAL';
  resolution?: 'NONE' | 'DNS' | 'DNS_ROUND_ROBIN';
  exportTo?: string[];
}

export type ServiceEntry = Resource<'ServiceEntry', 'networking.istio.io/v1' | 'networking.istio.io/v1beta1' | 'networking.istio.io/v1alpha3', ServiceEntrySpec>;
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

/** Istio's `targetRef(s)`; the agentgateway policies have their own `PolicyTargetReference` below. */
export interface IstioPolicyTargetReference {
  group?: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface AuthorizationPolicySpec {
  selector?: { matchLabels?: Record<string, string> };
  targetRef?: IstioPolicyTargetReference;
  targetRefs?: IstioPolicyTargetReference[];
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

// --- Gateway API gateway.networking.k8s.io/v1 (ReferenceGrant also v1beta1) -----------------------------

export const GATEWAY_CLASSES = ['istio-waypoint', 'agentgateway', 'enterprise-agentgateway-waypoint'] as const;
export type GatewayClassName = (typeof GATEWAY_CLASSES)[number];

export interface GatewayListener {
  name: string;
  port: number;
  /** HBONE for istio-waypoint; HTTP for the agentgateway classes (an agentgateway waypoint may also list HBONE). */
  protocol: 'HBONE' | 'HTTP';
  allowedRoutes?: { namespaces?: { from: 'Same' | 'All' } };
}

export interface GatewaySpec {
  gatewayClassName: GatewayClassName;
  listeners: GatewayListener[];
}

export type Gateway = Resource<'Gateway', 'gateway.networking.k8s.io/v1', GatewaySpec>;

export interface ParentReference {
  /** '' or absent with kind Service (core group); gateway.networking.k8s.io (default) with kind Gateway. */
  group?: string;
  /** Default Gateway. */
  kind?: 'Gateway' | 'Service';
  name: string;
  /** Default: the route's namespace. */
  namespace?: string;
  sectionName?: string;
  port?: number;
}

export interface HTTPPathMatch {
  /** Default PathPrefix. */
  type?: 'PathPrefix' | 'Exact' | 'RegularExpression';
  /** Default "/". */
  value?: string;
}

export interface HTTPHeaderMatch {
  /** Default Exact. */
  type?: 'Exact' | 'RegularExpression';
  name: string;
  value: string;
}

export interface HTTPRouteMatch {
  path?: HTTPPathMatch;
  headers?: HTTPHeaderMatch[];
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'CONNECT' | 'OPTIONS' | 'TRACE' | 'PATCH';
}

export interface HTTPBackendRef {
  /** '' / absent for Service; agentgateway.dev for AgentgatewayBackend. */
  group?: string;
  /** Default Service. */
  kind?: 'Service' | 'AgentgatewayBackend';
  name: string;
  namespace?: string;
  /** Required for Service, refused for AgentgatewayBackend. */
  port?: number;
  weight?: number;
}

export interface HTTPRouteRule {
  name?: string;
  matches?: HTTPRouteMatch[];
  backendRefs?: HTTPBackendRef[];
}

export interface HTTPRouteSpec {
  parentRefs: ParentReference[];
  hostnames?: string[];
  rules: HTTPRouteRule[];
}

export type HTTPRoute = Resource<'HTTPRoute', 'gateway.networking.k8s.io/v1', HTTPRouteSpec>;

/** Who is trusted: routes of this kind in this namespace may reference the grant's `to` objects. */
export interface ReferenceGrantFrom {
  /** gateway.networking.k8s.io for HTTPRoute. */
  group: string;
  kind: 'HTTPRoute';
  namespace: string;
}

/** What may be referenced, in the grant's own namespace. */
export interface ReferenceGrantTo {
  /** '' (core) for Service, agentgateway.dev for AgentgatewayBackend. */
  group: string;
  kind: 'Service' | 'AgentgatewayBackend';
  /** Absent: every object of that kind in the grant's namespace. */
  name?: string;
}

export interface ReferenceGrantSpec {
  from: ReferenceGrantFrom[];
  to: ReferenceGrantTo[];
}

/** v1beta1 is served by every Gateway API release since v0.6; v1 from v1.5 on (same schema). */
export type ReferenceGrant = Resource<'ReferenceGrant', 'gateway.networking.k8s.io/v1beta1' | 'gateway.networking.k8s.io/v1', ReferenceGrantSpec>;

// --- agentgateway.dev/v1alpha1 and enterpriseagentgateway.solo.io/v1alpha1 ------------------------------

export interface McpTargetStatic {
  host: string;
  port: number;
  /** Default StreamableHTTP. */
  protocol?: 'StreamableHTTP' | 'SSE';
  /** Default /mcp for StreamableHTTP, /sse for SSE. */
  path?: string;
}

export interface McpTarget {
  /** DNS-1123 label; also the tool-name prefix (`<name>_<tool>`). */
  name: string;
  static: McpTargetStatic;
}

export interface AgentgatewayBackendSpec {
  mcp: {
    targets: McpTarget[];
    /** Default Conditional: prefix tool names only when there is more than one target. */
    prefixMode?: 'Conditional' | 'Always' | 'Never';
    /** Default FailClosed: a target that fails fails the request; FailOpen leaves it out. */
    failureMode?: 'FailClosed' | 'FailOpen';
  };
}

export type AgentgatewayBackend = Resource<'AgentgatewayBackend', 'agentgateway.dev/v1alpha1', AgentgatewayBackendSpec>;

export interface PolicyTargetReference {
  /** gateway.networking.k8s.io for Gateway/HTTPRoute, agentgateway.dev for AgentgatewayBackend. */
  group: string;
  kind: 'Gateway' | 'HTTPRoute' | 'AgentgatewayBackend';
  name: string;
  sectionName?: string;
}

export interface CelAuthorization {
  /** Default Allow. */
  action?: 'Allow' | 'Deny' | 'Require';
  policy: { matchExpressions: string[] };
}

export interface JwtProvider {
  issuer: string;
  audiences?: string[];
  jwks: { inline: string } | { remote: { url: string; cacheDuration?: string } };
}

export interface JwtAuthentication {
  /** Default Strict. */
  mode?: 'Strict' | 'Optional' | 'Permissive';
  providers: JwtProvider[];
}

export interface LocalRateLimit {
  requests: number;
  unit: 'Seconds' | 'Minutes' | 'Hours';
  /** Extra requests allowed in a burst on top of `requests`; default 0. */
  burst?: number;
}

export interface TrafficPolicy {
  authorization?: CelAuthorization;
  jwtAuthentication?: JwtAuthentication;
  rateLimit?: { local: LocalRateLimit[] };
}

export interface McpBackendPolicy {
  authorization?: CelAuthorization;
}

export interface AgentgatewayPolicySpec {
  targetRefs: PolicyTargetReference[];
  traffic?: TrafficPolicy;
  backend?: { mcp?: McpBackendPolicy };
}

export type AgentgatewayPolicy = Resource<'AgentgatewayPolicy', 'agentgateway.dev/v1alpha1', AgentgatewayPolicySpec>;

export type DlpBuiltinMatcher = 'UkNiNumber' | 'Email' | 'UkPostcode' | 'Phone' | 'CreditCard' | 'DateOfBirth' | 'PersonName' | 'StreetAddress';

/** One DLP matcher: a built-in (`builtin`) or a named custom regex (`name` + `regex`), never both. */
export interface DlpMatcher {
  builtin?: DlpBuiltinMatcher;
  name?: string;
  regex?: string;
}

export interface DlpPolicy {
  /** Default Reject. */
  action?: 'Reject' | 'RedactInPlace';
  /** What is inspected; default [Arguments]. */
  scope?: ('Arguments' | 'Results')[];
  matchers: DlpMatcher[];
  /** The response side, when scope lists Results. */
  results?: DlpResultsPolicy;
}

/** Which tool results DLP inspects, and what it does with a match. */
export interface DlpResultsPolicy {
  /** Default: the policy's `action`. */
  action?: 'Reject' | 'RedactInPlace';
  /** CEL over the call's attributes (`source.*`, `jwt.*`, `mcp.tool.*`...): a result is inspected when any
   *  expression holds, or errors. Default: every result. */
  matchExpressions?: string[];
}

export interface ToolPinningPolicy {
  /** What a drifted server gets: Alert (log and count only), HideDrifted (drifted tools are removed from
   *  lists and refused), BlockServer (every call to the server is refused). */
  action: 'Alert' | 'HideDrifted' | 'BlockServer';
}

export interface TokenExchangePolicy {
  /** The issuer (iss) of minted tokens. */
  issuer: string;
  /** Lifetime of a minted token, a Go-style duration ("5m", "1h"); default "5m". */
  tokenExpiration?: string;
  /** Who may be exchanged: the user IdP whose tokens are accepted as subject_token. */
  subjectValidator: JwtProvider;
}

export interface EnterpriseAgentgatewayPolicySpec {
  targetRefs: PolicyTargetReference[];
  traffic?: TrafficPolicy & { tokenExchange?: TokenExchangePolicy };
  backend?: { mcp?: McpBackendPolicy & { dlp?: DlpPolicy; toolPinning?: ToolPinningPolicy } };
}

export type EnterpriseAgentgatewayPolicy = Resource<'EnterpriseAgentgatewayPolicy', 'enterpriseagentgateway.solo.io/v1alpha1', EnterpriseAgentgatewayPolicySpec>;

// --- kagent kagent.dev/v1alpha2 (v1alpha1 accepted for ModelConfig and RemoteMCPServer) -------------------

/** Anthropic's Messages API or an OpenAI-compatible Chat Completions API; Scripted is TrustUsBank's offline,
 *  deterministic stand-in (no network, no key), not a kagent provider. */
export type KagentModelProvider = 'Anthropic' | 'OpenAI' | 'Scripted';

/** `spec.anthropic` / `spec.openAI`: only for the provider of that name. */
export interface ModelProviderConfig {
  /** Absolute http(s) URL; default the provider's public API (for OpenAI, any OpenAI-compatible server, e.g. Ollama's /v1). */
  baseUrl?: string;
  /** Default: the provider client's own. */
  maxTokens?: number;
  /** As written: kagent writes a string ("0.3"); a YAML number is accepted too. 0–1 for Anthropic, 0–2 for OpenAI. */
  temperature?: string | number;
}

export interface ModelConfigSpec {
  provider: KagentModelProvider;
  model: string;
  /** Where the API key comes from (kagent: a Secret in the ModelConfig's namespace); set together with apiKeySecretKey. */
  apiKeySecret?: string;
  apiKeySecretKey?: string;
  /** Only with provider Anthropic. */
  anthropic?: ModelProviderConfig;
  /** Only with provider OpenAI. */
  openAI?: ModelProviderConfig;
}

export type ModelConfig = Resource<'ModelConfig', 'kagent.dev/v1alpha2' | 'kagent.dev/v1alpha1', ModelConfigSpec>;

/** kagent's ValueSource. Refused by validation (the cluster has no Secret/ConfigMap store); kept so the type mirrors kagent. */
export interface KagentValueSource {
  type: 'Secret' | 'ConfigMap';
  name: string;
  key: string;
}

/** A header sent on every request to the server (kagent's ValueRef): in practice always `value`. */
export interface HeaderValueRef {
  name: string;
  value?: string;
  valueFrom?: KagentValueSource;
}

export interface RemoteMCPServerSpec {
  description?: string;
  /** Default STREAMABLE_HTTP. */
  protocol?: 'STREAMABLE_HTTP' | 'SSE';
  /** Absolute http:// or https:// URL of the MCP endpoint. */
  url: string;
  headersFrom?: HeaderValueRef[];
  /** Go durations ("30s"); defaults are the MCP client's. */
  timeout?: string;
  sseReadTimeout?: string;
  /** Default true (kagent). */
  terminateOnClose?: boolean;
}

export type RemoteMCPServer = Resource<'RemoteMCPServer', 'kagent.dev/v1alpha2' | 'kagent.dev/v1alpha1', RemoteMCPServerSpec>;

export interface McpServerToolReference {
  /** Absent or "kagent.dev". */
  apiGroup?: string;
  /** Default RemoteMCPServer (the only kind supported). */
  kind?: 'RemoteMCPServer';
  name: string;
  /** Default: the Agent's namespace. */
  namespace?: string;
  /** The tools offered to the agent; absent: every tool the server lists (as in kagent). Never empty. */
  toolNames?: string[];
}

export interface AgentReference {
  name: string;
  /** Default: the Agent's namespace. */
  namespace?: string;
}

/** A tool of a declarative agent: an MCP server's tools, or a hand-off to another Agent (over A2A). */
export type AgentTool = { type: 'McpServer'; mcpServer: McpServerToolReference } | { type: 'Agent'; agent: AgentReference };

export interface AgentSkill {
  id: string;
  name: string;
  description?: string;
  tags?: string[];
  examples?: string[];
  inputModes?: string[];
  outputModes?: string[];
}

export interface DeclarativeAgentSpec {
  /** Name of a ModelConfig in the Agent's namespace. */
  modelConfig: string;
  systemMessage: string;
  tools?: AgentTool[];
  /** The agent card's skills (A2A). */
  a2aConfig?: { skills?: AgentSkill[] };
  /** Default false. */
  stream?: boolean;
  deployment?: { replicas?: number; env?: EnvVar[] };
}

export interface AgentSpec {
  /** Default Declarative (the only type supported; BYO is refused). */
  type?: 'Declarative';
  description?: string;
  declarative: DeclarativeAgentSpec;
}

export type Agent = Resource<'Agent', 'kagent.dev/v1alpha2', AgentSpec>;

// --- kagent enterprise policy.kagent-enterprise.solo.io/v1alpha1 ----------------------------------------

/** Who a policy is about. Agent and ServiceAccount need `name` (namespace default: the policy's); a UserGroup is
 *  the users whose token (from `issuer`, when given) carries `claimName` with `claimValue`; it ignores `name`. */
export interface AccessPolicySubject {
  kind: 'Agent' | 'ServiceAccount' | 'UserGroup';
  name?: string;
  namespace?: string;
  issuer?: string;
  claimName?: string;
  claimValue?: string;
}

export interface AccessPolicyTargetRef {
  /** Only Agent: access to MCP servers' tools is governed at the agent gateway (AgentgatewayPolicy). */
  kind: 'Agent';
  /** An Agent in the policy's namespace, or "*" for every Agent there. */
  name: string;
  /** Per-tool scoping of MCP targets; refused on an Agent target, so always absent. */
  tools?: string[];
}

export interface AccessPolicySpec {
  action: 'ALLOW' | 'DENY';
  /** May be empty: no subjects, e.g. with targetRef.name "*", is an allow-none baseline. */
  from: { subjects: AccessPolicySubject[] };
  targetRef: AccessPolicyTargetRef;
}

export type AccessPolicy = Resource<'AccessPolicy', 'policy.kagent-enterprise.solo.io/v1alpha1', AccessPolicySpec>;

// --- Kyverno kyverno.io/v1 ------------------------------------------------------------------------------

/** Kyverno takes both cases for the policy-wide action (the CRD's enum); kept as written: compare ignoring case. */
export type KyvernoValidationFailureAction = 'Enforce' | 'Audit' | 'enforce' | 'audit';

/** Which Pods a rule is about. Only Pods: Kyverno verifies images on Pods (and generates the rules for their
 *  controllers itself), so a Deployment's pods are checked as they start. */
export interface KyvernoResourceDescription {
  kinds: 'Pod'[];
  /** The Pod's namespace must match one of these (`*` and `?` wildcards). Absent: any namespace. */
  namespaces?: string[];
}

export interface KyvernoResourceFilter {
  resources: KyvernoResourceDescription;
}

/** Exactly one of `any` (one filter matches) and `all` (every filter matches), as Kyverno requires. An
 *  `exclude` may have neither: it then excludes nothing. */
export interface KyvernoMatchResources {
  any?: KyvernoResourceFilter[];
  all?: KyvernoResourceFilter[];
}

/** Transparency logs are not consulted here; these say so explicitly for a real cluster too. */
export interface KyvernoRekor {
  ignoreTlog: true;
}

export interface KyvernoCTLog {
  ignoreSCT: true;
}

export interface KyvernoStaticKeyAttestor {
  /** One or more PEM public keys (`-----BEGIN PUBLIC KEY-----`, as in cosign.pub). Kyverno treats each key of
   *  several as an entry of its own, and the attestor set's `count` applies across them. */
  publicKeys: string;
  /** Default sha256, the only digest supported. */
  signatureAlgorithm?: 'sha256';
  rekor?: KyvernoRekor;
  ctlog?: KyvernoCTLog;
}

export interface KyvernoAttestor {
  keys: KyvernoStaticKeyAttestor;
}

export interface KyvernoAttestorSet {
  /** How many entries (keys) must verify; absent: all of them. At most the number of entries as written. */
  count?: number;
  entries: KyvernoAttestor[];
}

export interface KyvernoImageVerification {
  /** Default Cosign, the only type supported. */
  type?: 'Cosign';
  /** Image reference patterns with `*` and `?` wildcards; the rule verifies the images matching one. */
  imageReferences: string[];
  /** Every set must be satisfied. */
  attestors: KyvernoAttestorSet[];
  /** Default true (Kyverno pins the verified digest into the Pod; pods here always run by digest). */
  mutateDigest?: boolean;
  /** Default true: with mutateDigest false, the image must be written with a digest. */
  verifyDigest?: boolean;
  /** Default true (Kyverno's bookkeeping of verified images; every pod start is verified here). */
  required?: boolean;
  /** Kyverno ≥ 1.13, the current form: overrides the deprecated spec.validationFailureAction for this entry. */
  failureAction?: 'Enforce' | 'Audit';
}

export interface KyvernoRule {
  name: string;
  match: KyvernoMatchResources;
  exclude?: KyvernoMatchResources;
  verifyImages: KyvernoImageVerification[];
}

export interface ClusterPolicySpec {
  /** Deprecated (Kyverno 1.13) for verifyImages[].failureAction, which wins. Default Audit: failures are reported, not blocked. */
  validationFailureAction?: KyvernoValidationFailureAction;
  /** Kyverno's background scans of existing resources; no effect here (every pod start is admitted anew). */
  background?: boolean;
  /** Deprecated (Kyverno 1.13) for webhookConfiguration.timeoutSeconds; not both. */
  webhookTimeoutSeconds?: number;
  webhookConfiguration?: KyvernoWebhookConfiguration;
  rules: KyvernoRule[];
}

export interface KyvernoWebhookConfiguration {
  /** 1–30; Kyverno's webhook timeout. No effect here: admission runs in-process. */
  timeoutSeconds?: number;
}

/** Cluster-scoped. Only `verifyImages` rules on Pods, with static keys (cosign key pairs). */
export type ClusterPolicy = Resource<'ClusterPolicy', 'kyverno.io/v1', ClusterPolicySpec>;

export type KnownResource = Namespace | ConfigMap | PrometheusRule | ServiceEntry | ServiceAccount | Deployment | Service | AuthorizationPolicy | PeerAuthentication | Gateway | HTTPRoute | ReferenceGrant | AgentgatewayBackend | AgentgatewayPolicy | EnterpriseAgentgatewayPolicy | ModelConfig | RemoteMCPServer | Agent | AccessPolicy | ClusterPolicy;
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
