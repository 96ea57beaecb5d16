import { describe, expect, it } from 'vitest';
import { parseManifests } from '../manifests/index.ts';
import { egressRegistry, meshConfigController, parseMeshConfig } from './mesh-config.ts';

const meshConfig = (mesh: string) => `apiVersion: v1
kind: ConfigMap
metadata: { name: istio, namespace: istio-system }
data:
  mesh: |
${mesh
  .split('\n')
  .map((line) => `    ${line}`)
  .join('\n')}
`;

describe('the mesh config', () => {
  it('reads outboundTrafficPolicy.mode, ALLOW_ANY when absent', () => {
    expect(parseMeshConfig('')).toEqual({ outboundMode: 'ALLOW_ANY' });
    expect(parseMeshConfig('outboundTrafficPolicy: { mode: REGISTRY_ONLY }')).toEqual({ outboundMode: 'REGISTRY_ONLY' });
  });

  it.each([
    ['outboundTrafficPolicy: { mode: DENY_ALL }', 'data.mesh.outboundTrafficPolicy.mode', 'must be one of ALLOW_ANY, REGISTRY_ONLY (got "DENY_ALL")'],
    ['accessLogFile: /dev/stdout', 'data.mesh.accessLogFile', 'does not support yet'],
    ['outboundTrafficPolicy: { mode: REGISTRY_ONLY, egressProxy: {} }', 'data.mesh.outboundTrafficPolicy.egressProxy', 'is not a known field'],
    ['outboundTrafficPolicy: [', 'data.mesh', 'is not YAML'],
  ])('refuses %s at apply, naming %s', (mesh, path, message) => {
    const batch = parseManifests(meshConfig(mesh), 'mesh.yaml');
    const issues = meshConfigController.check!(batch, batch.map((l) => l.resource));
    expect(issues).toEqual([expect.objectContaining({ file: 'mesh.yaml', index: 0, kind: 'ConfigMap', name: 'istio-system/istio', path, message: expect.stringContaining(message) })]);
  });

  it('leaves other ConfigMaps alone', () => {
    const batch = parseManifests(meshConfig('anything: goes').replace('name: istio,', 'name: other,'), 'other.yaml');
    expect(meshConfigController.check!(batch, [])).toEqual([]);
  });

  it('makes the egress registry from the mesh config and the ServiceEntries', () => {
    const resources = parseManifests(
      `${meshConfig('outboundTrafficPolicy: { mode: REGISTRY_ONLY }')}---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: model-providers, namespace: trustusbank-bank-agents }
spec:
  hosts: [api.anthropic.com]
  ports: [{ number: 443, name: https, protocol: TLS }]
  location: MESH_EXTERNAL
  resolution: DNS
  exportTo: ["."]
`,
      'egress.yaml',
    ).map((l) => l.resource);
    expect(egressRegistry(resources)).toEqual({
      mode: 'REGISTRY_ONLY',
      hosts: [{ entry: 'trustusbank-bank-agents/model-providers', namespace: 'trustusbank-bank-agents', hosts: ['api.anthropic.com'], addresses: [], ports: [443], exportedToAll: false }],
    });
    expect(egressRegistry([]).mode).toBe('ALLOW_ANY');
  });

  it('refuses a ServiceEntry it would not honour, naming the field', () => {
    const entry = (spec: string) => `apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: { name: e, namespace: ns }\nspec:\n${spec}`;
    expect(() => parseManifests(entry('  hosts: [a.example]\n  ports: [{ number: 443, name: https }]\n  location: MESH_INTERNAL\n'), 'e.yaml')).toThrow(/spec\.location.*MESH_INTERNAL is a Istio location TrustUsBank does not support yet/s);
    expect(() => parseManifests(entry('  hosts: [a.example]\n  ports: [{ number: 443, name: https }]\n  endpoints: [{ address: 1.2.3.4 }]\n'), 'e.yaml')).toThrow(/spec\.endpoints.*does not support yet/s);
    expect(() => parseManifests(entry('  hosts: ["1.2.3.4"]\n  ports: [{ number: 443, name: https }]\n'), 'e.yaml')).toThrow(/is an IP address: put it in addresses/);
    expect(() => parseManifests(entry('  hosts: [a.example]\n  ports: []\n'), 'e.yaml')).toThrow(/spec\.ports.*needs at least one port/s);
    expect(() => parseManifests(entry('  hosts: ["bad host"]\n  ports: [{ number: 443, name: https }]\n'), 'e.yaml')).toThrow(/is not a DNS name/);
  });
});
