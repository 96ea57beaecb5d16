// The bank's route allowlists (deploy/manifests/gateway/allowlists.yaml) decided as the gateway decides them:
// the YAML compiled by compileGateway, each case's request attributes in, the route's decision out. The table
// says who may call which route and tool; a second check derives the same from the Agents' toolNames, so the
// allowlists and the agents cannot drift apart without a test failing.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseManifests } from '../manifests/index.ts';
import type { Agent, Gateway, HTTPRoute, ReferenceGrant, RemoteMCPServer } from '../manifests/types.ts';
import { compileGateway, selectRoute, type CompiledRoute, type GatewayPolicy } from './config.ts';
import { allOf } from './gateway.ts';

const MANIFESTS = join(import.meta.dirname, '..', '..', 'deploy', 'manifests');

function load(dir: string) {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseManifests(readFileSync(join(dir, f), 'utf8'), join(dir, f)).map((l) => l.resource));
}

const gatewayResources = load(join(MANIFESTS, 'gateway'));
const agentResources = load(join(MANIFESTS, 'agents'));
const of = <T>(resources: { kind: string }[], kind: string): T[] => resources.filter((r) => r.kind === kind) as T[];

const compiled = compileGateway({
  gateway: of<Gateway>(gatewayResources, 'Gateway')[0]!,
  routes: of<HTTPRoute>(gatewayResources, 'HTTPRoute'),
  backends: [],
  policies: [...of<GatewayPolicy>(gatewayResources, 'AgentgatewayPolicy'), ...of<GatewayPolicy>(gatewayResources, 'EnterpriseAgentgatewayPolicy')],
  referenceGrants: of<ReferenceGrant>(load(join(MANIFESTS, 'gateway')), 'ReferenceGrant'),
  service: (namespace, name) => ({ name, namespace, hostname: `${name}.${namespace}.svc.cluster.local`, ports: [{ port: 8080, appProtocol: 'agentgateway.dev/mcp' }], annotations: {} }),
  fetchJwks: () => Promise.reject(new Error('no JWKS in this test')),
});

function route(name: string): CompiledRoute {
  const found = compiled.routes.find((r) => r.name === name);
  if (!found) throw new Error(`no route ${name}`);
  return found;
}

/** The attributes the gateway builds for one MCP message (gateway.ts `attributes` plus the handler's `mcp`). */
function attributes(caller: string, method: string, tool: string | undefined, path: string): Record<string, unknown> {
  const [namespace, serviceAccount] = caller === 'anonymous' ? [] : caller.split('/');
  return {
    request: { method: 'POST', path, host: 'trustusbank-agentgw.trustusbank-platform.svc.cluster.local:8080', headers: { 'content-type': 'application/json' } },
    source: {
      address: caller === 'anonymous' ? '127.0.0.1' : '10.244.0.9',
      ...(namespace && serviceAccount ? { identity: { trustDomain: 'cluster.local', namespace, serviceAccount }, namespace: { labels: {} } } : {}),
    },
    mcp: { method, ...(tool ? { tool: { name: tool, target: 'x', arguments: {} } } : {}) },
  };
}

function decide(routeName: string, caller: string, method: string, tool?: string): 'allow' | 'deny' {
  const compiledRoute = route(routeName);
  const path = compiledRoute.matches[0]!.path.value;
  return allOf(compiledRoute.policies.traffic).evaluate(attributes(caller, method, tool, path)).allowed ? 'allow' : 'deny';
}

