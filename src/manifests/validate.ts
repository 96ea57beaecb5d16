// One YAML document → typed resources, or every problem with it. Pure: no files, no engine state.
import type { z } from 'zod';
import { UNKNOWN_FIELD, closestKey, isPlainObject } from './fields.ts';
import type { PathSegment } from './paths.ts';
import { kindDefinition, registeredKinds } from './registry.ts';
import type { KnownResource } from './types.ts';
import { describeValue, manifestErrorMap } from './zod-messages.ts';

/** A problem in a document, before the loader adds the file, the document index and the line. */
export interface DocumentProblem {
  segments: PathSegment[];
  message: string;
  kind?: string;
  namespace?: string;
  name?: string;
}

export interface DocumentResult {
  /** One resource, or the items of a `kind: List`; empty when there are problems. */
  resources: KnownResource[];
  problems: DocumentProblem[];
}

export const DEFAULT_NAMESPACE = 'default';

export function validateDocument(document: unknown): DocumentResult {
  const value = withoutNulls(document);
  if (isPlainObject(value) && value.kind === 'List' && value.apiVersion === 'v1') return validateList(value);
  return validateObject(value, []);
}

/**
 * `kind: List` is what `kubectl get -o yaml` prints for several objects; accepting it lets exported state be
 * applied again. Its own metadata is bookkeeping; its items are validated as documents of their own.
 */
function validateList(list: Record<string, unknown>): DocumentResult {
  const problems: DocumentProblem[] = [];
  for (const key of Object.keys(list)) {
    if (!['apiVersion', 'kind', 'metadata', 'items'].includes(key)) problems.push({ segments: [key], message: 'is not a field of List', kind: 'List' });
  }
  const items = list.items ?? [];
  if (!Array.isArray(items)) return { resources: [], problems: [...problems, { segments: ['items'], message: `expected a list, got ${describeValue(items)}`, kind: 'List' }] };
  const resources: KnownResource[] = [];
  items.forEach((item, i) => {
    if (isPlainObject(item) && item.kind === 'List') {
      problems.push({ segments: ['items', i, 'kind'], message: 'a List may not contain another List', kind: 'List' });
      return;
    }
    const result = validateObject(item, ['items', i]);
    resources.push(...result.resources);
    problems.push(...result.problems);
  });
  return problems.length > 0 ? { resources: [], problems } : { resources, problems };
}

function validateObject(value: unknown, prefix: PathSegment[]): DocumentResult {
  const fail = (problems: DocumentProblem[]): DocumentResult => ({ resources: [], problems });
  if (!isPlainObject(value)) {
    return fail([{ segments: prefix, message: `expected a Kubernetes object (a mapping with apiVersion, kind and metadata), got ${describeValue(value)}` }]);
  }
  const subject = subjectOf(value);
  const at = (segments: PathSegment[], message: string): DocumentProblem => ({ ...subject, segments: [...prefix, ...segments], message });

  const { apiVersion, kind } = value;
  const problems: DocumentProblem[] = [];
  if (typeof apiVersion !== 'string' || apiVersion === '') problems.push(at(['apiVersion'], apiVersion === undefined ? 'is required' : `expected a string, got ${describeValue(apiVersion)}`));
  if (typeof kind !== 'string' || kind === '') problems.push(at(['kind'], kind === undefined ? 'is required' : `expected a string, got ${describeValue(kind)}`));
  if (typeof kind !== 'string' || typeof apiVersion !== 'string' || problems.length > 0) return fail(problems);

  const definition = kindDefinition(kind);
  if (definition === undefined) return fail([at(['kind'], unknownKindMessage(kind))]);
  if (!definition.apiVersions.includes(apiVersion)) {
    return fail([at(['apiVersion'], `${apiVersion} is not a supported apiVersion for ${kind} (supported: ${definition.apiVersions.join(', ')})`)]);
  }
  const metadata = value.metadata;
  if (!definition.namespaced && isPlainObject(metadata) && metadata.namespace !== undefined) {
    problems.push(at(['metadata', 'namespace'], `must not be set: ${kind} is cluster-scoped`));
  }

  const parsed = definition.schema.safeParse(value, { error: manifestErrorMap, reportInput: true });
  if (!parsed.success) problems.push(...parsed.error.issues.map((issue) => at(issue.path as PathSegment[], messageOf(issue, kind))));
  if (problems.length > 0 || !parsed.success) return fail(problems);
  return { resources: [withDefaultNamespace(parsed.data, definition.namespaced)], problems: [] };
}

function messageOf(issue: z.core.$ZodIssue, kind: string): string {
  if (issue.code === 'custom' && issue.params?.reason === UNKNOWN_FIELD) {
    const suggestion = issue.params.suggestion as string | undefined;
    return `is not a field of ${kind}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`;
  }
  return issue.message;
}

/** What the document says it is, even when it is invalid, so every message can name the object. */
function subjectOf(value: Record<string, unknown>): Pick<DocumentProblem, 'kind' | 'namespace' | 'name'> {
  const kind = typeof value.kind === 'string' && value.kind !== '' ? value.kind : undefined;
  const metadata = isPlainObject(value.metadata) ? value.metadata : {};
  const name = typeof metadata.name === 'string' && metadata.name !== '' ? metadata.name : undefined;
  const namespaced = kind === undefined ? undefined : kindDefinition(kind)?.namespaced;
  let namespace = typeof metadata.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : undefined;
  // Name the object as it would be stored: in "default" when namespaced and unset, in no namespace when cluster-scoped.
  if (namespaced === true) namespace ??= DEFAULT_NAMESPACE;
  if (namespaced === false) namespace = undefined;
  return { kind, namespace: name === undefined ? undefined : namespace, name };
}

function unknownKindMessage(kind: string): string {
  const kinds = registeredKinds().map((definition) => definition.kind);
  const suggestion = closestKey(kind, kinds);
  return `unknown kind "${kind}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; TrustUsBank supports ${kinds.join(', ')}`;
}

/** As the API server does: a namespaced object without a namespace lands in "default". */
function withDefaultNamespace(resource: KnownResource, namespaced: boolean): KnownResource {
  if (!namespaced || resource.metadata.namespace !== undefined) return resource;
  const { name, ...rest } = resource.metadata;
  return { ...resource, metadata: { name, namespace: DEFAULT_NAMESPACE, ...rest } };
}

/**
 * Kubernetes decodes `key: null` (and a key with nothing after it) as an absent field; so do we. Inside
 * lists a null stays, and is reported where it is.
 */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => (item === null ? item : withoutNulls(item)));
  if (!isPlainObject(value)) return value;
  const result: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    // defineProperty, not assignment: a YAML key named __proto__ must stay a key (and be refused as unknown).
    if (field !== null) Object.defineProperty(result, key, { value: withoutNulls(field), enumerable: true, writable: true, configurable: true });
  }
  return result;
}
