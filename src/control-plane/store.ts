// The control plane's store, as the Kubernetes API server with etcd behind it: the desired state (every applied
// resource, validated), what the generating controllers derive from it, and a watch. A change is all or nothing:
// every document of a batch is parsed and checked first, the batch is written to the persistent store, and only
// then does it take effect and the watchers hear of it. The store knows nothing of pods, addresses or policy
// enforcement: the controllers that own those watch it.
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from '../core/log.ts';
import { UserError } from '../core/errors.ts';
import { ManifestError, type ManifestIssue } from '../manifests/errors.ts';
import { describeResource, parseManifests, resourceKey } from '../manifests/index.ts';
import type { KnownResource, LoadedResource } from '../manifests/types.ts';
import { memoryDesiredState, type DesiredStateStore } from './desired-state.ts';

export type ChangeAction = 'created' | 'configured' | 'unchanged' | 'deleted' | 'not found';

export interface ResourceChange {
  key: string;
  description: string;
  action: ChangeAction;
}

/** Generates resources from the desired state, as a Kubernetes controller would; re-run on every change. */
export interface Controller {
  derive(resources: readonly KnownResource[]): { resources: LoadedResource[]; warnings: string[] };
  /** References the generated resources need, checked at apply so that nothing is half-applied. */
  check?(batch: readonly LoadedResource[], all: readonly KnownResource[]): ManifestIssue[];
}

/** An admission check over a batch and the resources it joins (what is applied and derived already). */
export type ResourceCheck = (batch: readonly LoadedResource[], visible: readonly LoadedResource[]) => ManifestIssue[];

/** What a watcher hears after each change: the resources that changed (derived ones included, by key). */
export interface StoreEvent {
  changes: readonly ResourceChange[];
  /** Keys of derived resources that appeared, changed or went away with this change. */
  derived: readonly string[];
}

export interface StoreOptions {
  log: Logger;
  /** Where applied resources are kept across restarts (default: in memory only). */
  persist?: DesiredStateStore;
  /** Generating controllers (Agent → Deployment, ...). */
  controllers?: readonly Controller[];
  /** Checks beyond the manifests' own schema and the namespace reference (an image must exist, ...). */
  checks?: readonly ResourceCheck[];
}

type Documents = readonly { file: string; text: string }[];

export class ResourceStore {
  private readonly applied = new Map<string, LoadedResource>();
  /** What the controllers generated from `applied`; a user's resource of the same key wins. */
  private derived = new Map<string, LoadedResource>();
  private derivedWarnings: string[] = [];
  private readonly watchers = new Set<(event: StoreEvent) => void>();
  private readonly persist: DesiredStateStore;

  constructor(private readonly options: StoreOptions) {
    this.persist = options.persist ?? memoryDesiredState();
  }

  /** Validate every document, then apply them all, or throw a ManifestError and change nothing. */
  apply(documents: Documents): ResourceChange[] {
    const loaded = this.parse(documents);
    this.validate(loaded, [...this.applied.values()], this.list());
    const changes = loaded.map(({ resource }) => this.changeTo(resource));
    // Stored before it takes effect: what runs is never ahead of what a restart would restore.
    this.persist.commit(loaded, []);
    for (const l of loaded) this.applied.set(resourceKey(l.resource), l);
    this.changed(changes);
    return changes;
  }

  /** Delete the resources the documents name (their content is validated too). */
  delete(documents: Documents): ResourceChange[] {
    const loaded = this.parse(documents);
    const changes: ResourceChange[] = loaded.map(({ resource }) => {
      const key = resourceKey(resource);
      return { key, description: describeResource(resource), action: this.applied.has(key) ? 'deleted' : 'not found' };
    });
    this.persist.commit([], changes.filter((c) => c.action === 'deleted').map((c) => c.key));
    for (const change of changes) this.applied.delete(change.key);
    this.changed(changes);
    return changes;
  }

