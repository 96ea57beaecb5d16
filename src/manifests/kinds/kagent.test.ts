import { describe, expect, it } from 'vitest';
import { parseManifests } from '../load.ts';
import { kindByName } from '../registry.ts';
import { problemLines, type YamlObject } from '../testdata/support.ts';
import type { AccessPolicy, Agent, ModelConfig, RemoteMCPServer } from '../types.ts';
import { toYaml } from '../yaml-source.ts';

const UNSUPPORTED = 'is a kagent field TrustUsBank does not support yet';
const NO_STORE = 'this cluster has no Secret/ConfigMap store';

const MODEL_CONFIG = [
  'apiVersion: kagent.dev/v1alpha2',
  'kind: ModelConfig',
  'metadata:',
  '  name: anthropic-haiku',
  '  namespace: trustusbank-bank-agents',
  'spec:',
  '  provider: Anthropic',
  '  model: claude-3-5-haiku-20241022',
  '  apiKeySecret: kagent-anthropic',
  '  apiKeySecretKey: ANTHROPIC_API_KEY',
  '',
].join('\n');

const REMOTE_MCP_SERVER = [
  'apiVersion: kagent.dev/v1alpha2',
  'kind: RemoteMCPServer',
  'metadata:',
  '  name: account-mcp',
  '  namespace: trustusbank-bank-agents',
  'spec:',
  '  description: Account balances and customer profiles, through the agent gateway',
  '  protocol: STREAMABLE_HTTP',
  '  url: http://trustusbank-agentgw.trustusbank-platform.svc.cluster.local:8080/mcp/account',
  '',
].join('\n');

const AGENT = [
  'apiVersion: kagent.dev/v1alpha2',
  'kind: Agent',
  'metadata:',
  '  name: support-bot',
  '  namespace: trustusbank-bank-agents',
  'spec:',
  '  type: Declarative',
  "  description: Answers TrustUsBank customers' questions about their accounts",
  '  declarative:',
  '    modelConfig: anthropic-haiku',
  '    systemMessage: |',
  "      You are TrustUsBank's support assistant. Use the tools to look up the customer's accounts;",
  '      hand anything that looks like fraud to fraud-bot.',
  '    tools:',
  '      - type: McpServer',
  '        mcpServer:',
  '          apiGroup: kagent.dev',
  '          kind: RemoteMCPServer',
  '          name: account-mcp',
  '          toolNames: [get_balance, get_profile]',
  '      - type: McpServer',
  '        mcpServer:',
  '          kind: RemoteMCPServer',
  '          name: transaction-mcp',
  '          toolNames: [list_recent]',
  '      - type: McpServer',
  '        mcpServer:',
  '          name: currency-converter',
  '          toolNames: [convert_currency]',
  '      - type: Agent',
  '        agent:',
  '          name: fraud-bot',
  '    a2aConfig:',
  '      skills:',
  '        - id: account-support',
  '          name: Account support',
  '          description: Balances, profiles and recent transactions',
  '          tags: [banking, support]',
  '          examples: ["What is my balance?"]',
  '',
].join('\n');

const ACCESS_POLICY = [
  'apiVersion: policy.kagent-enterprise.solo.io/v1alpha1',
  'kind: AccessPolicy',
  'metadata:',
  '  name: support-bot-callers',
  '  namespace: trustusbank-bank-agents',
  'spec:',
  '  action: ALLOW',
  '  from:',
  '    subjects:',
  '      - kind: Agent',
  '        name: triage-bot',
  '      - kind: ServiceAccount',
  '        name: chatbot',
  '        namespace: trustusbank-bank-frontend',
  '  targetRef:',
  '    kind: Agent',
  '    name: support-bot',
  '',
].join('\n');

/** `text`'s one document, parsed as the loader would, changed by `edit`, and written back as YAML. */
function edited(text: string, edit: (document: YamlObject) => void): string {
  const [loaded] = parseManifests(text, 'base.yaml');
  const document = structuredClone(loaded!.resource) as YamlObject;
  edit(document);
  return toYaml(document);
}

function loadedOne(text: string) {
  const loaded = parseManifests(text, 'x.yaml');
  expect(loaded).toHaveLength(1);
  return loaded[0]!.resource;
}

