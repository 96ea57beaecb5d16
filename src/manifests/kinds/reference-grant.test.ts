import { describe, expect, it } from 'vitest';
import { parseManifests } from '../load.ts';
import { problemLines, type YamlObject } from '../testdata/support.ts';
import type { ReferenceGrant } from '../types.ts';
import { toYaml } from '../yaml-source.ts';

const SUBJECT = 'deploy/x.yaml: document 0 (ReferenceGrant trustusbank-bank-mcp/platform-routes)';

const GRANT = [
  'apiVersion: gateway.networking.k8s.io/v1beta1',
  'kind: ReferenceGrant',
  'metadata:',
  '  name: platform-routes',
  '  namespace: trustusbank-bank-mcp',
  'spec:',
  '  from:',
  '    - group: gateway.networking.k8s.io',
  '      kind: HTTPRoute',
  '      namespace: trustusbank-platform',
  '  to:',
  '    - group: ""',
  '      kind: Service',
  '',
].join('\n');

/** The grant above (HTTPRoutes in trustusbank-platform may reference Services here), changed by `edit`. */
function grantFile(edit: (grant: YamlObject) => void): string {
  const [loaded] = parseManifests(GRANT, 'grant.yaml');
  const grant = structuredClone(loaded!.resource) as YamlObject;
  edit(grant);
  return toYaml(grant);
}

const from = (g: YamlObject) => g.spec.from[0];
const to = (g: YamlObject) => g.spec.to[0];

