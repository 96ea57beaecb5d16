import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseManifests } from '../load.ts';
import { editedDocument, problemLines, readTestdata, type YamlObject } from '../testdata/support.ts';

const WAYPOINT = readFileSync(new URL('../../../deploy/manifests/waypoints/trustusbank-waypoint.yaml', import.meta.url), 'utf8');

describe('Gateway', () => {
  it('loads the bank waypoint (class istio-waypoint, an HBONE listener)', () => {
    const [loaded] = parseManifests(WAYPOINT, 'deploy/waypoint.yaml');
    expect(loaded!.resource).toEqual({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'trustusbank-waypoint', namespace: 'trustusbank-platform', labels: { 'istio.io/waypoint-for': 'service' } },
      spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
    });
  });

  it.each([
    ['another class', WAYPOINT.replace('gatewayClassName: istio-waypoint', 'gatewayClassName: nginx'), 'spec.gatewayClassName: must be one of istio-waypoint, agentgateway, enterprise-agentgateway-waypoint (got "nginx")'],
    ['an HTTP listener', WAYPOINT.replace('protocol: HBONE', 'protocol: HTTP'), 'spec.listeners[0].protocol: must be HBONE for class istio-waypoint (got "HTTP")'],
    ['no listener', WAYPOINT.replace(/ {2}listeners:[\s\S]*$/, '  listeners: []\n'), 'spec.listeners: '],
    ['addresses', WAYPOINT + '  addresses: [{ value: 10.0.0.1 }]\n', 'spec.addresses: is a Kubernetes field TrustUsBank does not support yet'],
  ])('refuses %s, naming the field', (_what, text, expected) => {
    const [problem] = problemLines(text);
    expect(problem).toContain('document 0 (Gateway trustusbank-platform/trustusbank-waypoint)');
    expect(problem).toContain(expected);
  });

  it.each<[string, (g: YamlObject) => void, string]>([
    ['two listeners with one name', (g) => g.spec.listeners.push({ name: 'mesh', port: 15009, protocol: 'HBONE' }), 'spec.listeners[1].name: duplicates the name of listeners[0]'],
    ['two listeners on one port', (g) => g.spec.listeners.push({ name: 'mesh2', port: 15008, protocol: 'HBONE' }), 'spec.listeners[1].port: duplicates port 15008 of listeners[0]'],
    ['a listener protocol Gateway API has but TrustUsBank does not', (g) => (g.spec.listeners[0].protocol = 'HTTPS'), 'spec.listeners[0].protocol: HTTPS is a Kubernetes listener protocol TrustUsBank does not support yet (supported: HBONE, HTTP)'],
    ['a listener hostname', (g) => (g.spec.listeners[0].hostname = 'mesh.local'), 'spec.listeners[0].hostname: is a Kubernetes field TrustUsBank does not support yet'],
  ])('refuses %s', (_what, edit, expected) => {
    expect(problemLines(editedDocument('../../../deploy/manifests/waypoints/trustusbank-waypoint.yaml', 0, edit))).toEqual([
      `deploy/x.yaml: document 0 (Gateway trustusbank-platform/trustusbank-waypoint): ${expected}`,
    ]);
  });
});