// Callers are `<namespace>/<service account>` as the mesh proves them, or `anonymous` (no identity at all).
const CASES = parse(`
# account-mcp: support-bot [get_balance, get_profile], fraud-bot [get_profile]
- { route: account-mcp-route, caller: trustusbank-bank-agents/support-bot, method: initialize, expect: allow }
- { route: account-mcp-route, caller: trustusbank-bank-agents/support-bot, method: tools/list, expect: allow }
- { route: account-mcp-route, caller: trustusbank-bank-agents/support-bot, method: tools/call, tool: get_balance, expect: allow }
- { route: account-mcp-route, caller: trustusbank-bank-agents/support-bot, method: tools/call, tool: get_profile, expect: allow }
- { route: account-mcp-route, caller: trustusbank-bank-agents/fraud-bot, method: tools/call, tool: get_profile, expect: allow }
- { route: account-mcp-route, caller: trustusbank-bank-agents/fraud-bot, method: tools/call, tool: get_balance, expect: deny }
- { route: account-mcp-route, caller: trustusbank-bank-agents/triage-bot, method: tools/call, tool: get_profile, expect: deny }
- { route: account-mcp-route, caller: trustusbank-bank-agents/triage-bot, method: initialize, expect: deny }
# the attack's callers: the rug-pulled converter, the attacker, an anonymous host client
- { route: account-mcp-route, caller: trustusbank-bank-vendors/currency-converter, method: tools/call, tool: get_profile, expect: deny }
- { route: account-mcp-route, caller: trustusbank-bank-vendors/currency-converter, method: initialize, expect: deny }
- { route: account-mcp-route, caller: external-attacker/mock-attacker, method: tools/call, tool: get_profile, expect: deny }
- { route: account-mcp-route, caller: anonymous, method: tools/call, tool: get_profile, expect: deny }
- { route: account-mcp-route, caller: anonymous, method: initialize, expect: deny }
# look-alikes: support-bot's service account name in another namespace, another bank workload, the chatbot
- { route: account-mcp-route, caller: trustusbank-bank-vendors/support-bot, method: tools/call, tool: get_profile, expect: deny }
- { route: account-mcp-route, caller: trustusbank-platform/support-bot, method: tools/call, tool: get_balance, expect: deny }
- { route: account-mcp-route, caller: trustusbank-bank-mcp/transaction-mcp, method: initialize, expect: deny }
- { route: account-mcp-route, caller: trustusbank-bank-frontend/chatbot, method: tools/call, tool: get_balance, expect: deny }
# methods and tools nobody was given
- { route: account-mcp-route, caller: trustusbank-bank-agents/support-bot, method: tools/call, tool: delete_account, expect: deny }
- { route: account-mcp-route, caller: trustusbank-bank-agents/support-bot, method: prompts/get, expect: deny }
- { route: account-mcp-route, caller: trustusbank-bank-agents/support-bot, method: resources/read, expect: deny }
# transaction-mcp: support-bot [list_recent], fraud-bot [list_recent, get_details, flag_suspicious]
- { route: transaction-mcp-route, caller: trustusbank-bank-agents/support-bot, method: tools/call, tool: list_recent, expect: allow }
- { route: transaction-mcp-route, caller: trustusbank-bank-agents/support-bot, method: tools/call, tool: flag_suspicious, expect: deny }
- { route: transaction-mcp-route, caller: trustusbank-bank-agents/fraud-bot, method: tools/call, tool: get_details, expect: allow }
- { route: transaction-mcp-route, caller: trustusbank-bank-agents/fraud-bot, method: tools/call, tool: flag_suspicious, expect: allow }
- { route: transaction-mcp-route, caller: trustusbank-bank-agents/triage-bot, method: tools/call, tool: list_recent, expect: deny }
- { route: transaction-mcp-route, caller: trustusbank-bank-vendors/currency-converter, method: tools/call, tool: list_recent, expect: deny }
# ticket-mcp: triage-bot [create_ticket, notify_human]
- { route: ticket-mcp-route, caller: trustusbank-bank-agents/triage-bot, method: initialize, expect: allow }
- { route: ticket-mcp-route, caller: trustusbank-bank-agents/triage-bot, method: tools/call, tool: create_ticket, expect: allow }
- { route: ticket-mcp-route, caller: trustusbank-bank-agents/triage-bot, method: tools/call, tool: notify_human, expect: allow }
- { route: ticket-mcp-route, caller: trustusbank-bank-agents/support-bot, method: tools/call, tool: create_ticket, expect: deny }
- { route: ticket-mcp-route, caller: trustusbank-bank-agents/fraud-bot, method: initialize, expect: deny }
- { route: ticket-mcp-route, caller: external-attacker/mock-attacker, method: tools/call, tool: notify_human, expect: deny }
# currency-converter: support-bot [convert_currency]
- { route: currency-converter-route, caller: trustusbank-bank-agents/support-bot, method: tools/list, expect: allow }
- { route: currency-converter-route, caller: trustusbank-bank-agents/support-bot, method: tools/call, tool: convert_currency, expect: allow }
- { route: currency-converter-route, caller: trustusbank-bank-agents/fraud-bot, method: tools/call, tool: convert_currency, expect: deny }
- { route: currency-converter-route, caller: trustusbank-bank-vendors/currency-converter, method: tools/call, tool: convert_currency, expect: deny }
- { route: currency-converter-route, caller: anonymous, method: tools/list, expect: deny }
`) as { route: string; caller: string; method: string; tool?: string; expect: 'allow' | 'deny' }[];

