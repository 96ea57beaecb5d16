// The gateway's MCP decision as a table: the shipped YAML (the bank's allowlists and the gateway layers) compiled
// by compileGateway, a caller, a tool, its arguments and the pins' state in, the decision out. A list runs the
// same pipeline: an item a call to would be refused before its arguments are known is not listed.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseManifests } from '../../manifests/index.ts';
import type { Gateway, HTTPRoute, ReferenceGrant } from '../../manifests/types.ts';
import { toolArgumentAttributes } from '../../cel/cel.ts';
import { compileGateway, type CompiledRoute, type GatewayPolicy } from '../config.ts';
import { allOf } from '../gateway.ts';
import { decideItem, pinSnapshot, type ItemDecision, type PinSnapshot } from './decide.ts';
import type { McpPolicies } from './handler.ts';

const MANIFESTS = join(import.meta.dirname, '..', '..', '..', 'deploy', 'manifests');
const load = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseManifests(readFileSync(join(dir, f), 'utf8'), join(dir, f)).map((l) => l.resource));
const of = <T>(resources: { kind: string }[], kind: string): T[] => resources.filter((r) => r.kind === kind) as T[];
const base = load(join(MANIFESTS, 'gateway'));
const layers = load(join(MANIFESTS, 'policies', 'gateway'));

/** The converter's route as compiled with the given gateway layers on (by policy name). */
function converterPolicies(on: string[]): McpPolicies {
  const policies = [...of<GatewayPolicy>(base, 'AgentgatewayPolicy'), ...of<GatewayPolicy>(base, 'EnterpriseAgentgatewayPolicy'), ...[...of<GatewayPolicy>(layers, 'AgentgatewayPolicy'), ...of<GatewayPolicy>(layers, 'EnterpriseAgentgatewayPolicy')].filter((p) => on.includes(p.metadata.name))];
  const compiled = compileGateway({
    gateway: of<Gateway>(base, 'Gateway')[0]!,
    routes: of<HTTPRoute>(base, 'HTTPRoute'),
    backends: [],
    policies,
    referenceGrants: of<ReferenceGrant>(base, 'ReferenceGrant'),
    service: (namespace, name) => ({ name, namespace, hostname: `${name}.${namespace}.svc.cluster.local`, ports: [{ port: 8080, appProtocol: 'agentgateway.dev/mcp' }], annotations: {} }),
    fetchJwks: () => Promise.reject(new Error('no JWKS in this test')),
  });
  const route: CompiledRoute = compiled.routes.find((r) => r.name === 'currency-converter-route')!;
  return { traffic: allOf(route.policies.traffic), backend: allOf(route.policies.backend), ...(route.policies.dlp ? { dlp: route.policies.dlp } : {}), ...(route.policies.pinning ? { pinning: route.policies.pinning } : {}) };
}

const SERVER = 'currency-converter';
const PINNED_SCHEMA = { type: 'object', properties: { amount: { type: 'number' }, from: { type: 'string' }, to: { type: 'string' } }, required: ['amount', 'from', 'to'] };

/** The pins as data: which tools drifted, and the pinned definition of convert_currency (when pinned). */
function pins(state: 'none' | 'pinned' | 'drifted'): PinSnapshot {
  return {
    drifted: () => new Set(state === 'drifted' ? ['convert_currency'] : []),
    serverDrifted: () => state === 'drifted',
    pinned: (_server, tool) => (state !== 'none' && tool === 'convert_currency' ? { name: tool, inputSchema: PINNED_SCHEMA } : undefined),
  };
}

function attributesFor(caller: string, method: string, tool: string, args: Record<string, unknown> | undefined): Record<string, unknown> {
  const [namespace, serviceAccount] = caller.split('/');
  return {
    request: { method: 'POST', path: '/mcp/currency', host: 'trustusbank-agentgw.trustusbank-platform.svc.cluster.local:8080', headers: { 'content-type': 'application/json' } },
    source: { address: '10.244.0.9', identity: { trustDomain: 'cluster.local', namespace, serviceAccount }, namespace: { labels: {} } },
    mcp: { method, tool: { name: tool, target: SERVER, ...(args ? toolArgumentAttributes(args) : { arguments: {}, argumentKeys: [], argumentValues: [] }) } },
  };
}

interface Case {
  what: string;
  layers: string[];
  caller?: string;
  tool?: string;
  args?: Record<string, unknown>;
  pins?: 'none' | 'pinned' | 'drifted';
  call: string;
  list: string;
}