describe('ReferenceGrant', () => {
  it('loads a grant letting HTTPRoutes in another namespace reference Services here; what was left out stays out', () => {
    const [loaded] = parseManifests(GRANT, 'grant.yaml');
    expect(loaded!.resource).toEqual<ReferenceGrant>({
      apiVersion: 'gateway.networking.k8s.io/v1beta1',
      kind: 'ReferenceGrant',
      metadata: { name: 'platform-routes', namespace: 'trustusbank-bank-mcp' },
      spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'trustusbank-platform' }], to: [{ group: '', kind: 'Service' }] },
    });
    expect(Object.keys((loaded!.resource as ReferenceGrant).spec.to[0]!)).toEqual(['group', 'kind']);
  });

  it('accepts apiVersion v1, named targets and AgentgatewayBackends', () => {
    const spec = {
      from: [
        { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'trustusbank-platform' },
        { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'ai-tools' },
      ],
      to: [
        { group: '', kind: 'Service', name: 'account-mcp' },
        { group: 'agentgateway.dev', kind: 'AgentgatewayBackend', name: 'mcp-be' },
        { group: 'agentgateway.dev', kind: 'AgentgatewayBackend' },
      ],
    };
    const [loaded] = parseManifests(grantFile((g) => ((g.apiVersion = 'gateway.networking.k8s.io/v1'), (g.spec = spec))), 'x.yaml');
    expect(loaded!.resource).toEqual({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'ReferenceGrant', metadata: { name: 'platform-routes', namespace: 'trustusbank-bank-mcp' }, spec });
  });

  it.each<[string, (g: YamlObject) => void, string]>([
    [
      'an old apiVersion',
      (g) => (g.apiVersion = 'gateway.networking.k8s.io/v1alpha2'),
      'apiVersion: gateway.networking.k8s.io/v1alpha2 is not a supported apiVersion for ReferenceGrant (supported: gateway.networking.k8s.io/v1beta1, gateway.networking.k8s.io/v1)',
    ],
    ['no spec', (g) => delete g.spec, 'spec: is required'],
    ['no from', (g) => delete g.spec.from, 'spec.from: is required'],
    ['an empty from', (g) => (g.spec.from = []), 'spec.from: must list at least one trusted namespace and kind'],
    ['no to', (g) => delete g.spec.to, 'spec.to: is required'],
    ['an empty to', (g) => (g.spec.to = []), 'spec.to: must list at least one kind that may be referenced'],
    ['a from without a group', (g) => delete from(g).group, 'spec.from[0].group: is required'],
    ['a from in the core group', (g) => (from(g).group = ''), 'spec.from[0].group: must be "gateway.networking.k8s.io" for kind HTTPRoute (got "")'],
    ['a from in another group', (g) => (from(g).group = 'networking.istio.io'), 'spec.from[0].group: must be "gateway.networking.k8s.io" for kind HTTPRoute (got "networking.istio.io")'],
    ['a GRPCRoute from', (g) => (from(g).kind = 'GRPCRoute'), 'spec.from[0].kind: GRPCRoute is a Kubernetes ReferenceGrant from kind TrustUsBank does not support yet (supported: HTTPRoute)'],
    ['a TLSRoute from', (g) => (from(g).kind = 'TLSRoute'), 'spec.from[0].kind: TLSRoute is a Kubernetes ReferenceGrant from kind TrustUsBank does not support yet (supported: HTTPRoute)'],
    ['a TCPRoute from', (g) => (from(g).kind = 'TCPRoute'), 'spec.from[0].kind: TCPRoute is a Kubernetes ReferenceGrant from kind TrustUsBank does not support yet (supported: HTTPRoute)'],
    ['a UDPRoute from', (g) => (from(g).kind = 'UDPRoute'), 'spec.from[0].kind: UDPRoute is a Kubernetes ReferenceGrant from kind TrustUsBank does not support yet (supported: HTTPRoute)'],
    ['a from of another kind', (g) => (from(g).kind = 'Deployment'), 'spec.from[0].kind: must be one of HTTPRoute (got "Deployment")'],
    ['a from without a namespace', (g) => delete from(g).namespace, 'spec.from[0].namespace: is required'],
    [
      'a from namespace that is not a DNS-1123 label',
      (g) => (from(g).namespace = 'trustusbank.platform'),
      `spec.from[0].namespace: invalid namespace "trustusbank.platform": must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit (e.g. "account-mcp")`,
    ],
    ['a to without a group', (g) => delete to(g).group, 'spec.to[0].group: is required'],
    [
      'a Service to in the agentgateway group',
      (g) => (to(g).group = 'agentgateway.dev'),
      'spec.to[0].group: must be "" (the core group) for kind Service (got "agentgateway.dev") (set kind: AgentgatewayBackend for an agentgateway backend)',
    ],
    ['a Service to in another group', (g) => (to(g).group = 'v1'), 'spec.to[0].group: must be "" (the core group) for kind Service (got "v1")'],
    [
      'an AgentgatewayBackend to in the core group',
      (g) => (g.spec.to = [{ group: '', kind: 'AgentgatewayBackend' }]),
      'spec.to[0].group: must be "agentgateway.dev" for kind AgentgatewayBackend (got "")',
    ],
    ['a to of another kind', (g) => (to(g).kind = 'Secret'), 'spec.to[0].kind: must be one of Service, AgentgatewayBackend (got "Secret")'],
    [
      'a to name that is not a DNS-1123 subdomain',
      (g) => (to(g).name = 'Account_MCP'),
      `spec.to[0].name: invalid name "Account_MCP": must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit (e.g. "account-mcp")`,
    ],
    // The referenced objects are always in the grant's own namespace.
    ['a to namespace', (g) => (to(g).namespace = 'trustusbank-platform'), 'spec.to[0].namespace: is not a field of ReferenceGrant'],
    ['a misspelt field', (g) => (from(g).namepsace = from(g).namespace), 'spec.from[0].namepsace: is not a field of ReferenceGrant (did you mean "namespace"?)'],
  ])('refuses %s', (_description, edit, expected) => {
    expect(problemLines(grantFile(edit))).toEqual([`${SUBJECT}: ${expected}`]);
  });

  it('is namespaced: a grant without a namespace lands in "default"', () => {
    const [loaded] = parseManifests(grantFile((g) => delete g.metadata.namespace), 'x.yaml');
    expect(loaded!.resource.metadata).toEqual({ name: 'platform-routes', namespace: 'default' });
  });
});