describe('the bank’s route allowlists', () => {
  it('compile without warnings', () => {
    expect(compiled.warnings).toEqual([]);
  });

  it.each(CASES)('$route: $caller $method $tool → $expect', ({ route: name, caller, method, tool, expect: expected }) => {
    expect(decide(name, caller, method, tool)).toBe(expected);
  });

  it('name the policy that refused, for the 403', () => {
    const denial = allOf(route('account-mcp-route').policies.traffic).evaluate(attributes('trustusbank-bank-vendors/currency-converter', 'tools/call', 'get_profile', '/mcp/account'));
    expect(denial).toMatchObject({ allowed: false, policy: 'trustusbank-platform/account-mcp-allowlist' });
  });

  // Every tool of every server, for every agent: allowed exactly when the Agent lists it in toolNames.
  const SERVER_TOOLS: Record<string, string[]> = {
    'account-mcp': ['get_balance', 'get_profile'],
    'transaction-mcp': ['list_recent', 'get_details', 'flag_suspicious'],
    'ticket-mcp': ['create_ticket', 'notify_human'],
    'currency-converter': ['convert_currency'],
  };
  const agents = of<Agent>(agentResources, 'Agent');
  const servers = of<RemoteMCPServer>(agentResources, 'RemoteMCPServer');
  it.each(agents.map((a) => a.metadata.name))('give %s exactly the tools its Agent lists, on the route its RemoteMCPServer names', (agentName) => {
    const agent = agents.find((a) => a.metadata.name === agentName)!;
    const caller = `${agent.metadata.namespace}/${agent.metadata.name}`;
    const granted = new Map<string, string[]>();
    for (const tool of agent.spec.declarative?.tools ?? []) if (tool.type === 'McpServer') granted.set(tool.mcpServer.name, tool.mcpServer.toolNames ?? []);
    for (const server of servers) {
      const url = new URL(server.spec.url);
      const compiledRoute = selectRoute(compiled.routes, { kind: 'Gateway' }, { host: url.host, path: url.pathname, method: 'POST', headers: {} });
      expect(compiledRoute, server.spec.url).toBeDefined();
      const mine = granted.get(server.metadata.name);
      const decisions = Object.fromEntries(
        ['initialize', ...SERVER_TOOLS[server.metadata.name]!].map((what) => [what, what === 'initialize' ? decide(compiledRoute!.name, caller, 'initialize') : decide(compiledRoute!.name, caller, 'tools/call', what)]),
      );
      const expected = Object.fromEntries(['initialize', ...SERVER_TOOLS[server.metadata.name]!].map((what) => [what, mine && (what === 'initialize' || mine.includes(what)) ? 'allow' : 'deny']));
      expect({ server: server.metadata.name, decisions }).toEqual({ server: server.metadata.name, decisions: expected });
    }
  });
});