describe('Gateway of the agentgateway classes', () => {
  const SUBJECT = 'deploy/x.yaml: document 0 (Gateway trustusbank-platform/trustusbank-agentgw)';

  /** The bank's MCP gateway (class agentgateway, one HTTP listener), changed by `edit`. */
  function agentgatewayFile(edit: (gateway: YamlObject) => void): string {
    return editedDocument('agentgateway.yaml', 0, edit);
  }

  it('loads the MCP gateway (class agentgateway) and an agentgateway waypoint (HBONE and HTTP listeners)', () => {
    const loaded = parseManifests(readTestdata('agentgateway.yaml'), 'agentgateway.yaml');
    expect(loaded[0]!.resource).toEqual({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'trustusbank-agentgw', namespace: 'trustusbank-platform' },
      spec: { gatewayClassName: 'agentgateway', listeners: [{ name: 'mcp', port: 8080, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Same' } } }] },
    });
    expect(loaded[3]!.resource).toEqual({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'agw-waypoint', namespace: 'ai-tools', labels: { 'istio.io/waypoint-for': 'service' } },
      spec: {
        gatewayClassName: 'enterprise-agentgateway-waypoint',
        listeners: [
          { name: 'mesh', port: 15008, protocol: 'HBONE' },
          { name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } },
        ],
      },
    });
  });

  it('leaves defaults to the reader: no allowedRoutes stays absent', () => {
    const text = agentgatewayFile((g) => delete g.spec.listeners[0].allowedRoutes);
    expect(parseManifests(text, 'x.yaml')[0]!.resource).toMatchObject({ spec: { listeners: [{ name: 'mcp', port: 8080, protocol: 'HTTP' }] } });
    expect(JSON.stringify(parseManifests(text, 'x.yaml')[0]!.resource)).not.toContain('allowedRoutes');
  });

  it.each<[string, (g: YamlObject) => void, string]>([
    ['an HBONE listener on class agentgateway', (g) => (g.spec.listeners[0].protocol = 'HBONE'), 'spec.listeners[0].protocol: must be HTTP for class agentgateway (got "HBONE")'],
    [
      'an agentgateway waypoint without an HTTP listener',
      (g) => ((g.spec.gatewayClassName = 'enterprise-agentgateway-waypoint'), (g.spec.listeners = [{ name: 'mesh', port: 15008, protocol: 'HBONE' }])),
      'spec.listeners: needs at least one HTTP listener for class enterprise-agentgateway-waypoint',
    ],
    ['two listeners with one name', (g) => g.spec.listeners.push({ name: 'mcp', port: 8081, protocol: 'HTTP' }), 'spec.listeners[1].name: duplicates the name of listeners[0]'],
    ['two listeners on one port', (g) => g.spec.listeners.push({ name: 'admin', port: 8080, protocol: 'HTTP' }), 'spec.listeners[1].port: duplicates port 8080 of listeners[0]'],
    ['routes from a namespace selector', (g) => (g.spec.listeners[0].allowedRoutes.namespaces.from = 'Selector'), 'spec.listeners[0].allowedRoutes.namespaces.from: Selector is a Kubernetes allowedRoutes.namespaces.from value TrustUsBank does not support yet (supported: Same, All)'],
    ['routes from a made-up value', (g) => (g.spec.listeners[0].allowedRoutes.namespaces.from = 'Any'), 'spec.listeners[0].allowedRoutes.namespaces.from: must be one of Same, All (got "Any")'],
    ['allowedRoutes.namespaces without from', (g) => (g.spec.listeners[0].allowedRoutes.namespaces = {}), 'spec.listeners[0].allowedRoutes.namespaces.from: is required'],
    ['a listener without a protocol', (g) => delete g.spec.listeners[0].protocol, 'spec.listeners[0].protocol: is required'],
    ['a namespace selector', (g) => (g.spec.listeners[0].allowedRoutes.namespaces.selector = { matchLabels: { team: 'bank' } }), 'spec.listeners[0].allowedRoutes.namespaces.selector: is a Kubernetes field TrustUsBank does not support yet'],
    ['allowedRoutes.kinds', (g) => (g.spec.listeners[0].allowedRoutes.kinds = [{ kind: 'GRPCRoute' }]), 'spec.listeners[0].allowedRoutes.kinds: is a Kubernetes field TrustUsBank does not support yet'],
    ['listener TLS', (g) => (g.spec.listeners[0].tls = { mode: 'Terminate' }), 'spec.listeners[0].tls: is a Kubernetes field TrustUsBank does not support yet'],
  ])('refuses %s', (_what, edit, expected) => {
    expect(problemLines(agentgatewayFile(edit))).toEqual([`${SUBJECT}: ${expected}`]);
  });
});