describe('ModelConfig', () => {
  const SUBJECT = 'deploy/x.yaml: document 0 (ModelConfig trustusbank-bank-agents/anthropic-haiku)';
  const file = (edit: (m: YamlObject) => void) => edited(MODEL_CONFIG, edit);

  it('loads anthropic-haiku: Claude 3.5 Haiku, its API key named by Secret and key', () => {
    expect(loadedOne(MODEL_CONFIG)).toEqual<ModelConfig>({
      apiVersion: 'kagent.dev/v1alpha2',
      kind: 'ModelConfig',
      metadata: { name: 'anthropic-haiku', namespace: 'trustusbank-bank-agents' },
      spec: { provider: 'Anthropic', model: 'claude-3-5-haiku-20241022', apiKeySecret: 'kagent-anthropic', apiKeySecretKey: 'ANTHROPIC_API_KEY' },
    });
  });

  it('accepts provider settings, an OpenAI-compatible server (Ollama), the Scripted model and v1alpha1, adding no defaults', () => {
    const anthropic = { baseUrl: 'https://api.anthropic.com', maxTokens: 1024, temperature: '0.3' };
    expect((loadedOne(file((m) => (m.spec.anthropic = anthropic))) as ModelConfig).spec.anthropic).toEqual(anthropic);

    const ollama = { provider: 'OpenAI', model: 'llama3.2', openAI: { baseUrl: 'http://ollama.ollama.svc.cluster.local:11434/v1', temperature: 0.2, maxTokens: 512 } };
    expect((loadedOne(file((m) => (m.spec = ollama))) as ModelConfig).spec).toEqual(ollama);

    const scripted = loadedOne(file((m) => ((m.apiVersion = 'kagent.dev/v1alpha1'), (m.spec = { provider: 'Scripted', model: 'scripted' }))));
    expect(scripted).toMatchObject({ apiVersion: 'kagent.dev/v1alpha1', spec: { provider: 'Scripted', model: 'scripted' } });
    expect(Object.keys((scripted as ModelConfig).spec)).toEqual(['provider', 'model']);
  });

  it.each<[string, (m: YamlObject) => void, string]>([
    ['no provider (kagent would default to OpenAI; here it is said)', (m) => delete m.spec.provider, 'spec.provider: is required'],
    [
      'provider Ollama, pointing at the OpenAI provider',
      (m) => (m.spec.provider = 'Ollama'),
      'spec.provider: Ollama is a kagent model provider TrustUsBank does not support yet (supported: Anthropic, OpenAI, Scripted); Ollama speaks the OpenAI API: use provider OpenAI with openAI.baseUrl set to its /v1 URL (e.g. "http://ollama:11434/v1")',
    ],
    ['provider AzureOpenAI', (m) => (m.spec.provider = 'AzureOpenAI'), 'spec.provider: AzureOpenAI is a kagent model provider TrustUsBank does not support yet (supported: Anthropic, OpenAI, Scripted)'],
    ['provider Gemini', (m) => (m.spec.provider = 'Gemini'), 'spec.provider: Gemini is a kagent model provider TrustUsBank does not support yet (supported: Anthropic, OpenAI, Scripted)'],
    ['provider GeminiVertexAI', (m) => (m.spec.provider = 'GeminiVertexAI'), 'spec.provider: GeminiVertexAI is a kagent model provider TrustUsBank does not support yet (supported: Anthropic, OpenAI, Scripted)'],
    ['provider AnthropicVertexAI', (m) => (m.spec.provider = 'AnthropicVertexAI'), 'spec.provider: AnthropicVertexAI is a kagent model provider TrustUsBank does not support yet (supported: Anthropic, OpenAI, Scripted)'],
    ['a provider that does not exist', (m) => (m.spec.provider = 'anthropic'), 'spec.provider: must be one of Anthropic, OpenAI, Scripted (got "anthropic")'],
    ['no model', (m) => delete m.spec.model, 'spec.model: is required'],
    ['an empty model', (m) => (m.spec.model = ''), 'spec.model: must not be empty'],
    ['an anthropic block with provider OpenAI', (m) => ((m.spec.provider = 'OpenAI'), (m.spec.anthropic = { maxTokens: 256 })), 'spec.anthropic: is only allowed with provider Anthropic (provider is OpenAI)'],
    ['an openAI block with provider Anthropic', (m) => (m.spec.openAI = { baseUrl: 'http://ollama:11434/v1' }), 'spec.openAI: is only allowed with provider OpenAI (provider is Anthropic)'],
    ['an openAI block with provider Scripted', (m) => ((m.spec.provider = 'Scripted'), (m.spec.openAI = { maxTokens: 256 })), 'spec.openAI: is only allowed with provider OpenAI (provider is Scripted)'],
    ['a base URL without a scheme', (m) => (m.spec.anthropic = { baseUrl: 'api.anthropic.com' }), 'spec.anthropic.baseUrl: invalid URL "api.anthropic.com": must be an absolute http:// or https:// URL'],
    ['a base URL over another scheme', (m) => (m.spec.anthropic = { baseUrl: 'ftp://api.anthropic.com' }), 'spec.anthropic.baseUrl: invalid URL "ftp://api.anthropic.com": must be an http:// or https:// URL (not ftp://)'],
    ['0 max tokens', (m) => (m.spec.anthropic = { maxTokens: 0 }), 'spec.anthropic.maxTokens: must be 1 or more'],
    ['fractional max tokens', (m) => (m.spec.anthropic = { maxTokens: 1.5 }), 'spec.anthropic.maxTokens: expected an integer, got the fraction 1.5'],
    ['a temperature that is not a number', (m) => (m.spec.anthropic = { temperature: 'warm' }), 'spec.anthropic.temperature: invalid temperature "warm": must be a number such as "0.2"'],
    ['an Anthropic temperature above 1', (m) => (m.spec.anthropic = { temperature: '1.5' }), 'spec.anthropic.temperature: must be from 0 to 1 (got 1.5)'],
    ['an OpenAI temperature above 2', (m) => ((m.spec.provider = 'OpenAI'), (m.spec.openAI = { temperature: 2.5 })), 'spec.openAI.temperature: must be from 0 to 2 (got 2.5)'],
    ['a boolean temperature', (m) => (m.spec.anthropic = { temperature: true }), 'spec.anthropic.temperature: expected a number such as 0.2 (or a string holding one, as kagent writes it: "0.2")'],
    ['a Secret key without a Secret', (m) => delete m.spec.apiKeySecret, 'spec.apiKeySecret: is required with apiKeySecretKey'],
    ['a Secret without a key', (m) => delete m.spec.apiKeySecretKey, 'spec.apiKeySecretKey: is required with apiKeySecret (the key that holds the API key)'],
    [
      'a Secret name that is not a DNS subdomain',
      (m) => (m.spec.apiKeySecret = 'Kagent_Anthropic'),
      `spec.apiKeySecret: invalid Secret name "Kagent_Anthropic": must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit (e.g. "account-mcp")`,
    ],
    ['a Secret key with a space', (m) => (m.spec.apiKeySecretKey = 'API KEY'), `spec.apiKeySecretKey: invalid Secret key "API KEY": must be letters, digits, '-', '_' and '.' (e.g. "ANTHROPIC_API_KEY")`],
    ['top-p sampling', (m) => (m.spec.anthropic = { topP: '0.9' }), `spec.anthropic.topP: ${UNSUPPORTED}`],
    ['an OpenAI organization', (m) => ((m.spec.provider = 'OpenAI'), (m.spec.openAI = { organization: 'org-1' })), `spec.openAI.organization: ${UNSUPPORTED}`],
    ['TLS settings', (m) => (m.spec.tls = { disableVerify: true }), `spec.tls: ${UNSUPPORTED}`],
    ['default headers', (m) => (m.spec.defaultHeaders = { 'x-tenant': 'bank' }), `spec.defaultHeaders: ${UNSUPPORTED}`],
    ['API key passthrough', (m) => (m.spec.apiKeyPassthrough = true), `spec.apiKeyPassthrough: ${UNSUPPORTED}`],
    ['a misspelt field', (m) => (m.spec.anthropic = { maxToken: 256 }), 'spec.anthropic.maxToken: is not a field of ModelConfig (did you mean "maxTokens"?)'],
    ['a v1alpha3 apiVersion', (m) => (m.apiVersion = 'kagent.dev/v1alpha3'), 'apiVersion: kagent.dev/v1alpha3 is not a supported apiVersion for ModelConfig (supported: kagent.dev/v1alpha2, kagent.dev/v1alpha1)'],
  ])('refuses %s', (_description, edit, expected) => {
    expect(problemLines(file(edit))).toEqual([`${SUBJECT}: ${expected}`]);
  });

  it('refuses the block of an unsupported provider with the provider', () => {
    expect(problemLines(file((m) => ((m.spec.provider = 'Ollama'), (m.spec.ollama = { host: 'http://ollama:11434' }))))).toEqual([
      `${SUBJECT}: spec.provider: Ollama is a kagent model provider TrustUsBank does not support yet (supported: Anthropic, OpenAI, Scripted); Ollama speaks the OpenAI API: use provider OpenAI with openAI.baseUrl set to its /v1 URL (e.g. "http://ollama:11434/v1")`,
      `${SUBJECT}: spec.ollama: ${UNSUPPORTED}`,
    ]);
  });
});

