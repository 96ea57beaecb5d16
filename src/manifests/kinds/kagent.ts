// The kagent kinds (kagent.dev/v1alpha2): ModelConfig (which model an agent thinks with), RemoteMCPServer (an MCP
// server reached by URL, usually through the agent gateway) and Agent (a declarative agent: model, system message,
// MCP tools and hand-offs to other agents); and Solo's kagent-enterprise AccessPolicy
// (policy.kagent-enterprise.solo.io/v1alpha1), which says who may call an Agent. The embedded cluster has no
// Secret or ConfigMap store and runs no images of its own, so what needs one (valueFrom, systemMessageFrom, BYO
// agents, in-cluster MCPServers) is refused with what to write instead.
import { z } from 'zod';
import { checkedString, goDuration, kubeObject, nonEmptyString, positiveInt, supportedValue, type Expect, type SameShape } from '../fields.ts';
import { dns1123LabelProblem, dns1123SubdomainProblem, envVarNameProblem } from '../names.ts';
import { OBJECT_BOOKKEEPING, objectMeta } from '../object-meta.ts';
import type { AccessPolicy, Agent, AgentTool, KagentModelProvider, ModelConfig, RemoteMCPServer } from '../types.ts';

export const KAGENT_GROUP = 'kagent.dev';
export const KAGENT_API_VERSION = 'kagent.dev/v1alpha2';
/** ModelConfig and RemoteMCPServer: v1alpha2 preferred, v1alpha1 accepted with the same fields. */
export const KAGENT_API_VERSIONS = [KAGENT_API_VERSION, 'kagent.dev/v1alpha1'] as const;
export const ACCESS_POLICY_API_VERSION = 'policy.kagent-enterprise.solo.io/v1alpha1';

/** Whose fields the unsupported ones are, for "is a … field TrustUsBank does not support yet". */
const UPSTREAM = 'kagent';
const ENTERPRISE_UPSTREAM = 'Solo kagent-enterprise';

/** The namespace a namespaced object without one lands in (validate.ts's DEFAULT_NAMESPACE; importing it here
 *  would be an import cycle through the registry). */
const DEFAULT_NAMESPACE = 'default';

const NO_STORE = 'this cluster has no Secret/ConfigMap store';

/**
 * supportedValue, with advice appended for some refused values (what to write instead). The advice is checked
 * first; a value without advice gets supportedValue's own message.
 */
function advisedValue<const Values extends readonly [string, ...string[]]>(
  supported: Values,
  options: { what: string; unsupported: readonly string[]; upstream: string },
  advice: Readonly<Record<string, string>>,
) {
  const schema = supportedValue(supported, options);
  return z
    .unknown()
    .superRefine((value, ctx) => {
      if (typeof value !== 'string' || !Object.hasOwn(advice, value)) return;
      const parsed = schema.safeParse(value);
      if (!parsed.success) ctx.addIssue({ code: 'custom', message: `${parsed.error.issues[0]!.message}; ${advice[value]}` });
    })
    .pipe(schema);
}

function httpUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute http:// or https:// URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be an http:// or https:// URL (not ${url.protocol}//)`;
  if (url.hostname === '') return 'must name a host';
  return undefined;
}

const httpUrl = checkedString(httpUrlProblem, 'URL');

/** An HTTP header name is an RFC 9110 token: letters, digits and !#$%&'*+-.^_`|~. */
function headerNameProblem(value: string): string | undefined {
  if (value.length > 256) return 'must be at most 256 characters';
  if (!/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/.test(value)) return "must be an HTTP token: letters, digits and !#$%&'*+-.^_`|~ (e.g. \"x-tenant\")";
  return undefined;
}

/** A key in a Secret's or ConfigMap's data, as Kubernetes requires it. */
function dataKeyProblem(value: string): string | undefined {
  if (value.length > 253) return 'must be at most 253 characters';
  if (!/^[-._a-zA-Z0-9]+$/.test(value)) return "must be letters, digits, '-', '_' and '.' (e.g. \"ANTHROPIC_API_KEY\")";
  return undefined;
}

const objectName = checkedString(dns1123SubdomainProblem, 'name');
const namespaceName = checkedString(dns1123LabelProblem, 'namespace');

