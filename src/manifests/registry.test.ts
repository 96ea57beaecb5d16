import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { kubeObject, nonEmptyString } from './fields.ts';
import { parseManifests } from './load.ts';
import { kindByName, kindDefinition, registerKind, registeredKinds } from './registry.ts';
import { problemLines } from './testdata/support.ts';
import type { KnownKind, KnownResource } from './types.ts';

describe('kindByName', () => {
  it.each([
    ['deployment', 'Deployment'],
    ['deployments', 'Deployment'],
    ['deploy', 'Deployment'],
    ['Deployment', 'Deployment'],
    ['deployments.apps', 'Deployment'],
    ['deployments.v1.apps', 'Deployment'],
    ['svc', 'Service'],
    ['service', 'Service'],
    ['services', 'Service'],
    ['ns', 'Namespace'],
    ['namespace', 'Namespace'],
    ['namespaces', 'Namespace'],
    ['sa', 'ServiceAccount'],
    ['serviceaccount', 'ServiceAccount'],
    ['serviceaccounts', 'ServiceAccount'],
    ['authorizationpolicy', 'AuthorizationPolicy'],
    ['authorizationpolicies', 'AuthorizationPolicy'],
    ['authorizationpolicies.security.istio.io', 'AuthorizationPolicy'],
    ['ap', 'AuthorizationPolicy'],
    ['peerauthentication', 'PeerAuthentication'],
    ['peerauthentications', 'PeerAuthentication'],
    ['pa', 'PeerAuthentication'],
    ['gtw', 'Gateway'],
    ['httproute', 'HTTPRoute'],
    ['httproutes.gateway.networking.k8s.io', 'HTTPRoute'],
    ['refgrant', 'ReferenceGrant'],
    ['referencegrants', 'ReferenceGrant'],
    ['referencegrants.v1beta1.gateway.networking.k8s.io', 'ReferenceGrant'],
    ['referencegrants.v1.gateway.networking.k8s.io', 'ReferenceGrant'],
    ['agbe', 'AgentgatewayBackend'],
    ['agentgatewaybackends.agentgateway.dev', 'AgentgatewayBackend'],
    ['agpol', 'AgentgatewayPolicy'],
    ['agentgatewaypolicies', 'AgentgatewayPolicy'],
    ['eagpol', 'EnterpriseAgentgatewayPolicy'],
    ['enterpriseagentgatewaypolicies.enterpriseagentgateway.solo.io', 'EnterpriseAgentgatewayPolicy'],
    ['agents', 'Agent'],
    ['mc', 'ModelConfig'],
    ['rmcps', 'RemoteMCPServer'],
    ['accesspolicies', 'AccessPolicy'],
    ['cpol', 'ClusterPolicy'],
    ['clusterpolicies.kyverno.io', 'ClusterPolicy'],
  ])('reads %s as %s', (name, kind) => {
    expect(kindByName(name)).toBe(kind);
  });

  it.each(['pods', 'po', 'ingress', '', 'deployments.extensions', 'svc.apps', 'deploymentss'])('knows no kind called %j', (name) => {
    expect(kindByName(name)).toBeUndefined();
  });
});

