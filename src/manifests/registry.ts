// The kinds TrustUsBank understands. Later work adds kinds by registering them here; the loader,
// `get` and the error messages learn about them from this table alone.
import type { z } from 'zod';
import { AGENTGATEWAY_API_VERSION, ENTERPRISE_AGENTGATEWAY_API_VERSION, agentgatewayBackendSchema, agentgatewayPolicySchema, enterpriseAgentgatewayPolicySchema } from './kinds/agentgateway.ts';
import { authorizationPolicySchema } from './kinds/authorization-policy.ts';
import { deploymentSchema } from './kinds/deployment.ts';
import { gatewaySchema } from './kinds/gateway.ts';
import { httpRouteSchema } from './kinds/http-route.ts';
import { ISTIO_SECURITY_API_VERSIONS } from './kinds/istio.ts';
import { ACCESS_POLICY_API_VERSION, KAGENT_API_VERSION, KAGENT_API_VERSIONS, accessPolicySchema, agentSchema, modelConfigSchema, remoteMcpServerSchema } from './kinds/kagent.ts';
import { namespaceSchema } from './kinds/namespace.ts';
import { peerAuthenticationSchema } from './kinds/peer-authentication.ts';
import { KYVERNO_API_VERSION, clusterPolicySchema } from './kinds/kyverno.ts';
import { REFERENCE_GRANT_API_VERSIONS, referenceGrantSchema } from './kinds/reference-grant.ts';
import { serviceAccountSchema } from './kinds/service-account.ts';
import { serviceSchema } from './kinds/service.ts';
import { configMapSchema } from './kinds/config-map.ts';
import { SERVICE_ENTRY_API_VERSIONS, serviceEntrySchema } from './kinds/service-entry.ts';
import { prometheusRuleSchema } from './kinds/prometheus-rule.ts';
import type { KnownKind, KnownResource } from './types.ts';

export interface KindDefinition {
  kind: KnownKind;
  /** Every `apiVersion` accepted for the kind, preferred first. */
  apiVersions: readonly string[];
  /** False for cluster-scoped kinds (Namespace): they take no `metadata.namespace`. */
  namespaced: boolean;
  /** Validates a whole document (apiVersion, kind, metadata, spec) and yields the typed resource. */
  schema: z.ZodType<KnownResource, unknown>;
  /** The kubectl resource name (`deployments`); defaults to the lower-case kind plus "s". */
  plural?: string;
  /** kubectl short names (`deploy`, `svc`). */
  shortNames?: readonly string[];
}

const definitions = new Map<string, KindDefinition>();
/** kubectl-style names (singular, plural, short) in lower case → kind. */
const names = new Map<string, KnownKind>();

/** Adds a kind. A kind or a name registered twice is a programming error, so it throws a plain Error. */
export function registerKind(definition: KindDefinition): void {
  if (definitions.has(definition.kind)) throw new Error(`kind ${definition.kind} is already registered`);
  if (definition.apiVersions.length === 0) throw new Error(`kind ${definition.kind} needs at least one apiVersion`);
  const aliases = [definition.kind.toLowerCase(), pluralOf(definition), ...(definition.shortNames ?? [])].map((name) => name.toLowerCase());
  for (const alias of aliases) {
    const taken = names.get(alias);
    if (taken !== undefined && taken !== definition.kind) throw new Error(`name "${alias}" of kind ${definition.kind} already names ${taken}`);
  }
  definitions.set(definition.kind, definition);
  for (const alias of aliases) names.set(alias, definition.kind);
}

export function kindDefinition(kind: string): KindDefinition | undefined {
  return definitions.get(kind);
}

/** Every registered kind, sorted by name (for messages and help). */
export function registeredKinds(): KindDefinition[] {
  return [...definitions.values()].sort((a, b) => a.kind.localeCompare(b.kind));
}

/**
 * The kind a kubectl-style name means, as `kubectl get` reads it: singular, plural or short name in any case
 * (`deploy`, `Deployments`, `svc`, `ap`), optionally qualified by API group (`deployments.apps`,
 * `authorizationpolicies.security.istio.io`). Undefined when no registered kind has that name.
 */