  /**
   * Make these documents the whole desired state (`reset`): validated as a set on their own, as `up` applies
   * them to an empty cluster; everything else is deleted. All or nothing.
   */
  replaceAll(documents: Documents): ResourceChange[] {
    const loaded = this.parse(documents);
    this.validate(loaded, [], []);
    return this.replaceWith(loaded);
  }

  /**
   * The desired state a previous run stored, validated again and applied; undefined when none was stored.
   * A stored resource this version refuses stops the start, naming the store and the resource.
   */
  restore(): ResourceChange[] | undefined {
    const stored = this.persist.load();
    if (stored === undefined) return undefined;
    let loaded: LoadedResource[];
    try {
      // Each stored document holds one resource; it keeps the place it was first applied from.
      loaded = this.parse(stored.map((d) => ({ file: d.origin.file, text: d.text }))).map((l, i) => ({ resource: l.resource, origin: stored[i]!.origin }));
      this.validate(loaded, [], []);
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      throw new UserError(`the desired state stored in ${this.persist.location} is not valid for this version:\n${error.message}\nmove that file aside to start from the initial manifests`);
    }
    return this.replaceWith(loaded);
  }

  /** Every resource: applied ones and those the controllers generated (marked by their origin), by key. */
  list(kind?: string, namespace?: string): LoadedResource[] {
    return [...this.applied.values(), ...this.derived.values()]
      .filter(({ resource }) => (kind === undefined || resource.kind === kind) && (namespace === undefined || resource.metadata.namespace === namespace))
      .sort((a, b) => resourceKey(a.resource).localeCompare(resourceKey(b.resource)));
  }

  /** One resource by key (`Kind/namespace/name`), applied or derived. */
  get(key: string): LoadedResource | undefined {
    return this.applied.get(key) ?? this.derived.get(key);
  }

  /** The generating controllers' warnings from the last change. */
  get warnings(): readonly string[] {
    return this.derivedWarnings;
  }

  /** Hear of every change after it took effect; returns the way to stop. */
  watch(watcher: (event: StoreEvent) => void): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  /** Hear of every change that touched a resource of this kind, applied or derived; returns the way to stop. */
  watchKind(kind: string, watcher: () => void): () => void {
    return this.watch((event) => {
      if ([...event.changes.map((c) => c.key), ...event.derived].some((key) => key.startsWith(`${kind}/`))) watcher();
    });
  }

  close(): void {
    this.persist.close();
  }

  private replaceWith(loaded: LoadedResource[]): ResourceChange[] {
    const next = new Map(loaded.map((l) => [resourceKey(l.resource), l]));
    const changes = loaded.map(({ resource }) => this.changeTo(resource));
    for (const [key, { resource }] of this.applied) if (!next.has(key)) changes.push({ key, description: describeResource(resource), action: 'deleted' });
    this.persist.replace(loaded);
    this.applied.clear();
    for (const [key, l] of next) this.applied.set(key, l);
    this.changed(changes);
    return changes;
  }

  private changeTo(resource: KnownResource): ResourceChange {
    const key = resourceKey(resource);
    const previous = this.applied.get(key);
    return { key, description: describeResource(resource), action: !previous ? 'created' : isDeepStrictEqual(previous.resource, resource) ? 'unchanged' : 'configured' };
  }

  /** After a change took effect: log it (the audit trail the ledger reads), re-derive, tell the watchers. */
  private changed(changes: readonly ResourceChange[]): void {
    for (const change of changes) {
      if (change.action === 'created' || change.action === 'configured' || change.action === 'deleted') this.options.log.info('resource changed', { resource: change.key, action: change.action });
    }
    const derived = this.derive();
    const event: StoreEvent = { changes, derived };
    for (const watcher of this.watchers) watcher(event);
  }