describe('registerKind', () => {
  // A kind later work might add; it is not in types.ts, hence the casts.
  const widgetSchema = kubeObject({
    apiVersion: z.literal('example.trustusbank.io/v1alpha1'),
    kind: z.literal('Widget'),
    metadata: kubeObject({ name: nonEmptyString, namespace: z.string().optional() }),
    spec: kubeObject({ size: z.int() }),
  });
  registerKind({
    kind: 'Widget' as KnownKind,
    apiVersions: ['example.trustusbank.io/v1alpha1'],
    namespaced: true,
    schema: widgetSchema as unknown as z.ZodType<KnownResource>,
    shortNames: ['wd'],
  });

  it('makes a new kind loadable, nameable and listed in messages', () => {
    const [loaded] = parseManifests('apiVersion: example.trustusbank.io/v1alpha1\nkind: Widget\nmetadata: { name: w }\nspec: { size: 3 }\n', 'w.yaml');
    expect(loaded!.resource).toEqual({ apiVersion: 'example.trustusbank.io/v1alpha1', kind: 'Widget', metadata: { name: 'w', namespace: 'default' }, spec: { size: 3 } });
    expect(['widget', 'widgets', 'wd', 'widgets.example.trustusbank.io'].map(kindByName)).toEqual(['Widget', 'Widget', 'Widget', 'Widget']);
    expect(registeredKinds().map((definition) => definition.kind)).toContain('Widget');
    expect(problemLines('apiVersion: v1\nkind: Sprocket\nmetadata: { name: s }\n')).toEqual([
      'deploy/x.yaml: document 0 (Sprocket s): kind: unknown kind "Sprocket"; TrustUsBank supports AccessPolicy, Agent, AgentgatewayBackend, AgentgatewayPolicy, AuthorizationPolicy, ClusterPolicy, ConfigMap, Deployment, EnterpriseAgentgatewayPolicy, Gateway, HTTPRoute, ModelConfig, Namespace, PeerAuthentication, PrometheusRule, ReferenceGrant, RemoteMCPServer, Service, ServiceAccount, ServiceEntry, Widget',
    ]);
  });

  it('refuses a kind or a name registered twice', () => {
    const definition = kindDefinition('Widget')!;
    expect(() => registerKind(definition)).toThrow('kind Widget is already registered');
    expect(() => registerKind({ ...definition, kind: 'Gizmo' as KnownKind, shortNames: ['svc'] })).toThrow('name "svc" of kind Gizmo already names Service');
    expect(kindByName('gizmo')).toBeUndefined();
  });

  it('pre-registers the built-in kinds with their scope and apiVersions', () => {
    expect(
      registeredKinds()
        .filter((definition) => definition.kind !== ('Widget' as KnownKind))
        .map(({ kind, apiVersions, namespaced }) => ({ kind, apiVersions, namespaced })),
    ).toEqual([
      { kind: 'AccessPolicy', apiVersions: ['policy.kagent-enterprise.solo.io/v1alpha1'], namespaced: true },
      { kind: 'Agent', apiVersions: ['kagent.dev/v1alpha2'], namespaced: true },
      { kind: 'AgentgatewayBackend', apiVersions: ['agentgateway.dev/v1alpha1'], namespaced: true },
      { kind: 'AgentgatewayPolicy', apiVersions: ['agentgateway.dev/v1alpha1'], namespaced: true },
      { kind: 'AuthorizationPolicy', apiVersions: ['security.istio.io/v1', 'security.istio.io/v1beta1'], namespaced: true },
      { kind: 'ClusterPolicy', apiVersions: ['kyverno.io/v1'], namespaced: false },
      { kind: 'ConfigMap', apiVersions: ['v1'], namespaced: true },
      { kind: 'Deployment', apiVersions: ['apps/v1'], namespaced: true },
      { kind: 'EnterpriseAgentgatewayPolicy', apiVersions: ['enterpriseagentgateway.solo.io/v1alpha1'], namespaced: true },
      { kind: 'Gateway', apiVersions: ['gateway.networking.k8s.io/v1'], namespaced: true },
      { kind: 'HTTPRoute', apiVersions: ['gateway.networking.k8s.io/v1'], namespaced: true },
      { kind: 'ModelConfig', apiVersions: ['kagent.dev/v1alpha2', 'kagent.dev/v1alpha1'], namespaced: true },
      { kind: 'Namespace', apiVersions: ['v1'], namespaced: false },
      { kind: 'PeerAuthentication', apiVersions: ['security.istio.io/v1', 'security.istio.io/v1beta1'], namespaced: true },
      { kind: 'PrometheusRule', apiVersions: ['monitoring.coreos.com/v1'], namespaced: true },
      { kind: 'ReferenceGrant', apiVersions: ['gateway.networking.k8s.io/v1beta1', 'gateway.networking.k8s.io/v1'], namespaced: true },
      { kind: 'RemoteMCPServer', apiVersions: ['kagent.dev/v1alpha2', 'kagent.dev/v1alpha1'], namespaced: true },
      { kind: 'Service', apiVersions: ['v1'], namespaced: true },
      { kind: 'ServiceAccount', apiVersions: ['v1'], namespaced: true },
      { kind: 'ServiceEntry', apiVersions: ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'], namespaced: true },
    ]);
  });
});