describe('RemoteMCPServer', () => {
  const SUBJECT = 'deploy/x.yaml: document 0 (RemoteMCPServer trustusbank-bank-agents/account-mcp)';
  const file = (edit: (s: YamlObject) => void) => edited(REMOTE_MCP_SERVER, edit);

  it('loads account-mcp: Streamable HTTP through the agent gateway', () => {
    expect(loadedOne(REMOTE_MCP_SERVER)).toEqual<RemoteMCPServer>({
      apiVersion: 'kagent.dev/v1alpha2',
      kind: 'RemoteMCPServer',
      metadata: { name: 'account-mcp', namespace: 'trustusbank-bank-agents' },
      spec: {
        description: 'Account balances and customer profiles, through the agent gateway',
        protocol: 'STREAMABLE_HTTP',
        url: 'http://trustusbank-agentgw.trustusbank-platform.svc.cluster.local:8080/mcp/account',
      },
    });
  });

  it('leaves the protocol out when it is left out (readers default it to STREAMABLE_HTTP)', () => {
    const spec = (loadedOne(file((s) => delete s.spec.protocol)) as RemoteMCPServer).spec;
    expect(spec.protocol).toBeUndefined();
    expect(Object.keys(spec)).toEqual(['description', 'url']);
  });

  it('accepts SSE, inline headers, timeouts, terminateOnClose and v1alpha1', () => {
    const spec = {
      protocol: 'SSE',
      url: 'https://mcp.trustusbank.local/sse',
      headersFrom: [
        { name: 'x-tenant', value: 'trustusbank' },
        { name: 'Authorization', value: '' },
      ],
      timeout: '30s',
      sseReadTimeout: '5m',
      terminateOnClose: false,
    };
    const server = loadedOne(file((s) => ((s.apiVersion = 'kagent.dev/v1alpha1'), (s.spec = spec))));
    expect(server).toMatchObject({ apiVersion: 'kagent.dev/v1alpha1', spec });
  });

  it.each<[string, (s: YamlObject) => void, string]>([
    ['no url', (s) => delete s.spec.url, 'spec.url: is required'],
    ['a url without a scheme', (s) => (s.spec.url = 'account-mcp:8000/mcp'), 'spec.url: invalid URL "account-mcp:8000/mcp": must be an http:// or https:// URL (not account-mcp://)'],
    ['a relative url', (s) => (s.spec.url = '/mcp/account'), 'spec.url: invalid URL "/mcp/account": must be an absolute http:// or https:// URL'],
    ['a WebSocket url', (s) => (s.spec.url = 'ws://account-mcp:8000/mcp'), 'spec.url: invalid URL "ws://account-mcp:8000/mcp": must be an http:// or https:// URL (not ws://)'],
    ['the agentgateway spelling of the protocol', (s) => (s.spec.protocol = 'StreamableHTTP'), 'spec.protocol: must be one of STREAMABLE_HTTP, SSE (got "StreamableHTTP")'],
    ['a header without a name', (s) => (s.spec.headersFrom = [{ value: 'trustusbank' }]), 'spec.headersFrom[0].name: is required'],
    [
      'a header name with a space',
      (s) => (s.spec.headersFrom = [{ name: 'x tenant', value: 'trustusbank' }]),
      `spec.headersFrom[0].name: invalid header name "x tenant": must be an HTTP token: letters, digits and !#$%&'*+-.^_\`|~ (e.g. "x-tenant")`,
    ],
    [
      'a header value from a Secret',
      (s) => (s.spec.headersFrom = [{ name: 'Authorization', valueFrom: { type: 'Secret', name: 'account-mcp-token', key: 'token' } }]),
      `spec.headersFrom[0].valueFrom: cannot be resolved: ${NO_STORE}; give the header's value inline with \`value\``,
    ],
    [
      'a header value from a ConfigMap as well as inline',
      (s) => (s.spec.headersFrom = [{ name: 'x-tenant', value: 'trustusbank', valueFrom: { type: 'ConfigMap', name: 'tenant', key: 'id' } }]),
      `spec.headersFrom[0].valueFrom: cannot be resolved: ${NO_STORE}; give the header's value inline with \`value\``,
    ],
    ['a header without a value', (s) => (s.spec.headersFrom = [{ name: 'x-tenant' }]), `spec.headersFrom[0].value: is required: give the header's value inline (valueFrom is not available: ${NO_STORE})`],
    [
      'one header twice, in two spellings',
      (s) => (s.spec.headersFrom = [{ name: 'X-Tenant', value: 'a' }, { name: 'x-tenant', value: 'b' }]),
      'spec.headersFrom[1].name: duplicates the header of headersFrom[0]',
    ],
    ['a timeout in words', (s) => (s.spec.timeout = '30 seconds'), 'spec.timeout: invalid duration "30 seconds": must be a Go duration such as "30s", "5m", "1h" or "1h30m"'],
    ['a timeout without a unit', (s) => (s.spec.timeout = 30), 'spec.timeout: expected a string, got the number 30 (quote it in YAML: "8080" is a string, 8080 a number)'],
    ['a zero SSE read timeout', (s) => (s.spec.sseReadTimeout = '0s'), 'spec.sseReadTimeout: invalid duration "0s": must be longer than 0'],
    ['terminateOnClose as a string', (s) => (s.spec.terminateOnClose = 'always'), 'spec.terminateOnClose: expected true or false, got the string "always"'],
    ['allowed namespaces', (s) => (s.spec.allowedNamespaces = { from: 'All' }), `spec.allowedNamespaces: ${UNSUPPORTED}`],
    ['a misspelt field', (s) => (s.spec.descripton = 'x'), 'spec.descripton: is not a field of RemoteMCPServer (did you mean "description"?)'],
  ])('refuses %s', (_description, edit, expected) => {
    expect(problemLines(file(edit))).toEqual([`${SUBJECT}: ${expected}`]);
  });
});