export function kindByName(name: string): KnownKind | undefined {
  const lower = name.trim().toLowerCase();
  const dot = lower.indexOf('.');
  const resource = dot === -1 ? lower : lower.slice(0, dot);
  const kind = names.get(resource);
  if (kind === undefined || dot === -1) return kind;
  const qualifier = lower.slice(dot + 1);
  const groups = definitions.get(kind)!.apiVersions.flatMap((apiVersion) => {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    return [group, `${version}.${group}`];
  });
  return groups.includes(qualifier) ? kind : undefined;
}

function pluralOf(definition: KindDefinition): string {
  if (definition.plural) return definition.plural;
  const lower = definition.kind.toLowerCase();
  if (lower.endsWith('y')) return `${lower.slice(0, -1)}ies`;
  if (lower.endsWith('s')) return `${lower}es`;
  return `${lower}s`;
}

registerKind({ kind: 'Namespace', apiVersions: ['v1'], namespaced: false, schema: namespaceSchema, shortNames: ['ns'] });
registerKind({ kind: 'ServiceAccount', apiVersions: ['v1'], namespaced: true, schema: serviceAccountSchema, shortNames: ['sa'] });
registerKind({ kind: 'Deployment', apiVersions: ['apps/v1'], namespaced: true, schema: deploymentSchema, shortNames: ['deploy'] });
registerKind({ kind: 'Service', apiVersions: ['v1'], namespaced: true, schema: serviceSchema, shortNames: ['svc'] });
registerKind({ kind: 'AuthorizationPolicy', apiVersions: ISTIO_SECURITY_API_VERSIONS, namespaced: true, schema: authorizationPolicySchema, shortNames: ['ap'] });
registerKind({ kind: 'ConfigMap', apiVersions: ['v1'], namespaced: true, schema: configMapSchema, shortNames: ['cm'] });
registerKind({ kind: 'PrometheusRule', apiVersions: ['monitoring.coreos.com/v1'], namespaced: true, schema: prometheusRuleSchema, plural: 'prometheusrules', shortNames: ['promrule'] });
registerKind({ kind: 'ServiceEntry', apiVersions: SERVICE_ENTRY_API_VERSIONS, namespaced: true, schema: serviceEntrySchema, plural: 'serviceentries', shortNames: ['se'] });
registerKind({ kind: 'PeerAuthentication', apiVersions: ISTIO_SECURITY_API_VERSIONS, namespaced: true, schema: peerAuthenticationSchema, shortNames: ['pa'] });
registerKind({ kind: 'Gateway', apiVersions: ['gateway.networking.k8s.io/v1'], namespaced: true, schema: gatewaySchema, shortNames: ['gtw'] });
registerKind({ kind: 'HTTPRoute', apiVersions: ['gateway.networking.k8s.io/v1'], namespaced: true, schema: httpRouteSchema });
registerKind({ kind: 'ReferenceGrant', apiVersions: REFERENCE_GRANT_API_VERSIONS, namespaced: true, schema: referenceGrantSchema, shortNames: ['refgrant'] });
registerKind({ kind: 'AgentgatewayBackend', apiVersions: [AGENTGATEWAY_API_VERSION], namespaced: true, schema: agentgatewayBackendSchema, shortNames: ['agbe'] });
registerKind({ kind: 'AgentgatewayPolicy', apiVersions: [AGENTGATEWAY_API_VERSION], namespaced: true, schema: agentgatewayPolicySchema, shortNames: ['agpol'] });
registerKind({ kind: 'EnterpriseAgentgatewayPolicy', apiVersions: [ENTERPRISE_AGENTGATEWAY_API_VERSION], namespaced: true, schema: enterpriseAgentgatewayPolicySchema, shortNames: ['eagpol'] });
registerKind({ kind: 'ModelConfig', apiVersions: KAGENT_API_VERSIONS, namespaced: true, schema: modelConfigSchema, shortNames: ['mc'] });
registerKind({ kind: 'RemoteMCPServer', apiVersions: KAGENT_API_VERSIONS, namespaced: true, schema: remoteMcpServerSchema, shortNames: ['rmcps'] });
registerKind({ kind: 'Agent', apiVersions: [KAGENT_API_VERSION], namespaced: true, schema: agentSchema });
registerKind({ kind: 'AccessPolicy', apiVersions: [ACCESS_POLICY_API_VERSION], namespaced: true, schema: accessPolicySchema, plural: 'accesspolicies' });
registerKind({ kind: 'ClusterPolicy', apiVersions: [KYVERNO_API_VERSION], namespaced: false, schema: clusterPolicySchema, shortNames: ['cpol'] });
