// The agents controller, as kagent's is: every declarative Agent becomes a ServiceAccount, a Deployment of the
// agent runtime image and a Service serving A2A on 8080; an Agent labelled `kagent.solo.io/waypoint: "true"`
// (or targeted by an AccessPolicy) also gets its own waypoint, a Gateway of class
// enterprise-agentgateway-waypoint named `<agent>-waypoint`, which its Service is sent through; and every
// AccessPolicy becomes an EnterpriseAgentgatewayPolicy on the waypoints of the Agents it targets, matching
// callers by their mesh identity in CEL, as kagent-enterprise generates them. Pure: resources in, the
// generated resources and warnings out; the engine treats the output like applied resources.
import type { AccessPolicy, AccessPolicySubject, Agent, AuthorizationPolicy, Deployment, EnterpriseAgentgatewayPolicy, Gateway, KnownResource, LoadedResource, ModelConfig, RemoteMCPServer, Service, ServiceAccount } from '../manifests/types.ts';
import { AGENT_CONFIG_ENV, DEFAULT_MAX_STEPS, type AgentModelConfig, type AgentRuntimeConfig, type McpServerConfig, type PeerAgentConfig } from '../agents/runtime/config.ts';
import { parseGoDuration } from '../manifests/duration.ts';
import type { ManifestIssue } from '../manifests/errors.ts';
import { ALLOW_ADDONS_ANNOTATION, ENV_FROM_HOST_ANNOTATION, isHostEnvName, type Controller } from './engine.ts';
import { USE_WAYPOINT_LABEL } from './waypoints.ts';

export const AGENT_IMAGE = 'trustusbank/kagent-agent:1.0.0';
export const AGENT_PORT = 8080;
export const WAYPOINT_LABEL = 'kagent.solo.io/waypoint';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const AGENT_LABEL = 'kagent.dev/agent';
export const GENERATED_FROM_ANNOTATION = 'trustusbank.io/generated-from';

/**
 * Which model the agents run. `scripted` (the default) is the offline stand-in for every agent; `anthropic` and
 * `openai` put every agent on that provider (model and settings from its ModelConfig when that names the same
 * provider, else `model` or the provider's default); `modelconfig` runs each ModelConfig as written.
 */
export type ModelChoice = { mode: 'scripted' } | { mode: 'provider'; provider: 'anthropic' | 'openai'; model?: string } | { mode: 'modelconfig' };

export const DEFAULT_MODELS = { anthropic: 'claude-haiku-4-5', openai: 'gpt-4o-mini' } as const;
const KEY_VARIABLES = { anthropic: 'ANTHROPIC_API_KEY', openai: 'OPENAI_API_KEY' } as const;
const BASE_URL_VARIABLES = { anthropic: 'ANTHROPIC_BASE_URL', openai: 'OPENAI_BASE_URL' } as const;

/** `--model` / TRUSTUSBANK_MODEL: `scripted`, `modelconfig`, `anthropic[:<model>]` or `openai[:<model>]`. */
export function parseModelChoice(value: string | undefined): ModelChoice | Error {
  const text = (value ?? '').trim();
  if (text === '' || text === 'scripted') return { mode: 'scripted' };
  if (text === 'modelconfig') return { mode: 'modelconfig' };
  const [provider, ...rest] = text.split(':');
  const model = rest.join(':');
  if (provider === 'anthropic' || provider === 'openai') return { mode: 'provider', provider, ...(model ? { model } : {}) };
  return new Error(`unknown model "${text}": use scripted, modelconfig, anthropic[:<model>] or openai[:<model>]`);
}

export function describeModelChoice(choice: ModelChoice): string {
  if (choice.mode === 'scripted') return 'scripted (offline stand-in, deterministic)';
  if (choice.mode === 'modelconfig') return 'as each ModelConfig says';
  return `${choice.provider}${choice.model ? `:${choice.model}` : ''}`;
}

export function createAgentsController(choice: ModelChoice): Controller {
  return { derive: (resources) => translateAgents(resources, choice), check: checkAgentReferences };
}