/** Reports every entry of `list` whose key an earlier entry already had, at `pathOf(i)`. */
function refuseDuplicates<T>(list: readonly T[] | undefined, keyOf: (entry: T) => string | undefined, pathOf: (i: number) => (string | number)[], messageOf: (first: number, entry: T) => string, ctx: z.RefinementCtx): void {
  const seen = new Map<string, number>();
  list?.forEach((entry, i) => {
    const key = keyOf(entry);
    if (key === undefined) return;
    const first = seen.get(key);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: pathOf(i), message: messageOf(first, entry) });
    else seen.set(key, i);
  });
}

// --- ModelConfig -----------------------------------------------------------------------------------------

const PROVIDERS = ['Anthropic', 'OpenAI', 'Scripted'] as const satisfies readonly KagentModelProvider[];
type _ProvidersCoverTheType = Expect<SameShape<(typeof PROVIDERS)[number], KagentModelProvider>>;

const provider = advisedValue(
  PROVIDERS,
  { what: 'model provider', unsupported: ['AzureOpenAI', 'Ollama', 'Gemini', 'GeminiVertexAI', 'AnthropicVertexAI', 'Bedrock', 'SAPAICore', 'Foundry'], upstream: UPSTREAM },
  { Ollama: 'Ollama speaks the OpenAI API: use provider OpenAI with openAI.baseUrl set to its /v1 URL (e.g. "http://ollama:11434/v1")' },
);

/** kagent writes temperatures as strings ("0.3"); a YAML number is accepted too. Either must be a number in range. */
function temperature(max: number) {
  return z.union([z.string(), z.number()], { error: 'expected a number such as 0.2 (or a string holding one, as kagent writes it: "0.2")' }).superRefine((value, ctx) => {
    const number = typeof value === 'number' ? value : value.trim() === '' ? Number.NaN : Number(value);
    if (!Number.isFinite(number)) ctx.addIssue({ code: 'custom', message: `invalid temperature ${JSON.stringify(value)}: must be a number such as "0.2"` });
    else if (number < 0 || number > max) ctx.addIssue({ code: 'custom', message: `must be from 0 to ${max} (got ${value})` });
  });
}

function providerConfig(maxTemperature: number, unsupported: readonly string[]) {
  return kubeObject({ baseUrl: httpUrl.optional(), maxTokens: positiveInt.optional(), temperature: temperature(maxTemperature).optional() }, { unsupported, upstream: UPSTREAM });
}

const MODEL_CONFIG_UNSUPPORTED = ['apiKeyPassthrough', 'defaultHeaders', 'azureOpenAI', 'ollama', 'gemini', 'geminiVertexAI', 'anthropicVertexAI', 'bedrock', 'sapAICore', 'foundry', 'tls'];

const modelConfigSpec = kubeObject(
  {
    provider,
    model: nonEmptyString,
    apiKeySecret: checkedString(dns1123SubdomainProblem, 'Secret name').optional(),
    apiKeySecretKey: checkedString(dataKeyProblem, 'Secret key').optional(),
    anthropic: providerConfig(1, ['topP', 'topK']).optional(),
    openAI: providerConfig(2, ['organization', 'topP', 'frequencyPenalty', 'presencePenalty', 'seed', 'n', 'timeout', 'reasoningEffort', 'tokenExchange']).optional(),
  },
  { unsupported: MODEL_CONFIG_UNSUPPORTED, upstream: UPSTREAM },
).superRefine((spec, ctx) => {
  // As kagent's CRD: a provider's block only with that provider, and the key's Secret and key name together.
  if (spec.anthropic !== undefined && spec.provider !== 'Anthropic') ctx.addIssue({ code: 'custom', path: ['anthropic'], message: `is only allowed with provider Anthropic (provider is ${spec.provider})` });
  if (spec.openAI !== undefined && spec.provider !== 'OpenAI') ctx.addIssue({ code: 'custom', path: ['openAI'], message: `is only allowed with provider OpenAI (provider is ${spec.provider})` });
  if (spec.apiKeySecretKey !== undefined && spec.apiKeySecret === undefined) ctx.addIssue({ code: 'custom', path: ['apiKeySecret'], message: 'is required with apiKeySecretKey' });
  if (spec.apiKeySecret !== undefined && spec.apiKeySecretKey === undefined) ctx.addIssue({ code: 'custom', path: ['apiKeySecretKey'], message: 'is required with apiKeySecret (the key that holds the API key)' });
});

export const modelConfigSchema = kubeObject(
  { apiVersion: z.enum(KAGENT_API_VERSIONS), kind: z.literal('ModelConfig'), metadata: objectMeta(dns1123SubdomainProblem), spec: modelConfigSpec },
  { bookkeeping: OBJECT_BOOKKEEPING },
);

