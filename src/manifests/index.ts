// The manifest layer: YAML → validated Kubernetes/Istio resources, with errors that name file, document
// and field. Pure: no engine state, no network; the only I/O is reading the files a caller names.
export type * from './types.ts';
export { ManifestError, formatIssue, type ManifestIssue } from './errors.ts';
export { loadManifestPath, loadManifestPaths, manifestFiles, parseManifests, readManifestDocuments } from './load.ts';
export { kindByName, kindDefinition, registerKind, registeredKinds, type KindDefinition } from './registry.ts';
export { describeResource, formatResources, resourceKey, type OutputFormat } from './resources.ts';
export { validateDocument, DEFAULT_NAMESPACE, type DocumentProblem, type DocumentResult } from './validate.ts';
export { parseImageReference, type ImageReference } from './image-reference.ts';
export { authorizationPolicyAction } from './kinds/authorization-policy.ts';
export { kubeObject, type FieldPolicy } from './fields.ts';