describe('Agent', () => {
  const SUBJECT = 'deploy/x.yaml: document 0 (Agent trustusbank-bank-agents/support-bot)';
  const file = (edit: (a: YamlObject) => void) => edited(AGENT, edit);
  const declarative = (a: YamlObject) => a.spec.declarative;
  const tools = (a: YamlObject) => a.spec.declarative.tools;
  const accountMcp = (a: YamlObject) => a.spec.declarative.tools[0].mcpServer;

  it('loads support-bot: three MCP servers, a hand-off to fraud-bot and an A2A skill', () => {
    expect(loadedOne(AGENT)).toEqual<Agent>({
      apiVersion: 'kagent.dev/v1alpha2',
      kind: 'Agent',
      metadata: { name: 'support-bot', namespace: 'trustusbank-bank-agents' },
      spec: {
        type: 'Declarative',
        description: "Answers TrustUsBank customers' questions about their accounts",
        declarative: {
          modelConfig: 'anthropic-haiku',
          systemMessage: "You are TrustUsBank's support assistant. Use the tools to look up the customer's accounts;\nhand anything that looks like fraud to fraud-bot.\n",
          tools: [
            { type: 'McpServer', mcpServer: { apiGroup: 'kagent.dev', kind: 'RemoteMCPServer', name: 'account-mcp', toolNames: ['get_balance', 'get_profile'] } },
            { type: 'McpServer', mcpServer: { kind: 'RemoteMCPServer', name: 'transaction-mcp', toolNames: ['list_recent'] } },
            { type: 'McpServer', mcpServer: { name: 'currency-converter', toolNames: ['convert_currency'] } },
            { type: 'Agent', agent: { name: 'fraud-bot' } },
          ],
          a2aConfig: {
            skills: [{ id: 'account-support', name: 'Account support', description: 'Balances, profiles and recent transactions', tags: ['banking', 'support'], examples: ['What is my balance?'] }],
          },
        },
      },
    });
  });

  it('leaves the type out when it is left out (it means Declarative), and accepts the rest of the declarative fields', () => {
    const agent = loadedOne(
      file((a) => {
        delete a.spec.type;
        declarative(a).stream = true;
        declarative(a).deployment = { replicas: 2, env: [{ name: 'LOG_LEVEL', value: 'debug' }, { name: 'EMPTY' }] };
        tools(a).push({ type: 'Agent', agent: { name: 'fraud-bot', namespace: 'trustusbank-bank-fraud' } }, { type: 'Agent', agent: { name: 'support-bot', namespace: 'trustusbank-bank-fraud' } });
        tools(a).push({ type: 'McpServer', mcpServer: { name: 'account-mcp', namespace: 'trustusbank-bank-mcp' } });
      }),
    ) as Agent;
    expect(agent.spec.type).toBeUndefined();
    expect(agent.spec.declarative).toMatchObject({ stream: true, deployment: { replicas: 2, env: [{ name: 'LOG_LEVEL', value: 'debug' }, { name: 'EMPTY' }] } });
    expect(agent.spec.declarative.tools?.slice(4)).toEqual([
      { type: 'Agent', agent: { name: 'fraud-bot', namespace: 'trustusbank-bank-fraud' } },
      { type: 'Agent', agent: { name: 'support-bot', namespace: 'trustusbank-bank-fraud' } },
      { type: 'McpServer', mcpServer: { name: 'account-mcp', namespace: 'trustusbank-bank-mcp' } },
    ]);
  });

  it('drops what `kubectl get -o yaml` adds for itself, and lands in "default" without a namespace', () => {
    const agent = loadedOne(
      file((a) => {
        delete a.metadata.namespace;
        a.metadata.uid = '6a1f';
        a.status = { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' }] };
      }),
    );
    expect(agent.metadata).toEqual({ name: 'support-bot', namespace: 'default' });
    expect(Object.keys(agent)).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
  });

  it.each<[string, (a: YamlObject) => void, string]>([
    [
      'a BYO agent',
      (a) => (a.spec.type = 'BYO'),
      'spec.type: BYO is a kagent agent type TrustUsBank does not support yet (supported: Declarative); bring-your-own agent images are not supported: declare the agent with type Declarative',
    ],
    ['an unknown type', (a) => (a.spec.type = 'Workflow'), 'spec.type: must be one of Declarative (got "Workflow")'],
    ['no declarative block', (a) => delete a.spec.declarative, 'spec.declarative: is required for a Declarative agent (the default type)'],
    ['no model config', (a) => delete declarative(a).modelConfig, 'spec.declarative.modelConfig: is required'],
    [
      'a model config name that is not a DNS subdomain',
      (a) => (declarative(a).modelConfig = 'Anthropic Haiku'),
      `spec.declarative.modelConfig: invalid ModelConfig name "Anthropic Haiku": must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit (e.g. "account-mcp")`,
    ],
    ['no system message', (a) => delete declarative(a).systemMessage, 'spec.declarative.systemMessage: is required'],
    ['a blank system message', (a) => (declarative(a).systemMessage = '  \n'), 'spec.declarative.systemMessage: must not be empty'],
    ['a system message from a ConfigMap', (a) => (declarative(a).systemMessageFrom = { type: 'ConfigMap', name: 'prompts', key: 'support' }), `spec.declarative.systemMessageFrom: ${UNSUPPORTED}; ${NO_STORE}; write the message inline in systemMessage`],
    ['a tool without a type', (a) => delete tools(a)[0].type, 'spec.declarative.tools[0].type: is required'],
    ['a tool of an unknown type', (a) => (tools(a)[0].type = 'Builtin'), 'spec.declarative.tools[0].type: must be one of McpServer, Agent (got "Builtin")'],
    ['an McpServer tool without its block', (a) => delete tools(a)[1].mcpServer, 'spec.declarative.tools[1].mcpServer: is required for a tool of type McpServer'],
    ['an Agent tool without its block', (a) => delete tools(a)[3].agent, 'spec.declarative.tools[3].agent: is required for a tool of type Agent'],
    [
      'an Agent tool that also names an MCP server',
      (a) => (tools(a)[3].mcpServer = { name: 'account-mcp' }),
      "spec.declarative.tools[3].mcpServer: must not be set for a tool of type Agent (an MCP server's tools are a tool of their own, with type: McpServer)",
    ],
    [
      'an in-cluster MCPServer',
      (a) => (accountMcp(a).kind = 'MCPServer'),
      "spec.declarative.tools[0].mcpServer.kind: MCPServer is a kagent MCP server kind TrustUsBank does not support yet (supported: RemoteMCPServer); in-cluster MCPServer is not supported; declare a RemoteMCPServer with the server's URL and name it here",
    ],
    ['a Service as MCP server', (a) => (accountMcp(a).kind = 'Service'), 'spec.declarative.tools[0].mcpServer.kind: Service is a kagent MCP server kind TrustUsBank does not support yet (supported: RemoteMCPServer)'],
    ['an MCP server in another API group', (a) => (accountMcp(a).apiGroup = 'agentgateway.dev'), 'spec.declarative.tools[0].mcpServer.apiGroup: must be "kagent.dev" (or left out) for kind RemoteMCPServer (got "agentgateway.dev")'],
    ['an MCP server without a name', (a) => delete accountMcp(a).name, 'spec.declarative.tools[0].mcpServer.name: is required'],
    ['an empty tool list', (a) => (accountMcp(a).toolNames = []), 'spec.declarative.tools[0].mcpServer.toolNames: must not be empty (leave it out to offer every tool the server lists)'],
    ['an empty tool name', (a) => (accountMcp(a).toolNames = ['get_balance', '']), 'spec.declarative.tools[0].mcpServer.toolNames[1]: must not be empty'],
    ['a tool name twice', (a) => accountMcp(a).toolNames.push('get_balance'), 'spec.declarative.tools[0].mcpServer.toolNames[2]: duplicates "get_balance" of toolNames[0]'],
    ['allowed headers', (a) => (accountMcp(a).allowedHeaders = ['x-user-email']), `spec.declarative.tools[0].mcpServer.allowedHeaders: ${UNSUPPORTED}`],
    [
      'one MCP server in two entries',
      (a) => tools(a).push({ type: 'McpServer', mcpServer: { name: 'account-mcp', namespace: 'trustusbank-bank-agents', toolNames: ['get_statement'] } }),
      "spec.declarative.tools[4].mcpServer.name: duplicates tools[0] (RemoteMCPServer trustusbank-bank-agents/account-mcp): list all of the server's toolNames in one entry",
    ],
    [
      'one hand-off twice',
      (a) => tools(a).push({ type: 'Agent', agent: { name: 'fraud-bot', namespace: 'trustusbank-bank-agents' } }),
      'spec.declarative.tools[4].agent.name: duplicates tools[3] (Agent trustusbank-bank-agents/fraud-bot): hand off to an agent once',
    ],
    ['a hand-off to itself', (a) => (tools(a)[3].agent = { name: 'support-bot' }), 'spec.declarative.tools[3].agent.name: names this Agent: an agent cannot hand off to itself'],
    [
      'a hand-off to itself, naming its namespace',
      (a) => (tools(a)[3].agent = { name: 'support-bot', namespace: 'trustusbank-bank-agents' }),
      'spec.declarative.tools[3].agent.name: names this Agent: an agent cannot hand off to itself',
    ],
    ['an agent reference by kind', (a) => (tools(a)[3].agent.kind = 'Agent'), 'spec.declarative.tools[3].agent.kind: is not a field of Agent'],
    ['tool headers', (a) => (tools(a)[0].headersFrom = [{ name: 'x-tenant', value: 'bank' }]), `spec.declarative.tools[0].headersFrom: ${UNSUPPORTED}; ${NO_STORE}; set headers on the RemoteMCPServer with value`],
    [
      'more than 20 tools',
      (a) => tools(a).push(...Array.from({ length: 17 }, (_, i) => ({ type: 'Agent', agent: { name: `helper-${i}` } }))),
      "spec.declarative.tools: must have at most 20 entries (kagent's limit)",
    ],
    ['an empty skill list', (a) => (declarative(a).a2aConfig.skills = []), 'spec.declarative.a2aConfig.skills: must not be empty (leave it out for an agent card without skills)'],
    ['a skill without an id', (a) => delete declarative(a).a2aConfig.skills[0].id, 'spec.declarative.a2aConfig.skills[0].id: is required'],
    [
      'two skills with one id',
      (a) => declarative(a).a2aConfig.skills.push({ id: 'account-support', name: 'Again' }),
      'spec.declarative.a2aConfig.skills[1].id: duplicates the id of skills[0]',
    ],
    ['0 replicas', (a) => (declarative(a).deployment = { replicas: 0 }), 'spec.declarative.deployment.replicas: must be 1 or more'],
    [
      'an env var name with a space',
      (a) => (declarative(a).deployment = { env: [{ name: 'LOG LEVEL', value: 'debug' }] }),
      `spec.declarative.deployment.env[0].name: invalid environment variable name "LOG LEVEL": must be letters, digits, '_', '-' and '.', not starting with a digit (e.g. "FX_API_URL")`,
    ],
    [
      'an env var from a Secret',
      (a) => (declarative(a).deployment = { env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 't', key: 'k' } } }] }),
      `spec.declarative.deployment.env[0].valueFrom: is a Kubernetes field TrustUsBank does not support yet; ${NO_STORE}; give the variable a literal value`,
    ],
    ['deployment resources', (a) => (declarative(a).deployment = { resources: { limits: { cpu: '1' } } }), `spec.declarative.deployment.resources: ${UNSUPPORTED}`],
    ['skills from images', (a) => (a.spec.skills = { refs: ['ghcr.io/bank/skills:1'] }), `spec.skills: ${UNSUPPORTED}`],
    ['apiVersion v1alpha1', (a) => (a.apiVersion = 'kagent.dev/v1alpha1'), 'apiVersion: kagent.dev/v1alpha1 is not a supported apiVersion for Agent (supported: kagent.dev/v1alpha2)'],
  ])('refuses %s', (_description, edit, expected) => {
    expect(problemLines(file(edit))).toEqual([`${SUBJECT}: ${expected}`]);
  });

  it('refuses an McpServer tool that gives an agent block instead, naming both fields', () => {
    expect(problemLines(file((a) => (tools(a)[1] = { type: 'McpServer', agent: { name: 'fraud-bot' } })))).toEqual([
      `${SUBJECT}: spec.declarative.tools[1].mcpServer: is required for a tool of type McpServer`,
      `${SUBJECT}: spec.declarative.tools[1].agent: must not be set for a tool of type McpServer (a hand-off to another agent is a tool of its own, with type: Agent)`,
    ]);
  });

  it('refuses a BYO agent for its type and its byo block, not for the declarative block it does not have', () => {
    const byo = file((a) => {
      a.spec = { type: 'BYO', byo: { deployment: { image: 'ghcr.io/bank/custom-agent:1.0' } } };
    });
    expect(problemLines(byo)).toEqual([
      `${SUBJECT}: spec.type: BYO is a kagent agent type TrustUsBank does not support yet (supported: Declarative); bring-your-own agent images are not supported: declare the agent with type Declarative`,
      `${SUBJECT}: spec.byo: ${UNSUPPORTED}; bring-your-own agent images are not supported: declare the agent with type Declarative`,
    ]);
  });
});