type _ModelConfigSchemaMatchesType = Expect<SameShape<z.output<typeof modelConfigSchema>, ModelConfig>>;

// --- RemoteMCPServer -------------------------------------------------------------------------------------

const valueSource = kubeObject({
  type: supportedValue(['Secret', 'ConfigMap'], { what: 'value source type' }),
  name: objectName,
  key: checkedString(dataKeyProblem, 'key'),
});

/** kagent's valueFrom, typed as kagent has it but always refused: there is nothing here to read it from. */
const valueFrom = z
  .unknown()
  .superRefine((_value, ctx) => {
    ctx.addIssue({ code: 'custom', message: `cannot be resolved: ${NO_STORE}; give the header's value inline with \`value\`` });
  })
  .pipe(valueSource);

const headerValueRef = kubeObject({
  name: checkedString(headerNameProblem, 'header name'),
  value: z.string().optional(),
  valueFrom: valueFrom.optional(),
}).superRefine((header, ctx) => {
  // kagent needs exactly one of value and valueFrom; valueFrom never gets this far, so only a missing value can.
  if (header.value === undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: `is required: give the header's value inline (valueFrom is not available: ${NO_STORE})` });
});

const remoteMcpServerSpec = kubeObject(
  {
    description: z.string().optional(),
    protocol: supportedValue(['STREAMABLE_HTTP', 'SSE'], { what: 'MCP protocol' }).optional(),
    url: httpUrl,
    headersFrom: z.array(headerValueRef).optional(),
    timeout: goDuration.optional(),
    sseReadTimeout: goDuration.optional(),
    terminateOnClose: z.boolean().optional(),
  },
  { unsupported: ['allowedNamespaces'], upstream: UPSTREAM },
).superRefine((spec, ctx) => {
  // Header names are case-insensitive: two entries for one header would leave which one is sent to chance.
  refuseDuplicates(
    spec.headersFrom,
    (header) => header.name.toLowerCase(),
    (i) => ['headersFrom', i, 'name'],
    (first) => `duplicates the header of headersFrom[${first}]`,
    ctx,
  );
});

export const remoteMcpServerSchema = kubeObject(
  { apiVersion: z.enum(KAGENT_API_VERSIONS), kind: z.literal('RemoteMCPServer'), metadata: objectMeta(dns1123SubdomainProblem), spec: remoteMcpServerSpec },
  { bookkeeping: OBJECT_BOOKKEEPING },
);

type _RemoteMCPServerSchemaMatchesType = Expect<SameShape<z.output<typeof remoteMcpServerSchema>, RemoteMCPServer>>;

// --- Agent -----------------------------------------------------------------------------------------------

const mcpServerToolReference = kubeObject(
  {
    apiGroup: z.string().optional(),
    kind: advisedValue(
      ['RemoteMCPServer'],
      { what: 'MCP server kind', unsupported: ['MCPServer', 'Service'], upstream: UPSTREAM },
      { MCPServer: "in-cluster MCPServer is not supported; declare a RemoteMCPServer with the server's URL and name it here" },
    ).optional(),
    name: objectName,
    namespace: namespaceName.optional(),
    toolNames: z.array(nonEmptyString).min(1, { error: 'must not be empty (leave it out to offer every tool the server lists)' }).optional(),
  },
  { unsupported: ['allowedHeaders'], upstream: UPSTREAM },
).superRefine((ref, ctx) => {
  if (ref.apiGroup !== undefined && ref.apiGroup !== KAGENT_GROUP) ctx.addIssue({ code: 'custom', path: ['apiGroup'], message: `must be "${KAGENT_GROUP}" (or left out) for kind RemoteMCPServer (got "${ref.apiGroup}")` });
  refuseDuplicates(
    ref.toolNames,
    (name) => name,
    (i) => ['toolNames', i],
    (first, name) => `duplicates "${name}" of toolNames[${first}]`,
    ctx,
  );
});

const agentReference = kubeObject({ name: objectName, namespace: namespaceName.optional() });

const TOOL_TYPES = ['McpServer', 'Agent'] as const;

/** Each tool type's block, and what the other block is for when it is given instead. */
const TOOL_BLOCKS = {
  McpServer: { block: 'mcpServer', other: 'agent', otherUse: 'a hand-off to another agent is a tool of its own, with type: Agent' },
  Agent: { block: 'agent', other: 'mcpServer', otherUse: "an MCP server's tools are a tool of their own, with type: McpServer" },
} as const;

