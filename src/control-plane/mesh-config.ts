// The mesh config, where Istio keeps it: the `mesh` key of ConfigMap `istio` in `istio-system`. TrustUsBank
// reads one setting of it, `outboundTrafficPolicy.mode` (ALLOW_ANY, Istio's default, or REGISTRY_ONLY), and
// refuses anything else in it at apply time rather than ignore it. With the ServiceEntries, it makes the
// egress registry ztunnel checks a destination outside the mesh against.
import { parse as parseYaml } from 'yaml';
import type { ManifestIssue } from '../manifests/errors.ts';
import type { ConfigMap, KnownResource, LoadedResource, ServiceEntry } from '../manifests/types.ts';
import type { OutboundMode, RegisteredHost } from '../mesh/ztunnel/egress.ts';
import type { Controller } from './engine.ts';

export const MESH_CONFIG_NAMESPACE = 'istio-system';
export const MESH_CONFIG_NAME = 'istio';
const MESH_KEY = 'mesh';

/** The mesh config's text, parsed: the outbound mode, or what is wrong and where (a path under `data.mesh`). */
export function parseMeshConfig(text: string): { outboundMode: OutboundMode } | { path: string; message: string } {
  let config: unknown;
  try {
    config = parseYaml(text) ?? {};
  } catch (error) {
    return { path: `data.${MESH_KEY}`, message: `is not YAML: ${(error as Error).message.split('\n')[0]}` };
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) return { path: `data.${MESH_KEY}`, message: 'must be a YAML mapping' };
  for (const key of Object.keys(config)) {
    if (key !== 'outboundTrafficPolicy') return { path: `data.${MESH_KEY}.${key}`, message: 'is an Istio mesh setting TrustUsBank does not support yet (supported: outboundTrafficPolicy)' };
  }
  const policy = (config as { outboundTrafficPolicy?: unknown }).outboundTrafficPolicy;
  if (policy === undefined) return { outboundMode: 'ALLOW_ANY' };
  if (typeof policy !== 'object' || policy === null || Array.isArray(policy)) return { path: `data.${MESH_KEY}.outboundTrafficPolicy`, message: 'must be a mapping with a mode' };
  for (const key of Object.keys(policy)) {
    if (key !== 'mode') return { path: `data.${MESH_KEY}.outboundTrafficPolicy.${key}`, message: 'is not a known field (supported: mode)' };
  }
  const mode = (policy as { mode?: unknown }).mode ?? 'ALLOW_ANY';
  if (mode !== 'ALLOW_ANY' && mode !== 'REGISTRY_ONLY') return { path: `data.${MESH_KEY}.outboundTrafficPolicy.mode`, message: `must be one of ALLOW_ANY, REGISTRY_ONLY (got ${JSON.stringify(mode)})` };
  return { outboundMode: mode };
}

function isMeshConfig(resource: KnownResource): resource is ConfigMap {
  return resource.kind === 'ConfigMap' && resource.metadata.namespace === MESH_CONFIG_NAMESPACE && resource.metadata.name === MESH_CONFIG_NAME;
}

/** Checks the mesh config at apply time, so a bad one is refused whole; it generates nothing. */
export const meshConfigController: Controller = {
  derive: () => ({ resources: [], warnings: [] }),
  check(batch: readonly LoadedResource[]): ManifestIssue[] {
    const issues: ManifestIssue[] = [];
    for (const { resource, origin } of batch) {
      if (!isMeshConfig(resource)) continue;
      const parsed = parseMeshConfig(resource.data?.[MESH_KEY] ?? '');
      if ('path' in parsed) issues.push({ file: origin.file, index: origin.index, kind: 'ConfigMap', name: `${MESH_CONFIG_NAMESPACE}/${MESH_CONFIG_NAME}`, path: parsed.path, message: parsed.message });
    }
    return issues;
  },
};

/** The outbound mode and the ServiceEntries, as ztunnel's egress check needs them. */
export function egressRegistry(resources: readonly KnownResource[]): { mode: OutboundMode; hosts: RegisteredHost[] } {
  const meshConfig = resources.find(isMeshConfig);
  const parsed = meshConfig ? parseMeshConfig(meshConfig.data?.[MESH_KEY] ?? '') : { outboundMode: 'ALLOW_ANY' as const };
  // An invalid mesh config never gets past apply; were it here, the safer reading is REGISTRY_ONLY.
  const mode: OutboundMode = 'outboundMode' in parsed ? parsed.outboundMode : 'REGISTRY_ONLY';
  const hosts = resources
    .filter((r): r is ServiceEntry => r.kind === 'ServiceEntry')
    .map((entry) => ({
      entry: `${entry.metadata.namespace}/${entry.metadata.name}`,
      namespace: entry.metadata.namespace!,
      hosts: entry.spec.hosts.map((h) => h.toLowerCase()),
      addresses: entry.spec.addresses ?? [],
      ports: entry.spec.ports.map((p) => p.number),
      exportedToAll: !(entry.spec.exportTo ?? ['*']).every((scope) => scope === '.'),
    }));
  return { mode, hosts };
}