const PROFILE = { name: 'Jane Doe', email: 'jane.doe@example.com', ni_number: 'QQ 12 34 56 C' };
const CASES = parse(`
- { what: "the clean call, no layer", layers: [], args: { amount: 100, from: GBP, to: USD }, call: allow, list: allow }
- { what: "the clean call, every layer", layers: [deny-pii-in-tool-args, dlp-tool-arguments, tool-pinning], pins: pinned, args: { amount: 100, from: GBP, to: USD }, call: allow, list: allow }
- { what: "a caller the allowlist does not name", layers: [], caller: trustusbank-bank-agents/fraud-bot, args: { amount: 1, from: GBP, to: USD }, call: forbid Authorization, list: hide Authorization }
- { what: "the rug-pull's call, no layer", layers: [], args: { amount: 100, from: GBP, to: USD, customer_profile: PROFILE }, call: allow, list: allow }
- { what: "the rug-pull's call, argument policy", layers: [deny-pii-in-tool-args], args: { amount: 100, from: GBP, to: USD, customer_profile: PROFILE }, call: forbid Authorization, list: allow }
- { what: "the profile nested under another key: the argument policy sees its keys", layers: [deny-pii-in-tool-args], args: { amount: 100, from: GBP, to: USD, ctx: PROFILE }, call: forbid Authorization, list: allow }
- { what: "the profile as text under an innocent key: past the argument policy", layers: [deny-pii-in-tool-args], args: { amount: 100, from: GBP, to: USD, ctx: "Jane Doe, jane.doe@example.com, QQ 12 34 56 C" }, call: allow, list: allow }
- { what: "the profile as text under an innocent key: DLP", layers: [dlp-tool-arguments], args: { amount: 100, from: GBP, to: USD, ctx: "Jane Doe, jane.doe@example.com, QQ 12 34 56 C" }, call: forbid DLP, list: allow }
- { what: "the drifted tool, pinning", layers: [tool-pinning], pins: drifted, args: { amount: 100, from: GBP, to: USD }, call: hide ToolPinning, list: hide ToolPinning }
- { what: "an undeclared argument, pinning", layers: [tool-pinning], pins: pinned, args: { amount: 100, from: GBP, to: USD, extra: 1 }, call: forbid ToolPinning, list: allow }
- { what: "PII in an undeclared argument is reported as PII (DLP before pinning)", layers: [dlp-tool-arguments, tool-pinning], pins: pinned, args: { amount: 100, from: GBP, to: USD, note: PROFILE }, call: forbid DLP, list: allow }
- { what: "a tool never pinned: pinning does not judge it", layers: [tool-pinning], pins: none, args: { amount: 100, from: GBP, to: USD, extra: 1 }, call: allow, list: allow }
- { what: "the attacker's identity, every layer", layers: [deny-pii-in-tool-args, dlp-tool-arguments, tool-pinning], caller: external-attacker/mock-attacker, args: { amount: 1, from: GBP, to: USD }, call: forbid Authorization, list: hide Authorization }
`) as Case[];

const summary = (d: ItemDecision): string => (d.kind === 'allow' ? 'allow' : `${d.kind} ${d.reason}`);

describe("the gateway's MCP decision pipeline", () => {
  it.each(CASES.map((c) => [c.what, c] as const))('%s', (_what, c) => {
    const policies = converterPolicies(c.layers);
    const caller = c.caller ?? 'trustusbank-bank-agents/support-bot';
    const tool = c.tool ?? 'convert_currency';
    const args = c.args ? JSON.parse(JSON.stringify(c.args).replaceAll('"PROFILE"', JSON.stringify(PROFILE))) : undefined;
    const item = { kind: 'tool' as const, name: tool, target: SERVER, server: SERVER };
    const call = decideItem('call', { ...item, ...(args ? { arguments: args } : {}) }, attributesFor(caller, 'tools/call', tool, args), policies, pins(c.pins ?? 'none'));
    expect(summary(call)).toBe(c.call);
    const list = decideItem('list', item, attributesFor(caller, 'tools/call', tool, undefined), policies, pins(c.pins ?? 'none'));
    expect(summary(list)).toBe(c.list);
  });

  it('redacts instead of refusing under RedactInPlace, and forwards the redacted arguments', () => {
    const policies = converterPolicies([]);
    const reject = converterPolicies(['dlp-tool-arguments']).dlp!;
    const redacting: McpPolicies = { ...policies, dlp: { ...reject, action: 'RedactInPlace' } };
    const args = { amount: 1, from: 'GBP', to: 'USD', note: 'mail jane.doe@example.com' };
    const decision = decideItem('call', { kind: 'tool', name: 'convert_currency', target: SERVER, server: SERVER, arguments: args }, attributesFor('trustusbank-bank-agents/support-bot', 'tools/call', 'convert_currency', args), redacting, pins('none'));
    expect(decision.kind).toBe('allow');
    expect(JSON.stringify((decision as { arguments: unknown }).arguments)).not.toContain('jane.doe@example.com');
    expect((decision as { redacted: unknown[] }).redacted.length).toBeGreaterThan(0);
  });

  it('reads the pin store at most once per server for a whole list', () => {
    const reads: string[] = [];
    const snapshot = pinSnapshot({
      driftedTools: (server) => (reads.push(`drifted ${server}`), new Set(['a'])),
      status: (server) => (reads.push(`status ${server}`), [{ drifted: true }]),
      pinnedDefinition: () => undefined,
    });
    for (let i = 0; i < 5; i++) {
      expect(snapshot.drifted('s').has('a')).toBe(true);
      expect(snapshot.serverDrifted('s')).toBe(true);
    }
    expect(reads).toEqual(['drifted s', 'status s']);
  });
});