const agentTool = kubeObject(
  {
    type: supportedValue(TOOL_TYPES, { what: 'tool type' }),
    mcpServer: mcpServerToolReference.optional(),
    agent: agentReference.optional(),
  },
  { unsupported: ['headersFrom'], upstream: UPSTREAM, hints: { headersFrom: `${NO_STORE}; set headers on the RemoteMCPServer with value` } },
)
  .superRefine((tool, ctx) => {
    const { block, other, otherUse } = TOOL_BLOCKS[tool.type];
    if (tool[block] === undefined) ctx.addIssue({ code: 'custom', path: [block], message: `is required for a tool of type ${tool.type}` });
    if (tool[other] !== undefined) ctx.addIssue({ code: 'custom', path: [other], message: `must not be set for a tool of type ${tool.type} (${otherUse})` });
  })
  .transform((tool): AgentTool => (tool.type === 'McpServer' ? { type: 'McpServer', mcpServer: tool.mcpServer! } : { type: 'Agent', agent: tool.agent! }));

const agentSkill = kubeObject({
  id: nonEmptyString,
  name: nonEmptyString,
  description: z.string().optional(),
  tags: z.array(nonEmptyString).optional(),
  examples: z.array(nonEmptyString).optional(),
  inputModes: z.array(nonEmptyString).optional(),
  outputModes: z.array(nonEmptyString).optional(),
});

const a2aConfig = kubeObject({
  skills: z.array(agentSkill).min(1, { error: 'must not be empty (leave it out for an agent card without skills)' }).optional(),
}).superRefine((config, ctx) => {
  refuseDuplicates(
    config.skills,
    (skill) => skill.id,
    (i) => ['skills', i, 'id'],
    (first) => `duplicates the id of skills[${first}]`,
    ctx,
  );
});

const agentEnvVar = kubeObject(
  { name: checkedString(envVarNameProblem, 'environment variable name'), value: z.string().optional() },
  { unsupported: ['valueFrom'], hints: { valueFrom: `${NO_STORE}; give the variable a literal value` } },
);

const DEPLOYMENT_UNSUPPORTED = [
  'imageRegistry',
  'imagePullSecrets',
  'volumes',
  'volumeMounts',
  'labels',
  'annotations',
  'imagePullPolicy',
  'resources',
  'tolerations',
  'affinity',
  'nodeSelector',
  'securityContext',
  'podSecurityContext',
  'serviceAccountName',
  'serviceAccountConfig',
];

const agentDeployment = kubeObject({ replicas: positiveInt.optional(), env: z.array(agentEnvVar).optional() }, { unsupported: DEPLOYMENT_UNSUPPORTED, upstream: UPSTREAM });

const declarativeAgent = kubeObject(
  {
    modelConfig: checkedString(dns1123SubdomainProblem, 'ModelConfig name'),
    systemMessage: z.string().refine((message) => message.trim() !== '', { error: 'must not be empty' }),
    tools: z.array(agentTool).max(20, { error: "must have at most 20 entries (kagent's limit)" }).optional(),
    a2aConfig: a2aConfig.optional(),
    stream: z.boolean().optional(),
    deployment: agentDeployment.optional(),
  },
  { unsupported: ['systemMessageFrom', 'executeCodeBlocks'], upstream: UPSTREAM, hints: { systemMessageFrom: `${NO_STORE}; write the message inline in systemMessage` } },
);

const agentSpec = kubeObject(
  {
    type: advisedValue(['Declarative'], { what: 'agent type', unsupported: ['BYO'], upstream: UPSTREAM }, { BYO: 'bring-your-own agent images are not supported: declare the agent with type Declarative' }).optional(),
    description: z.string().optional(),
    declarative: declarativeAgent.optional(),
  },
  { unsupported: ['byo', 'skills', 'allowedNamespaces'], upstream: UPSTREAM, hints: { byo: 'bring-your-own agent images are not supported: declare the agent with type Declarative' } },
)
  .superRefine((spec, ctx) => {
    // Declarative is the only type, so its block is always required; checked here so a BYO agent hears about its
    // type, not about a block it was never meant to have.
    if (spec.declarative === undefined) ctx.addIssue({ code: 'custom', path: ['declarative'], message: 'is required for a Declarative agent (the default type)' });
  })
  .transform((spec) => ({ ...spec, declarative: spec.declarative! }));