/** What an Agent in the batch refers to must exist (in the batch or already applied), as kagent would not accept it. */
export function checkAgentReferences(batch: readonly LoadedResource[], all: readonly KnownResource[]): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  const has = (kind: string, namespace: string, name: string): boolean => all.some((r) => r.kind === kind && r.metadata.namespace === namespace && r.metadata.name === name);
  for (const { resource, origin } of batch) {
    if (resource.kind !== 'Agent') continue;
    const namespace = resource.metadata.namespace!;
    const issue = (path: string, message: string): void => {
      issues.push({ file: origin.file, index: origin.index, kind: 'Agent', name: `${namespace}/${resource.metadata.name}`, path, message });
    };
    const declarative = resource.spec.declarative;
    if (!has('ModelConfig', namespace, declarative.modelConfig)) issue('spec.declarative.modelConfig', `ModelConfig "${declarative.modelConfig}" does not exist in namespace ${namespace} (apply it first, or in the same batch)`);
    (declarative.tools ?? []).forEach((tool, i) => {
      if (tool.type === 'McpServer') {
        const ns = tool.mcpServer.namespace ?? namespace;
        if (!has('RemoteMCPServer', ns, tool.mcpServer.name)) issue(`spec.declarative.tools[${i}].mcpServer.name`, `RemoteMCPServer "${tool.mcpServer.name}" does not exist in namespace ${ns}`);
      } else {
        const ns = tool.agent.namespace ?? namespace;
        if (!has('Agent', ns, tool.agent.name)) issue(`spec.declarative.tools[${i}].agent.name`, `Agent "${tool.agent.name}" does not exist in namespace ${ns}`);
      }
    });
  }
  return issues;
}

export interface AgentTranslation {
  resources: LoadedResource[];
  warnings: string[];
}