  /** Re-run the generating controllers over the applied resources; the keys of derived resources that changed. */
  private derive(): string[] {
    const user = [...this.applied.values()].map((l) => l.resource);
    const next = new Map<string, LoadedResource>();
    const warnings: string[] = [];
    for (const controller of this.options.controllers ?? []) {
      const result = controller.derive(user);
      for (const l of result.resources) {
        const key = resourceKey(l.resource);
        if (!this.applied.has(key)) next.set(key, l);
      }
      warnings.push(...result.warnings);
    }
    const moved = [...new Set([...this.derived.keys(), ...next.keys()])].filter((key) => !isDeepStrictEqual(this.derived.get(key)?.resource, next.get(key)?.resource));
    this.derived = next;
    this.derivedWarnings = warnings;
    for (const warning of warnings) this.options.log.warn('controller warning', { warning });
    return moved;
  }

  /** References and the controllers' checks over a batch, against the resources it joins; throws a ManifestError. */
  private validate(loaded: LoadedResource[], applied: LoadedResource[], visible: LoadedResource[]): void {
    // In the batch's order, a resource's issues together, as one reads the files.
    const byResource = (issue: ManifestIssue): number => loaded.findIndex((l) => l.origin.file === issue.file && l.origin.index === issue.index && qualifiedName(l.resource) === issue.name);
    const issues = [...namespaceReferences(loaded, visible), ...(this.options.checks ?? []).flatMap((check) => check(loaded, visible))]
      .map((issue, i) => ({ issue, i, at: byResource(issue) }))
      .sort((a, b) => a.at - b.at || a.i - b.i)
      .map(({ issue }) => issue);
    if (issues.length === 0) {
      const all = [...new Map([...applied, ...loaded].map((l) => [resourceKey(l.resource), l.resource])).values()];
      for (const controller of this.options.controllers ?? []) issues.push(...(controller.check?.(loaded, all) ?? []));
    }
    if (issues.length > 0) throw new ManifestError(issues);
  }

  private parse(documents: Documents): LoadedResource[] {
    const loaded: LoadedResource[] = [];
    const issues: ManifestIssue[] = [];
    for (const document of documents) {
      try {
        loaded.push(...parseManifests(document.text, document.file));
      } catch (error) {
        if (error instanceof ManifestError) issues.push(...error.issues);
        else throw error;
      }
    }
    // The same resource twice in one batch is ambiguous (which one wins?): refuse it, naming both places.
    const seen = new Map<string, LoadedResource>();
    for (const l of loaded) {
      const key = resourceKey(l.resource);
      const first = seen.get(key);
      if (first) issues.push(issueOf(l, 'metadata.name', `${describeResource(l.resource)} is also defined in ${first.origin.file} document ${first.origin.index}`));
      else seen.set(key, l);
    }
    if (issues.length > 0) throw new ManifestError(issues);
    return loaded;
  }
}

/** A namespaced resource needs its Namespace, applied already or in the same batch. */
function namespaceReferences(loaded: readonly LoadedResource[], visible: readonly LoadedResource[]): ManifestIssue[] {
  const namespaces = new Set([...visible, ...loaded].filter((l) => l.resource.kind === 'Namespace').map((l) => l.resource.metadata.name));
  return loaded
    .filter(({ resource }) => resource.kind !== 'Namespace' && resource.metadata.namespace !== undefined && !namespaces.has(resource.metadata.namespace))
    .map((l) => issueOf(l, 'metadata.namespace', `namespace "${l.resource.metadata.namespace}" does not exist (apply it first, or in the same batch)`));
}

/** A manifest issue about one loaded resource, naming its file, document, kind and name. */
export function issueOf(l: LoadedResource, path: string, message: string): ManifestIssue {
  return { file: l.origin.file, index: l.origin.index, kind: l.resource.kind, name: qualifiedName(l.resource), path, message };
}

function qualifiedName(resource: KnownResource): string {
  return resource.metadata.namespace ? `${resource.metadata.namespace}/${resource.metadata.name}` : resource.metadata.name;
}