export const agentSchema = kubeObject(
  { apiVersion: z.literal(KAGENT_API_VERSION), kind: z.literal('Agent'), metadata: objectMeta(dns1123SubdomainProblem), spec: agentSpec },
  { bookkeeping: OBJECT_BOOKKEEPING },
).superRefine((agent, ctx) => {
  // References resolve against the Agent's namespace, so these checks need the metadata as well as the spec.
  const namespace = agent.metadata.namespace ?? DEFAULT_NAMESPACE;
  const tools = agent.spec.declarative.tools;
  const toolPath = (i: number, tool: AgentTool) => ['spec', 'declarative', 'tools', i, tool.type === 'McpServer' ? 'mcpServer' : 'agent', 'name'];
  const targetOf = (tool: AgentTool) => (tool.type === 'McpServer' ? `RemoteMCPServer ${tool.mcpServer.namespace ?? namespace}/${tool.mcpServer.name}` : `Agent ${tool.agent.namespace ?? namespace}/${tool.agent.name}`);
  tools?.forEach((tool, i) => {
    if (tool.type === 'Agent' && tool.agent.name === agent.metadata.name && (tool.agent.namespace ?? namespace) === namespace) {
      ctx.addIssue({ code: 'custom', path: toolPath(i, tool), message: 'names this Agent: an agent cannot hand off to itself' });
    }
  });
  refuseDuplicates(
    tools,
    targetOf,
    (i) => toolPath(i, tools![i]!),
    (first, tool) =>
      tool.type === 'McpServer' ? `duplicates tools[${first}] (${targetOf(tool)}): list all of the server's toolNames in one entry` : `duplicates tools[${first}] (${targetOf(tool)}): hand off to an agent once`,
    ctx,
  );
});

type _AgentSchemaMatchesType = Expect<SameShape<z.output<typeof agentSchema>, Agent>>;

// --- AccessPolicy ----------------------------------------------------------------------------------------

const accessPolicySubject = kubeObject({
  kind: supportedValue(['Agent', 'ServiceAccount', 'UserGroup'], { what: 'subject kind' }),
  name: objectName.optional(),
  namespace: namespaceName.optional(),
  issuer: nonEmptyString.optional(),
  claimName: nonEmptyString.optional(),
  claimValue: nonEmptyString.optional(),
}).superRefine((subject, ctx) => {
  if (subject.kind === 'UserGroup') {
    // A group is the users whose token carries the claim; a name would identify nothing, so it is ignored.
    for (const field of ['claimName', 'claimValue'] as const) {
      if (subject[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: 'is required for a UserGroup subject (the users whose token carries claimName with claimValue)' });
    }
  } else if (subject.name === undefined) {
    ctx.addIssue({ code: 'custom', path: ['name'], message: `is required for a${subject.kind === 'Agent' ? 'n' : ''} ${subject.kind} subject` });
  }
});

const GATEWAY_ADVICE = "per-tool access is governed at the agent gateway instead: write an AgentgatewayPolicy (or EnterpriseAgentgatewayPolicy) for the MCP server's route";

/** An Agent name, or "*" for every Agent in the policy's namespace. */
function targetNameProblem(value: string): string | undefined {
  return value === '*' ? undefined : dns1123SubdomainProblem(value);
}

const accessPolicyTargetRef = kubeObject({
  kind: advisedValue(['Agent'], { what: 'AccessPolicy target kind', unsupported: ['MCPServer', 'RemoteMCPServer'], upstream: ENTERPRISE_UPSTREAM }, { MCPServer: GATEWAY_ADVICE, RemoteMCPServer: GATEWAY_ADVICE }),
  name: checkedString(targetNameProblem, 'Agent name'),
  tools: z.array(nonEmptyString).optional(),
}).superRefine((ref, ctx) => {
  if (ref.tools !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['tools'], message: `is only for MCP server targets: an ${ref.kind} target is allowed or denied as a whole (${GATEWAY_ADVICE})` });
  }
});

const accessPolicySpec = kubeObject({
  action: supportedValue(['ALLOW', 'DENY'], { what: 'action' }),
  // May be empty: no subjects (with name "*", say) is an allow-none / deny-nothing baseline.
  from: kubeObject({ subjects: z.array(accessPolicySubject) }),
  targetRef: accessPolicyTargetRef,
});

export const accessPolicySchema = kubeObject(
  { apiVersion: z.literal(ACCESS_POLICY_API_VERSION), kind: z.literal('AccessPolicy'), metadata: objectMeta(dns1123SubdomainProblem), spec: accessPolicySpec },
  { bookkeeping: OBJECT_BOOKKEEPING },
);

type _AccessPolicySchemaMatchesType = Expect<SameShape<z.output<typeof accessPolicySchema>, AccessPolicy>>;