export function translateAgents(all: readonly KnownResource[], choice: ModelChoice): AgentTranslation {
  const warnings: string[] = [];
  const out: LoadedResource[] = [];
  const agents = all.filter((r): r is Agent => r.kind === 'Agent');
  const modelConfigs = all.filter((r): r is ModelConfig => r.kind === 'ModelConfig');
  const mcpServers = all.filter((r): r is RemoteMCPServer => r.kind === 'RemoteMCPServer');
  const policies = all.filter((r): r is AccessPolicy => r.kind === 'AccessPolicy');
  const userKeys = new Set(all.map((r) => `${r.kind}/${r.metadata.namespace ?? ''}/${r.metadata.name}`));
  const emit = (resource: KnownResource, from: string): void => {
    // A resource the user wrote with the same name wins, as a controller does not overwrite what it does not own.
    if (userKeys.has(`${resource.kind}/${resource.metadata.namespace ?? ''}/${resource.metadata.name}`)) return;
    out.push({ resource, origin: { file: `generated from ${from}`, index: 0 } });
  };

  const policyTargets = (policy: AccessPolicy): Agent[] =>
    agents.filter((a) => a.metadata.namespace === policy.metadata.namespace && (policy.spec.targetRef.name === '*' || policy.spec.targetRef.name === a.metadata.name));
  const guarded = new Set(policies.flatMap((p) => policyTargets(p)).map(agentKey));

  for (const agent of agents) {
    const namespace = agent.metadata.namespace!;
    const name = agent.metadata.name;
    const from = `Agent ${namespace}/${name}`;
    const declarative = agent.spec.declarative;
    const modelConfig = modelConfigs.find((m) => m.metadata.namespace === namespace && m.metadata.name === declarative.modelConfig);
    if (!modelConfig) {
      warnings.push(`${from}: ModelConfig "${declarative.modelConfig}" not found in ${namespace}; the agent is not deployed`);
      continue;
    }
    const model = resolveModel(modelConfig, choice);
    const servers: McpServerConfig[] = [];
    const peers: PeerAgentConfig[] = [];
    for (const tool of declarative.tools ?? []) {
      if (tool.type === 'McpServer') {
        const ref = tool.mcpServer;
        const server = mcpServers.find((s) => s.metadata.namespace === (ref.namespace ?? namespace) && s.metadata.name === ref.name);
        if (!server) {
          warnings.push(`${from}: RemoteMCPServer "${ref.namespace ?? namespace}/${ref.name}" not found; its tools are not offered`);
          continue;
        }
        const timeout = server.spec.timeout ? parseGoDuration(server.spec.timeout) : undefined;
        servers.push({
          name: server.metadata.name,
          url: server.spec.url,
          protocol: server.spec.protocol ?? 'STREAMABLE_HTTP',
          headers: Object.fromEntries((server.spec.headersFrom ?? []).filter((h) => h.value !== undefined).map((h) => [h.name, h.value!])),
          ...(ref.toolNames ? { toolNames: ref.toolNames } : {}),
          ...(typeof timeout === 'number' ? { timeoutMs: timeout } : {}),
        });
      } else {
        const peerNamespace = tool.agent.namespace ?? namespace;
        const peer = agents.find((a) => a.metadata.namespace === peerNamespace && a.metadata.name === tool.agent.name);
        if (!peer) {
          warnings.push(`${from}: Agent "${peerNamespace}/${tool.agent.name}" not found; the hand-off is not offered`);
          continue;
        }
        peers.push({ name: peer.metadata.name, namespace: peerNamespace, url: agentUrl(peer), description: peer.spec.description ?? '' });
      }
    }
    const config: AgentRuntimeConfig = {
      name,
      namespace,
      description: agent.spec.description ?? '',
      systemMessage: declarative.systemMessage,
      model,
      mcpServers: servers,
      agents: peers,
      skills: (declarative.a2aConfig?.skills ?? []).map((s) => ({ id: s.id, name: s.name, description: s.description ?? '', tags: s.tags ?? [], examples: s.examples ?? [] })),
      maxSteps: DEFAULT_MAX_STEPS,
      url: agentUrl(agent),
    };
    const labels = { app: name, [AGENT_LABEL]: name };
    const waypoint = agent.metadata.labels?.[WAYPOINT_LABEL] === 'true' || guarded.has(agentKey(agent));
    const hostEnv = model.provider === 'scripted' ? [] : [model.apiKeyEnv ?? KEY_VARIABLES[model.provider], BASE_URL_VARIABLES[model.provider]];
    const serviceAccount: ServiceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace, labels: { [MANAGED_BY_LABEL]: 'kagent' } } };
    const deployment: Deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace, labels: { ...labels, [MANAGED_BY_LABEL]: 'kagent' }, annotations: { [GENERATED_FROM_ANNOTATION]: from } },
      spec: {
        replicas: declarative.deployment?.replicas ?? 1,
        selector: { matchLabels: labels },
        template: {
          metadata: {
            labels,
            // The session store is SQLite (a native addon).
            annotations: { [ALLOW_ADDONS_ANNOTATION]: 'true', ...(hostEnv.length > 0 ? { [ENV_FROM_HOST_ANNOTATION]: hostEnv.join(',') } : {}) },
          },
          spec: {
            serviceAccountName: name,
            containers: [
              {
                name: 'agent',
                image: AGENT_IMAGE,
                env: [{ name: 'PORT', value: String(AGENT_PORT) }, { name: AGENT_CONFIG_ENV, value: JSON.stringify(config) }, ...(declarative.deployment?.env ?? [])],
                ports: [{ name: 'http', containerPort: AGENT_PORT }],
                readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 },
              },
            ],
          },
        },
      },
    };
    const service: Service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace, labels: { ...labels, [MANAGED_BY_LABEL]: 'kagent', ...(waypoint ? { [USE_WAYPOINT_LABEL]: waypointName(name) } : {}) } },
      spec: { selector: labels, ports: [{ name: 'a2a', port: AGENT_PORT, targetPort: 'http', appProtocol: 'kgateway.dev/a2a' }] },
    };
    emit(serviceAccount, from);
    emit(deployment, from);
    emit(service, from);
    if (waypoint) {
      const gateway: Gateway = {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'Gateway',
        metadata: { name: waypointName(name), namespace, labels: { 'istio.io/waypoint-for': 'service', [MANAGED_BY_LABEL]: 'kagent', [AGENT_LABEL]: name } },
        spec: {
          gatewayClassName: 'enterprise-agentgateway-waypoint',
          listeners: [
            { name: 'mesh', port: 15008, protocol: 'HBONE' },
            { name: 'http', port: AGENT_PORT, protocol: 'HTTP' },
          ],
        },
      };
      emit(gateway, from);
    }
    if (guarded.has(agentKey(agent))) emit(waypointOnlyPolicy(agent), from);
  }

  for (const policy of policies) {
    const from = `AccessPolicy ${policy.metadata.namespace}/${policy.metadata.name}`;
    const targets = policyTargets(policy);
    if (targets.length === 0) {
      warnings.push(`${from}: no Agent "${policy.spec.targetRef.name}" in ${policy.metadata.namespace}; nothing to enforce yet`);
      continue;
    }
    emit(accessPolicyToGatewayPolicy(policy, targets), from);
  }
  return { resources: out, warnings };
}

/**
 * AccessPolicy at L4: an agent an AccessPolicy guards takes connections from its waypoint only, so calling
 * the pod's address (around the Service, and so around the waypoint's checks) is refused by ztunnel on the
 * caller's certificate, and whatever reaches the agent came through the waypoint (the only party whose
 * forwarded headers, such as x-forwarded-client-cert, the agent can then be sure of). A DENY: it holds
 * whatever ALLOW policies the namespace has (Istio evaluates DENY first).
 */
export function waypointOnlyPolicy(agent: Agent): AuthorizationPolicy {
  const namespace = agent.metadata.namespace!;
  const name = agent.metadata.name;
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: `${name}-only-via-waypoint`, namespace, labels: { [MANAGED_BY_LABEL]: 'kagent' }, annotations: { [GENERATED_FROM_ANNOTATION]: `Agent ${namespace}/${name}` } },
    spec: {
      selector: { matchLabels: { [AGENT_LABEL]: name } },
      action: 'DENY',
      rules: [{ from: [{ source: { notPrincipals: [`cluster.local/ns/${namespace}/sa/${waypointName(name)}`] } }] }],
    },
  };
}

