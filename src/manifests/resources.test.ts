import { describe, expect, it } from 'vitest';
import { parseManifests } from './load.ts';
import { describeResource, formatResources, resourceKey } from './resources.ts';
import { readTestdata } from './testdata/support.ts';
import type { KnownResource } from './types.ts';

const resources = parseManifests(readTestdata('bank-mcp.yaml') + '---\n' + readTestdata('policies.yaml'), 'all.yaml').map((loaded) => loaded.resource);
const byKind = (kind: string) => resources.find((resource) => resource.kind === kind)!;

describe('resourceKey and describeResource', () => {
  it.each([
    ['Deployment', 'Deployment/trustusbank-bank-mcp/account-mcp', 'Deployment trustusbank-bank-mcp/account-mcp'],
    ['Service', 'Service/trustusbank-bank-mcp/account-mcp', 'Service trustusbank-bank-mcp/account-mcp'],
    ['ServiceAccount', 'ServiceAccount/trustusbank-bank-mcp/account-mcp', 'ServiceAccount trustusbank-bank-mcp/account-mcp'],
    ['Namespace', 'Namespace/external-attacker', 'Namespace external-attacker'],
    ['AuthorizationPolicy', 'AuthorizationPolicy/external-attacker/deny-bank-to-attacker', 'AuthorizationPolicy external-attacker/deny-bank-to-attacker'],
    ['PeerAuthentication', 'PeerAuthentication/trustusbank-bank-mcp/default', 'PeerAuthentication trustusbank-bank-mcp/default'],
  ])('%s', (kind, key, description) => {
    expect(resourceKey(byKind(kind))).toBe(key);
    expect(describeResource(byKind(kind))).toBe(description);
  });

  it('puts a namespaced resource built in code without a namespace in "default"', () => {
    const account: KnownResource = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'a' } };
    expect([resourceKey(account), describeResource(account)]).toEqual(['ServiceAccount/default/a', 'ServiceAccount default/a']);
  });
});

describe('formatResources', () => {
  it('prints YAML documents separated by ---, in the order of the manifests', () => {
    const yaml = formatResources([byKind('Namespace'), byKind('PeerAuthentication')], 'yaml');
    expect(yaml).toBe(
      [
        'apiVersion: v1',
        'kind: Namespace',
        'metadata:',
        '  name: external-attacker',
        '  labels:',
        '    istio.io/dataplane-mode: ambient',
        '---',
        'apiVersion: security.istio.io/v1beta1',
        'kind: PeerAuthentication',
        'metadata:',
        '  name: default',
        '  namespace: trustusbank-bank-mcp',
        'spec:',
        '  mtls:',
        '    mode: STRICT',
        '',
      ].join('\n'),
    );
  });

  it('prints one object as itself in JSON, and several as a List', () => {
    expect(JSON.parse(formatResources([byKind('Namespace')], 'json'))).toEqual(byKind('Namespace'));
    expect(JSON.parse(formatResources(resources, 'json'))).toEqual({ apiVersion: 'v1', kind: 'List', items: resources });
    expect(JSON.parse(formatResources([], 'json'))).toEqual({ apiVersion: 'v1', kind: 'List', items: [] });
    expect(formatResources([], 'yaml')).toBe('');
  });

  it.each(['yaml', 'json'] as const)('writes %s that loads back to the same resources', (format) => {
    expect(parseManifests(formatResources(resources, format), 'out').map((loaded) => loaded.resource)).toEqual(resources);
  });

  it('quotes strings YAML would read as something else', () => {
    const account: KnownResource = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'a', namespace: 'b', labels: { enabled: 'yes', short: 'y', mode: '0755' } } };
    const yaml = formatResources([account], 'yaml');
    expect(yaml).toContain('enabled: "yes"');
    expect(parseManifests(yaml, 'out')[0]!.resource).toEqual(account);
  });
});
