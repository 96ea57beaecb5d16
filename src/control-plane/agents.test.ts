import { describe, expect, it } from 'vitest';
import { parseManifests } from '../manifests/index.ts';
import type { AuthorizationPolicy, Deployment, EnterpriseAgentgatewayPolicy, Gateway, KnownResource, Service } from '../manifests/types.ts';
import { AuthorizationPolicyEngine } from '../mesh/authz/index.ts';
import type { AgentRuntimeConfig } from '../agents/runtime/config.ts';
import { RuleSet } from '../cel/cel.ts';
import { checkAgentReferences, parseModelChoice, translateAgents, type ModelChoice } from './agents.ts';
import { hostEnvFor } from './engine.ts';

const BASE = `
apiVersion: kagent.dev/v1alpha2
kind: ModelConfig
metadata: { name: haiku, namespace: bank }
spec: { provider: Anthropic, model: claude-3-5-haiku-20241022, apiKeySecret: kagent-anthropic, apiKeySecretKey: MY_ANTHROPIC_KEY, anthropic: { maxTokens: 512 } }
---
apiVersion: kagent.dev/v1alpha2
kind: RemoteMCPServer
metadata: { name: account-mcp, namespace: bank }
spec: { url: "http://gw.platform.svc.cluster.local:8080/mcp/account", headersFrom: [{ name: X-Team, value: support }], timeout: 5s }
---
apiVersion: kagent.dev/v1alpha2
kind: Agent
metadata: { name: support-bot, namespace: bank, labels: { kagent.solo.io/waypoint: "true" } }
spec:
  description: Front line
  declarative:
    modelConfig: haiku
    systemMessage: Be helpful.
    tools:
      - { type: McpServer, mcpServer: { name: account-mcp, toolNames: [get_balance] } }
      - { type: Agent, agent: { name: fraud-bot } }
---
apiVersion: kagent.dev/v1alpha2
kind: Agent
metadata: { name: fraud-bot, namespace: bank }
spec:
  declarative: { modelConfig: haiku, systemMessage: Score risk. }
`;

const ACCESS = `
apiVersion: policy.kagent-enterprise.solo.io/v1alpha1
kind: AccessPolicy
metadata: { name: fraud-callers, namespace: bank }
spec:
  action: ALLOW
  from: { subjects: [{ kind: Agent, name: triage-bot }, { kind: ServiceAccount, name: chatbot, namespace: frontend }] }
  targetRef: { kind: Agent, name: fraud-bot }
`;

function resources(...texts: string[]): KnownResource[] {
  return texts.flatMap((text, i) => parseManifests(text, `doc${i}.yaml`).map((l) => l.resource));
}

function generated(all: KnownResource[], choice: ModelChoice = { mode: 'scripted' }) {
  const out = translateAgents(all, choice);
  const find = <K extends KnownResource['kind']>(kind: K, name: string) => out.resources.find((l) => l.resource.kind === kind && l.resource.metadata.name === name)?.resource as Extract<KnownResource, { kind: K }> | undefined;
  const configOf = (name: string) => JSON.parse((find('Deployment', name) as Deployment).spec.template.spec.containers[0].env!.find((e) => e.name === 'AGENT_CONFIG')!.value!) as AgentRuntimeConfig;
  return { ...out, find, configOf };
}

