// Naming and printing resources, as kubectl does.
import { kindDefinition } from './registry.ts';
import type { KnownResource } from './types.ts';
import { DEFAULT_NAMESPACE } from './validate.ts';
import { toYaml } from './yaml-source.ts';

function isNamespaced(resource: KnownResource): boolean {
  // An unregistered kind can only come from code, not from a loaded file; its namespace says what it is.
  return kindDefinition(resource.kind)?.namespaced ?? resource.metadata.namespace !== undefined;
}

/** The identity of a resource in the desired state: `Kind/namespace/name`, or `Kind/name` when cluster-scoped. */
export function resourceKey(resource: KnownResource): string {
  const { kind, metadata } = resource;
  return isNamespaced(resource) ? `${kind}/${metadata.namespace ?? DEFAULT_NAMESPACE}/${metadata.name}` : `${kind}/${metadata.name}`;
}

/** For people: `Deployment trustusbank-bank-mcp/account-mcp`, `Namespace external-attacker`. */
export function describeResource(resource: KnownResource): string {
  const { kind, metadata } = resource;
  return isNamespaced(resource) ? `${kind} ${metadata.namespace ?? DEFAULT_NAMESPACE}/${metadata.name}` : `${kind} ${metadata.name}`;
}

export type OutputFormat = 'yaml' | 'json';

/**
 * `get -o yaml|json`. YAML: one document per resource, separated by `---`. JSON: the object itself for one
 * resource, otherwise a `kind: List` as kubectl prints it. Both read back through parseManifests.
 */
export function formatResources(resources: readonly KnownResource[], format: OutputFormat): string {
  if (format === 'yaml') return resources.map(toYaml).join('---\n');
  const value = resources.length === 1 ? resources[0] : { apiVersion: 'v1', kind: 'List', items: resources };
  return `${JSON.stringify(value, null, 2)}\n`;
}