describe('AccessPolicy', () => {
  const SUBJECT = 'deploy/x.yaml: document 0 (AccessPolicy trustusbank-bank-agents/support-bot-callers)';
  const file = (edit: (p: YamlObject) => void) => edited(ACCESS_POLICY, edit);
  const subjects = (p: YamlObject) => p.spec.from.subjects;
  const GATEWAY = "per-tool access is governed at the agent gateway instead: write an AgentgatewayPolicy (or EnterpriseAgentgatewayPolicy) for the MCP server's route";

  it('loads support-bot-callers: triage-bot and the frontend chatbot may call support-bot', () => {
    expect(loadedOne(ACCESS_POLICY)).toEqual<AccessPolicy>({
      apiVersion: 'policy.kagent-enterprise.solo.io/v1alpha1',
      kind: 'AccessPolicy',
      metadata: { name: 'support-bot-callers', namespace: 'trustusbank-bank-agents' },
      spec: {
        action: 'ALLOW',
        from: {
          subjects: [
            { kind: 'Agent', name: 'triage-bot' },
            { kind: 'ServiceAccount', name: 'chatbot', namespace: 'trustusbank-bank-frontend' },
          ],
        },
        targetRef: { kind: 'Agent', name: 'support-bot' },
      },
    });
  });

  it('accepts user groups, DENY, and a baseline with no subjects for every Agent', () => {
    const groups = {
      action: 'DENY',
      from: { subjects: [{ kind: 'UserGroup', issuer: 'http://dex.trustusbank-platform:5556/dex', claimName: 'groups', claimValue: 'contractors' }] },
      targetRef: { kind: 'Agent', name: 'support-bot' },
    };
    expect((loadedOne(file((p) => (p.spec = groups))) as AccessPolicy).spec).toEqual(groups);
    const baseline = { action: 'ALLOW', from: { subjects: [] }, targetRef: { kind: 'Agent', name: '*' } };
    expect((loadedOne(file((p) => (p.spec = baseline))) as AccessPolicy).spec).toEqual(baseline);
  });

  it.each<[string, (p: YamlObject) => void, string]>([
    ['no action', (p) => delete p.spec.action, 'spec.action: is required'],
    ['a lower-case action', (p) => (p.spec.action = 'Allow'), 'spec.action: must be one of ALLOW, DENY (got "Allow")'],
    ['no from', (p) => delete p.spec.from, 'spec.from: is required'],
    ['a from without subjects', (p) => (p.spec.from = {}), 'spec.from.subjects: is required'],
    ['a subject without a kind', (p) => delete subjects(p)[0].kind, 'spec.from.subjects[0].kind: is required'],
    ['a subject of an unknown kind', (p) => (subjects(p)[0].kind = 'User'), 'spec.from.subjects[0].kind: must be one of Agent, ServiceAccount, UserGroup (got "User")'],
    ['an Agent subject without a name', (p) => delete subjects(p)[0].name, 'spec.from.subjects[0].name: is required for an Agent subject'],
    ['a ServiceAccount subject without a name', (p) => delete subjects(p)[1].name, 'spec.from.subjects[1].name: is required for a ServiceAccount subject'],
    [
      'a UserGroup without a claim value',
      (p) => (subjects(p)[0] = { kind: 'UserGroup', claimName: 'groups' }),
      'spec.from.subjects[0].claimValue: is required for a UserGroup subject (the users whose token carries claimName with claimValue)',
    ],
    [
      'a subject namespace that is not a DNS label',
      (p) => (subjects(p)[1].namespace = 'trustusbank.frontend'),
      `spec.from.subjects[1].namespace: invalid namespace "trustusbank.frontend": must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit (e.g. "account-mcp")`,
    ],
    ['no targetRef', (p) => delete p.spec.targetRef, 'spec.targetRef: is required'],
    [
      'an MCPServer target',
      (p) => (p.spec.targetRef = { kind: 'MCPServer', name: 'account-mcp' }),
      `spec.targetRef.kind: MCPServer is a Solo kagent-enterprise AccessPolicy target kind TrustUsBank does not support yet (supported: Agent); ${GATEWAY}`,
    ],
    [
      'a RemoteMCPServer target with tools',
      (p) => (p.spec.targetRef = { kind: 'RemoteMCPServer', name: 'account-mcp', tools: ['get_balance'] }),
      `spec.targetRef.kind: RemoteMCPServer is a Solo kagent-enterprise AccessPolicy target kind TrustUsBank does not support yet (supported: Agent); ${GATEWAY}`,
    ],
    ['a target of an unknown kind', (p) => (p.spec.targetRef.kind = 'Deployment'), 'spec.targetRef.kind: must be one of Agent (got "Deployment")'],
    ['tools on an Agent target', (p) => (p.spec.targetRef.tools = ['get_balance']), `spec.targetRef.tools: is only for MCP server targets: an Agent target is allowed or denied as a whole (${GATEWAY})`],
    ['a target without a name', (p) => delete p.spec.targetRef.name, 'spec.targetRef.name: is required'],
    [
      'a target name that is neither an Agent name nor "*"',
      (p) => (p.spec.targetRef.name = 'support-*'),
      `spec.targetRef.name: invalid Agent name "support-*": must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit (e.g. "account-mcp")`,
    ],
    ['a target in another namespace', (p) => (p.spec.targetRef.namespace = 'trustusbank-bank-fraud'), 'spec.targetRef.namespace: is not a field of AccessPolicy'],
  ])('refuses %s', (_description, edit, expected) => {
    expect(problemLines(file(edit))).toEqual([`${SUBJECT}: ${expected}`]);
  });
});