describe('the agents controller', () => {
  it('turns an Agent into a ServiceAccount, a Deployment of the runtime and an A2A Service', () => {
    const { find, configOf, warnings } = generated(resources(BASE));
    expect(warnings).toEqual([]);
    expect(find('ServiceAccount', 'support-bot')).toBeDefined();
    const deployment = find('Deployment', 'support-bot') as Deployment;
    expect(deployment.spec.template.spec).toMatchObject({ serviceAccountName: 'support-bot', containers: [{ image: 'trustusbank/kagent-agent:1.0.0', ports: [{ name: 'http', containerPort: 8080 }] }] });
    expect(deployment.spec.template.metadata.annotations).toMatchObject({ 'trustusbank.io/allow-native-addons': 'true' });
    const config = configOf('support-bot');
    expect(config).toMatchObject({
      name: 'support-bot',
      namespace: 'bank',
      systemMessage: 'Be helpful.',
      mcpServers: [{ name: 'account-mcp', url: 'http://gw.platform.svc.cluster.local:8080/mcp/account', protocol: 'STREAMABLE_HTTP', headers: { 'X-Team': 'support' }, toolNames: ['get_balance'], timeoutMs: 5000 }],
      agents: [{ name: 'fraud-bot', namespace: 'bank', url: 'http://fraud-bot.bank.svc.cluster.local:8080/' }],
      url: 'http://support-bot.bank.svc.cluster.local:8080/',
    });
    expect(find('Service', 'support-bot')!.spec.ports).toEqual([{ name: 'a2a', port: 8080, targetPort: 'http', appProtocol: 'kgateway.dev/a2a' }]);
  });

  it('gives a waypoint to an Agent labelled for one, and to one an AccessPolicy guards', () => {
    const without = generated(resources(BASE));
    expect(without.find('Gateway', 'support-bot-waypoint')?.spec.gatewayClassName).toBe('enterprise-agentgateway-waypoint');
    expect((without.find('Service', 'support-bot') as Service).metadata.labels?.['istio.io/use-waypoint']).toBe('support-bot-waypoint');
    expect(without.find('Gateway', 'fraud-bot-waypoint')).toBeUndefined();
    const guarded = generated(resources(BASE, ACCESS));
    expect((guarded.find('Gateway', 'fraud-bot-waypoint') as Gateway).metadata.namespace).toBe('bank');
    expect((guarded.find('Service', 'fraud-bot') as Service).metadata.labels?.['istio.io/use-waypoint']).toBe('fraud-bot-waypoint');
  });

  it('compiles an AccessPolicy into a waypoint policy that admits exactly its subjects', () => {
    const policy = generated(resources(BASE, ACCESS)).find('EnterpriseAgentgatewayPolicy', 'accesspolicy-fraud-callers-waypoint') as EnterpriseAgentgatewayPolicy;
    expect(policy.spec.targetRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'fraud-bot-waypoint' }]);
    const rules = RuleSet.compile([{ policy: 'bank/accesspolicy-fraud-callers-waypoint', action: 'Allow', expressions: policy.spec.traffic!.authorization!.policy.matchExpressions }]);
    const from = (namespace: string, serviceAccount: string) => rules.evaluate({ source: { identity: { trustDomain: 'cluster.local', namespace, serviceAccount } } }).allowed;
    expect(from('bank', 'triage-bot')).toBe(true);
    expect(from('frontend', 'chatbot')).toBe(true);
    expect(from('bank', 'support-bot')).toBe(false);
    expect(from('frontend', 'triage-bot')).toBe(false);
    expect(rules.evaluate({ source: {} }).allowed).toBe(false);
  });

  it('holds an AccessPolicy at L4 too: the guarded agent takes connections from its waypoint only, whatever else is allowed', () => {
    const out = generated(resources(BASE, ACCESS));
    expect(out.find('AuthorizationPolicy', 'support-bot-only-via-waypoint')).toBeUndefined();
    const policy = out.find('AuthorizationPolicy', 'fraud-bot-only-via-waypoint') as AuthorizationPolicy;
    const engine = new AuthorizationPolicyEngine();
    // A namespace-wide allow-list that names the chatbot (as `policies on` does) must not open the pod to it.
    const allowList = { namespace: 'bank', name: 'allow-callers', spec: { action: 'ALLOW' as const, rules: [{ from: [{ source: { namespaces: ['bank', 'frontend'] } }] }] } };
    engine.setPolicies([{ namespace: 'bank', name: policy.metadata.name, spec: policy.spec }, allowList]);
    const fraudPod = { namespace: 'bank', labels: { app: 'fraud-bot', 'kagent.dev/agent': 'fraud-bot' } };
    const from = (principal: string) => engine.evaluate(fraudPod, { source: { principal }, destination: { ip: '10.244.0.9', port: 8080 } });
    expect(from('cluster.local/ns/bank/sa/fraud-bot-waypoint').allowed).toBe(true);
    expect(from('cluster.local/ns/bank/sa/triage-bot')).toMatchObject({ allowed: false, message: expect.stringContaining('explicitly denied by: bank/fraud-bot-only-via-waypoint') });
    expect(from('cluster.local/ns/frontend/sa/chatbot').allowed).toBe(false);
    // Agents no AccessPolicy guards keep what the namespace allows.
    expect(engine.evaluate({ namespace: 'bank', labels: { app: 'support-bot', 'kagent.dev/agent': 'support-bot' } }, { source: { principal: 'cluster.local/ns/frontend/sa/chatbot' }, destination: { ip: '10.244.0.8', port: 8080 } }).allowed).toBe(true);
  });

  it('targets every Agent of the namespace with "*", and admits nobody with no subjects', () => {
    const all = resources(BASE, ACCESS.replace('name: fraud-bot }', 'name: "*" }').replace(/from: .*\n/, 'from: { subjects: [] }\n'));
    const policy = generated(all).find('EnterpriseAgentgatewayPolicy', 'accesspolicy-fraud-callers-waypoint') as EnterpriseAgentgatewayPolicy;
    expect(policy.spec.targetRefs.map((r) => r.name).sort()).toEqual(['fraud-bot-waypoint', 'support-bot-waypoint']);
    expect(policy.spec.traffic!.authorization).toEqual({ action: 'Allow', policy: { matchExpressions: ['false'] } });
  });

  it('turns a DENY AccessPolicy into a Deny rule', () => {
    const policy = generated(resources(BASE, ACCESS.replace('ALLOW', 'DENY'))).find('EnterpriseAgentgatewayPolicy', 'accesspolicy-fraud-callers-waypoint') as EnterpriseAgentgatewayPolicy;
    expect(policy.spec.traffic!.authorization!.action).toBe('Deny');
  });

  it('chooses the model: scripted by default, a provider from --model, or each ModelConfig as written', () => {
    expect(generated(resources(BASE)).configOf('support-bot').model).toMatchObject({ provider: 'scripted', model: 'scripted' });
    const anthropic = generated(resources(BASE), { mode: 'provider', provider: 'anthropic' });
    expect(anthropic.configOf('support-bot').model).toMatchObject({ provider: 'anthropic', model: 'claude-3-5-haiku-20241022', maxTokens: 512, apiKeyEnv: 'MY_ANTHROPIC_KEY' });
    // The key travels from the host at pod start, never in the Deployment.
    const annotations = (anthropic.find('Deployment', 'support-bot') as Deployment).spec.template.metadata.annotations!;
    expect(annotations['trustusbank.io/env-from-host']).toBe('MY_ANTHROPIC_KEY,ANTHROPIC_BASE_URL');
    expect(JSON.stringify(anthropic.find('Deployment', 'support-bot'))).not.toMatch(/sk-/);
    expect(generated(resources(BASE), { mode: 'provider', provider: 'openai' }).configOf('support-bot').model).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini' });
    expect(generated(resources(BASE), { mode: 'provider', provider: 'openai', model: 'llama3.1' }).configOf('support-bot').model).toMatchObject({ provider: 'openai', model: 'llama3.1' });
    expect(generated(resources(BASE), { mode: 'modelconfig' }).configOf('support-bot').model).toMatchObject({ provider: 'anthropic', model: 'claude-3-5-haiku-20241022' });
  });

  it('hands a pod only the host variables its Deployment names, and only key-shaped ones', () => {
    const deployment = generated(resources(BASE), { mode: 'provider', provider: 'anthropic' }).find('Deployment', 'support-bot') as Deployment;
    const host = { MY_ANTHROPIC_KEY: 'sk-ant-1', ANTHROPIC_BASE_URL: 'http://127.0.0.1:1', HOME: '/root', OPENAI_API_KEY: 'sk-2' };
    expect(hostEnvFor(deployment, host)).toEqual({ MY_ANTHROPIC_KEY: 'sk-ant-1', ANTHROPIC_BASE_URL: 'http://127.0.0.1:1' });
    deployment.spec.template.metadata.annotations!['trustusbank.io/env-from-host'] = 'HOME,PATH,OPENAI_API_KEY';
    expect(hostEnvFor(deployment, host)).toEqual({ OPENAI_API_KEY: 'sk-2' });
    expect(hostEnvFor(generated(resources(BASE)).find('Deployment', 'support-bot') as Deployment, host)).toEqual({});
  });

  it('parses --model', () => {
    expect(parseModelChoice(undefined)).toEqual({ mode: 'scripted' });
    expect(parseModelChoice('anthropic:claude-sonnet-4-5')).toEqual({ mode: 'provider', provider: 'anthropic', model: 'claude-sonnet-4-5' });
    expect(parseModelChoice('modelconfig')).toEqual({ mode: 'modelconfig' });
    expect((parseModelChoice('gemini') as Error).message).toMatch(/unknown model "gemini"/);
  });

  it('checks an Agent’s references at apply, naming the field, and leaves out what vanished later', () => {
    const loaded = parseManifests(BASE, 'agents.yaml');
    const agentOnly = loaded.filter((l) => l.resource.kind === 'Agent');
    const issues = checkAgentReferences(agentOnly, agentOnly.map((l) => l.resource));
    expect(issues.map((i) => `${i.name} ${i.path}`)).toEqual(['bank/support-bot spec.declarative.modelConfig', 'bank/support-bot spec.declarative.tools[0].mcpServer.name', 'bank/fraud-bot spec.declarative.modelConfig']);
    expect(checkAgentReferences(loaded, loaded.map((l) => l.resource))).toEqual([]);
    // Deleted afterwards: the agent runs without the tool, and the controller says so.
    const withoutServer = loaded.map((l) => l.resource).filter((r) => r.kind !== 'RemoteMCPServer');
    const out = generated(withoutServer);
    expect(out.warnings).toEqual([expect.stringContaining('RemoteMCPServer "bank/account-mcp" not found')]);
    expect(out.configOf('support-bot').mcpServers).toEqual([]);
  });

  it('leaves a resource the user wrote alone', () => {
    const own = `apiVersion: v1\nkind: ServiceAccount\nmetadata: { name: support-bot, namespace: bank, labels: { mine: "yes" } }\n`;
    expect(generated(resources(BASE, own)).find('ServiceAccount', 'support-bot')).toBeUndefined();
  });
});
