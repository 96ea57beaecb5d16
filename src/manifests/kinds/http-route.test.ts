import { describe, expect, it } from 'vitest';
import { parseManifests } from '../load.ts';
import { editedDocument, problemLines, readTestdata, type YamlObject } from '../testdata/support.ts';
import type { HTTPRoute } from '../types.ts';

const SUBJECT = 'deploy/x.yaml: document 0 (HTTPRoute trustusbank-platform/account-mcp-route)';

/** account-mcp-route from testdata (a Gateway parent, a Service backend), changed by `edit`. */
function routeFile(edit: (route: YamlObject) => void): string {
  return editedDocument('agentgateway.yaml', 1, edit);
}

const rule = (r: YamlObject) => r.spec.rules[0];
const match = (r: YamlObject) => r.spec.rules[0].matches[0];
const backend = (r: YamlObject) => r.spec.rules[0].backendRefs[0];

describe('HTTPRoute', () => {
  it('loads a route to a Service behind a Gateway, and a Service parent routed to an AgentgatewayBackend', () => {
    const loaded = parseManifests(readTestdata('agentgateway.yaml'), 'agentgateway.yaml');
    expect(loaded[1]!.resource).toEqual({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'account-mcp-route', namespace: 'trustusbank-platform' },
      spec: {
        parentRefs: [{ name: 'trustusbank-agentgw', kind: 'Gateway' }],
        rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/mcp/account' } }], backendRefs: [{ name: 'account-mcp', namespace: 'trustusbank-bank-mcp', port: 8000 }] }],
      },
    });
    expect(loaded[5]!.resource).toEqual({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'mcp-route', namespace: 'ai-tools' },
      spec: {
        parentRefs: [{ group: '', kind: 'Service', name: 'mcp-gateway' }],
        rules: [{ backendRefs: [{ group: 'agentgateway.dev', kind: 'AgentgatewayBackend', name: 'mcp-be' }] }],
      },
    });
  });

  it('accepts every supported field, and fills in no defaults: what was left out stays out', () => {
    const spec = {
      parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'trustusbank-agentgw', namespace: 'trustusbank-platform', sectionName: 'mcp', port: 8080 }, { name: 'other-gw' }],
      hostnames: ['mcp.trustusbank.local', '*.agents.trustusbank.local'],
      rules: [
        {
          name: 'account',
          matches: [
            { path: { type: 'Exact', value: '/mcp' }, headers: [{ name: 'x-tenant', value: 'bank' }, { type: 'RegularExpression', name: 'X-Agent', value: '^support-(bot|agent)$' }], method: 'POST' },
            { path: { type: 'RegularExpression', value: '^/mcp/(account|profile)$' } },
            { path: { value: '/sse' } },
            { method: 'GET' },
          ],
          backendRefs: [
            { name: 'account-mcp', port: 8000, weight: 90 },
            { group: '', kind: 'Service', name: 'account-mcp-canary', port: 8000, weight: 10 },
          ],
        },
        { backendRefs: [{ group: 'agentgateway.dev', kind: 'AgentgatewayBackend', name: 'mcp-be', namespace: 'ai-tools' }] },
        {},
      ],
    };
    const [loaded] = parseManifests(routeFile((r) => (r.spec = spec)), 'x.yaml');
    expect((loaded!.resource as HTTPRoute).spec).toEqual(spec);
  });

  it.each<[string, (r: YamlObject) => void, string]>([
    ['no parentRefs', (r) => delete r.spec.parentRefs, 'spec.parentRefs: is required'],
    ['an empty parentRefs', (r) => (r.spec.parentRefs = []), 'spec.parentRefs: must list at least one parent (a Gateway, or a Service)'],
    ['a parent of another kind', (r) => (r.spec.parentRefs[0].kind = 'ListenerSet'), 'spec.parentRefs[0].kind: must be one of Gateway, Service (got "ListenerSet")'],
    ['a Gateway parent in another group', (r) => (r.spec.parentRefs[0].group = 'networking.istio.io'), 'spec.parentRefs[0].group: must be "gateway.networking.k8s.io" (or left out) for kind Gateway (got "networking.istio.io")'],
    ['a Service parent in the Gateway API group', (r) => (r.spec.parentRefs[0] = { group: 'gateway.networking.k8s.io', kind: 'Service', name: 'mcp-gateway' }), 'spec.parentRefs[0].group: must be "" (the core group, or left out) for kind Service (got "gateway.networking.k8s.io")'],
    ['a parent port 0', (r) => (r.spec.parentRefs[0].port = 0), 'spec.parentRefs[0].port: must be a port number from 1 to 65535'],
    ['an invalid parent name', (r) => (r.spec.parentRefs[0].name = 'Agent GW'), `spec.parentRefs[0].name: invalid name "Agent GW": must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit (e.g. "account-mcp")`],
    ['no rules', (r) => delete r.spec.rules, 'spec.rules: is required'],
    ['an empty rules list', (r) => (r.spec.rules = []), 'spec.rules: must list at least one rule'],
    ['a prefix path without a leading slash', (r) => (match(r).path.value = 'mcp/account'), 'spec.rules[0].matches[0].path.value: must start with "/" (got "mcp/account")'],
    ['an exact path without a leading slash', (r) => (match(r).path = { type: 'Exact', value: 'mcp' }), 'spec.rules[0].matches[0].path.value: must start with "/" (got "mcp")'],
    ['a defaulted-type path without a leading slash', (r) => (match(r).path = { value: 'mcp' }), 'spec.rules[0].matches[0].path.value: must start with "/" (got "mcp")'],
    [
      'a path regex that does not compile',
      (r) => (match(r).path = { type: 'RegularExpression', value: '/mcp/(account' }),
      'spec.rules[0].matches[0].path.value: is not a valid regular expression: Unterminated group',
    ],
    ['a path match type that does not exist', (r) => (match(r).path.type = 'Prefix'), 'spec.rules[0].matches[0].path.type: must be one of PathPrefix, Exact, RegularExpression (got "Prefix")'],
    [
      'a header name that is not an HTTP token',
      (r) => (match(r).headers = [{ name: 'x tenant', value: 'bank' }]),
      `spec.rules[0].matches[0].headers[0].name: invalid header name "x tenant": must be an HTTP token: letters, digits and !#$%&'*+-.^_\`|~ (e.g. "x-tenant")`,
    ],
    [
      'a header regex that does not compile',
      (r) => (match(r).headers = [{ type: 'RegularExpression', name: 'x-agent', value: '[bot' }]),
      'spec.rules[0].matches[0].headers[0].value: is not a valid regular expression: Unterminated character class',
    ],
    ['a header without a value', (r) => (match(r).headers = [{ name: 'x-tenant' }]), 'spec.rules[0].matches[0].headers[0].value: is required'],
    ['a lower-case method', (r) => (match(r).method = 'post'), 'spec.rules[0].matches[0].method: must be one of GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH (got "post")'],
    ['a query parameter match', (r) => (match(r).queryParams = [{ name: 'debug', value: '1' }]), 'spec.rules[0].matches[0].queryParams: is a Kubernetes field TrustUsBank does not support yet'],
    ['rule filters', (r) => (rule(r).filters = [{ type: 'RequestHeaderModifier' }]), 'spec.rules[0].filters: is a Kubernetes field TrustUsBank does not support yet'],
    ['rule timeouts', (r) => (rule(r).timeouts = { request: '10s' }), 'spec.rules[0].timeouts: is a Kubernetes field TrustUsBank does not support yet'],
    ['rule retries', (r) => (rule(r).retry = { attempts: 3 }), 'spec.rules[0].retry: is a Kubernetes field TrustUsBank does not support yet'],
    ['session persistence', (r) => (rule(r).sessionPersistence = { type: 'Cookie' }), 'spec.rules[0].sessionPersistence: is a Kubernetes field TrustUsBank does not support yet'],
    ['backendRef filters', (r) => (backend(r).filters = [{ type: 'RequestMirror' }]), 'spec.rules[0].backendRefs[0].filters: is a Kubernetes field TrustUsBank does not support yet'],
    ['a Service backend without a port', (r) => delete backend(r).port, 'spec.rules[0].backendRefs[0].port: is required for a Service backend'],
    [
      'a Service backend in the agentgateway group',
      (r) => (backend(r).group = 'agentgateway.dev'),
      'spec.rules[0].backendRefs[0].group: must be "" (the core group, or left out) for kind Service (got "agentgateway.dev") (set kind: AgentgatewayBackend for an agentgateway backend)',
    ],
    ['an AgentgatewayBackend without its group', (r) => (rule(r).backendRefs = [{ kind: 'AgentgatewayBackend', name: 'mcp-be' }]), 'spec.rules[0].backendRefs[0].group: must be "agentgateway.dev" for kind AgentgatewayBackend'],
    [
      'an AgentgatewayBackend in the core group',
      (r) => (rule(r).backendRefs = [{ group: '', kind: 'AgentgatewayBackend', name: 'mcp-be' }]),
      'spec.rules[0].backendRefs[0].group: must be "agentgateway.dev" for kind AgentgatewayBackend (got "")',
    ],
    [
      'an AgentgatewayBackend with a port',
      (r) => (rule(r).backendRefs = [{ group: 'agentgateway.dev', kind: 'AgentgatewayBackend', name: 'mcp-be', port: 3001 }]),
      'spec.rules[0].backendRefs[0].port: must not be set for an AgentgatewayBackend: its targets carry their own ports',
    ],
    ['a backend of another kind', (r) => (backend(r).kind = 'Backend'), 'spec.rules[0].backendRefs[0].kind: must be one of Service, AgentgatewayBackend (got "Backend")'],
    ['a negative weight', (r) => (backend(r).weight = -1), 'spec.rules[0].backendRefs[0].weight: must be at least 0'],
    ['a hostname that is an IP address', (r) => (r.spec.hostnames = ['10.0.0.1']), 'spec.hostnames[0]: invalid hostname "10.0.0.1": must be a DNS name, not an IP address'],
    [
      'an upper-case hostname',
      (r) => (r.spec.hostnames = ['MCP.example.com']),
      `spec.hostnames[0]: invalid hostname "MCP.example.com": must be a DNS name: lower-case letters, digits, '-' and '.', each label starting and ending with a letter or digit, optionally after a leading "*." (e.g. "mcp.trustusbank.local")`,
    ],
    ['a hostname given as a mapping', (r) => (r.spec.hostnames = [{ name: 'mcp.local' }]), 'spec.hostnames[0]: expected a string, got a mapping'],
  ])('refuses %s', (_description, edit, expected) => {
    expect(problemLines(routeFile(edit))).toEqual([`${SUBJECT}: ${expected}`]);
  });

  it('names a misspelt field and suggests the right one', () => {
    const text = routeFile((r) => ((r.spec.parentRef = r.spec.parentRefs), delete r.spec.parentRefs));
    expect(problemLines(text)).toEqual([`${SUBJECT}: spec.parentRefs: is required`, `${SUBJECT}: spec.parentRef: is not a field of HTTPRoute (did you mean "parentRefs"?)`]);
  });

  it('reports each problem once, so a wrong backend lists only what is wrong with it', () => {
    const text = routeFile((r) => (rule(r).backendRefs = [{ group: 'agentgateway.dev', name: 'mcp-be' }]));
    expect(problemLines(text)).toEqual([
      `${SUBJECT}: spec.rules[0].backendRefs[0].group: must be "" (the core group, or left out) for kind Service (got "agentgateway.dev") (set kind: AgentgatewayBackend for an agentgateway backend)`,
      `${SUBJECT}: spec.rules[0].backendRefs[0].port: is required for a Service backend`,
    ]);
  });
});
