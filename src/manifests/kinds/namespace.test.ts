import { describe, expect, it } from 'vitest';
import { parseManifests } from '../load.ts';
import { problemLines } from '../testdata/support.ts';

describe('Namespace', () => {
  it('loads a Namespace with labels and no namespace of its own', () => {
    const text = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: external-attacker\n  labels: { istio.io/dataplane-mode: ambient }\n';
    expect(parseManifests(text, 'ns.yaml')).toEqual([
      { origin: { file: 'ns.yaml', index: 0 }, resource: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'external-attacker', labels: { 'istio.io/dataplane-mode': 'ambient' } } } },
    ]);
  });

  it.each([
    ['a namespace on a cluster-scoped kind', 'metadata: { name: bank, namespace: default }', 'deploy/x.yaml: document 0 (Namespace bank): metadata.namespace: must not be set: Namespace is cluster-scoped'],
    [
      'a name with dots (namespaces are DNS labels, not subdomains)',
      'metadata: { name: bank.mcp }',
      `deploy/x.yaml: document 0 (Namespace bank.mcp): metadata.name: invalid name "bank.mcp": must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit (e.g. "account-mcp")`,
    ],
    ['no name', 'metadata: { labels: { a: b } }', 'deploy/x.yaml: document 0 (Namespace): metadata.name: is required'],
    ['generateName', 'metadata: { name: a, generateName: bank- }', 'deploy/x.yaml: document 0 (Namespace a): metadata.generateName: is a Kubernetes field TrustUsBank does not support yet'],
  ])('refuses %s', (_description, metadata, expected) => {
    expect(problemLines(`apiVersion: v1\nkind: Namespace\n${metadata}\n`)).toEqual([expected]);
  });
});

describe('ServiceAccount', () => {
  it('loads a ServiceAccount and puts it in "default" when no namespace is given', () => {
    const [loaded] = parseManifests('apiVersion: v1\nkind: ServiceAccount\nmetadata: { name: account-mcp }\n', 'sa.yaml');
    expect(loaded!.resource).toEqual({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'account-mcp', namespace: 'default' } });
  });

  it('refuses token settings it does not implement', () => {
    const text = 'apiVersion: v1\nkind: ServiceAccount\nmetadata: { name: account-mcp, namespace: bank }\nautomountServiceAccountToken: false\n';
    expect(problemLines(text)).toEqual(['deploy/x.yaml: document 0 (ServiceAccount bank/account-mcp): automountServiceAccountToken: is a Kubernetes field TrustUsBank does not support yet']);
  });

  it('accepts an empty unsupported field: it asks for nothing', () => {
    const text = 'apiVersion: v1\nkind: ServiceAccount\nmetadata: { name: account-mcp, namespace: bank }\nimagePullSecrets: []\nsecrets:\n';
    expect(parseManifests(text, 'sa.yaml')[0]!.resource).toEqual({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'account-mcp', namespace: 'bank' } });
  });
});