/**
 * The waypoint policy for an AccessPolicy: one CEL expression per subject, OR'd within the rule set (Allow: a
 * caller must match one; Deny: a caller matching one is refused), on the caller's certificate identity.
 */
export function accessPolicyToGatewayPolicy(policy: AccessPolicy, targets: readonly Agent[]): EnterpriseAgentgatewayPolicy {
  const namespace = policy.metadata.namespace!;
  const expressions = policy.spec.from.subjects.map((subject) => subjectExpression(subject, namespace));
  return {
    apiVersion: 'enterpriseagentgateway.solo.io/v1alpha1',
    kind: 'EnterpriseAgentgatewayPolicy',
    metadata: { name: `accesspolicy-${policy.metadata.name}-waypoint`.slice(0, 253), namespace, labels: { [MANAGED_BY_LABEL]: 'kagent' }, annotations: { [GENERATED_FROM_ANNOTATION]: `AccessPolicy ${namespace}/${policy.metadata.name}` } },
    spec: {
      targetRefs: targets.map((agent) => ({ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: waypointName(agent.metadata.name) })),
      traffic: {
        authorization: {
          action: policy.spec.action === 'ALLOW' ? 'Allow' : 'Deny',
          // No subjects: ALLOW admits nobody (a baseline), DENY refuses nobody.
          policy: { matchExpressions: expressions.length > 0 ? expressions : ['false'] },
        },
      },
    },
  };
}

function subjectExpression(subject: AccessPolicySubject, policyNamespace: string): string {
  if (subject.kind === 'UserGroup') {
    // Only meaningful when the waypoint validates a JWT (a jwtAuthentication policy on it): without one there is
    // no `jwt`, the expression errors, and an erroring expression never grants.
    const claim = `jwt[${JSON.stringify(subject.claimName)}]`;
    const value = JSON.stringify(subject.claimValue);
    const issuer = subject.issuer ? `jwt.iss == ${JSON.stringify(subject.issuer)} && ` : '';
    return `${issuer}(type(${claim}) == list ? ${value} in ${claim} : ${claim} == ${value})`;
  }
  // An Agent's identity is its service account, named after it (the controller creates it so).
  const namespace = subject.namespace ?? policyNamespace;
  return `source.identity.namespace == ${JSON.stringify(namespace)} && source.identity.serviceAccount == ${JSON.stringify(subject.name)}`;
}

function resolveModel(modelConfig: ModelConfig, choice: ModelChoice): AgentModelConfig {
  const spec = modelConfig.spec;
  const source = `ModelConfig ${modelConfig.metadata.namespace}/${modelConfig.metadata.name}`;
  const written = spec.provider === 'Anthropic' ? 'anthropic' : spec.provider === 'OpenAI' ? 'openai' : 'scripted';
  if (choice.mode === 'scripted') return { provider: 'scripted', model: 'scripted', source: 'the offline scripted model (--model scripted, the default)' };
  if (choice.mode === 'provider' && choice.provider !== written) {
    return { provider: choice.provider, model: choice.model ?? DEFAULT_MODELS[choice.provider], source: `--model ${choice.provider}` };
  }
  if (written === 'scripted') return { provider: 'scripted', model: 'scripted', source };
  const block = written === 'anthropic' ? spec.anthropic : spec.openAI;
  // The key's variable: the ModelConfig's apiKeySecretKey when it is a name a pod may receive from the host.
  const keyVariable = spec.apiKeySecretKey && isHostEnvName(spec.apiKeySecretKey) ? spec.apiKeySecretKey : KEY_VARIABLES[written];
  return {
    provider: written,
    model: choice.mode === 'provider' && choice.model ? choice.model : spec.model,
    ...(block?.baseUrl ? { baseUrl: block.baseUrl } : {}),
    ...(block?.maxTokens ? { maxTokens: block.maxTokens } : {}),
    apiKeyEnv: keyVariable,
    source: choice.mode === 'provider' ? `${source} (--model ${choice.provider})` : source,
  };
}

export function waypointName(agent: string): string {
  return `${agent}-waypoint`;
}

function agentUrl(agent: Agent): string {
  return `http://${agent.metadata.name}.${agent.metadata.namespace}.svc.cluster.local:${AGENT_PORT}/`;
}

function agentKey(agent: Agent): string {
  return `${agent.metadata.namespace}/${agent.metadata.name}`;
}