describe('kindByName for the kagent kinds', () => {
  it.each([
    ['agent', 'Agent'],
    ['agents', 'Agent'],
    ['Agents', 'Agent'],
    ['agents.kagent.dev', 'Agent'],
    ['agents.v1alpha2.kagent.dev', 'Agent'],
    ['modelconfig', 'ModelConfig'],
    ['modelconfigs', 'ModelConfig'],
    ['mc', 'ModelConfig'],
    ['modelconfigs.v1alpha1.kagent.dev', 'ModelConfig'],
    ['remotemcpserver', 'RemoteMCPServer'],
    ['remotemcpservers', 'RemoteMCPServer'],
    ['rmcps', 'RemoteMCPServer'],
    ['remotemcpservers.kagent.dev', 'RemoteMCPServer'],
    ['accesspolicy', 'AccessPolicy'],
    ['accesspolicies', 'AccessPolicy'],
    ['accesspolicies.policy.kagent-enterprise.solo.io', 'AccessPolicy'],
  ])('reads %s as %s', (name, kind) => {
    expect(kindByName(name)).toBe(kind);
  });

  it.each(['agents.v1alpha1.kagent.dev', 'accesspolicys', 'agents.agentgateway.dev', 'mcpservers'])('knows no kind called %j', (name) => {
    expect(kindByName(name)).toBeUndefined();
  });
});
