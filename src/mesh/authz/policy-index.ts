// Which policies are in force where. A decision must not scan unrelated policies, so policies are indexed by
// namespace (root-namespace ones apart, since they apply mesh-wide) and by waypoint target, and the applicable
// set for a (namespace, label set) is computed once and cached until the policies change (a new index is built).
import { NO_POLICIES, type ApplicablePolicies, type CompiledPolicy } from './decide.ts';
import type { PolicyTarget, WorkloadRef } from './types.ts';

/** A ztunnel policy and the workloads it selects: its namespace and `selector.matchLabels`, if any. */
export interface WorkloadScopedPolicy {
  readonly policy: CompiledPolicy;
  readonly namespace: string;
  readonly matchLabels: readonly (readonly [string, string])[];
}

/** A waypoint policy and the target keys (see targetKey) its `targetRefs` bind to. */
export interface TargetedPolicy {
  readonly policy: CompiledPolicy;
  readonly targets: readonly string[];
}

/** Distinct workload label sets and target combinations are few in a mesh; the bound only guards misuse. */
const CACHE_LIMIT = 10_000;

/** GatewayClass is cluster-scoped, so its namespace is not part of the key. */
export function targetKey(target: PolicyTarget): string {
  return target.kind === 'GatewayClass' ? `GatewayClass//${target.name}` : `${target.kind}/${target.namespace}/${target.name}`;
}

function byAction(policies: readonly CompiledPolicy[]): ApplicablePolicies {
  if (policies.length === 0) return NO_POLICIES;
  const sorted = [...policies].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    custom: sorted.filter((policy) => policy.action === 'CUSTOM'),
    deny: sorted.filter((policy) => policy.action === 'DENY'),
    allow: sorted.filter((policy) => policy.action === 'ALLOW'),
    audit: sorted.filter((policy) => policy.action === 'AUDIT'),
  };
}

function selects(scoped: WorkloadScopedPolicy, labels: Readonly<Record<string, string>>): boolean {
  for (const [name, value] of scoped.matchLabels) if (labels[name] !== value) return false;
  return true;
}

function workloadKey(workload: WorkloadRef): string {
  const names = Object.keys(workload.labels);
  if (names.length === 0) return workload.namespace;
  names.sort();
  let key = workload.namespace;
  for (const name of names) key += `\u0000${name}=${workload.labels[name]}`;
  return key;
}

/** True if `labels` still holds exactly the pairs seen when it was cached (callers may reuse and mutate objects). */
function unchanged(snapshot: readonly (readonly [string, string])[], labels: Readonly<Record<string, string>>): boolean {
  let count = 0;
  for (const name in labels) {
    if (!Object.hasOwn(labels, name)) continue;
    count++;
  }
  if (count !== snapshot.length) return false;
  for (const [name, value] of snapshot) if (labels[name] !== value) return false;
  return true;
}

interface LabelsCacheEntry {
  readonly namespace: string;
  readonly snapshot: readonly (readonly [string, string])[];
  readonly applicable: ApplicablePolicies;
}

function remember<V>(cache: Map<string, V>, key: string, value: V): V {
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, value);
  return value;
}

export class PolicyIndex {
  readonly #root: readonly WorkloadScopedPolicy[];
  readonly #byNamespace = new Map<string, WorkloadScopedPolicy[]>();
  readonly #byTarget = new Map<string, CompiledPolicy[]>();
  readonly #workloadCache = new Map<string, ApplicablePolicies>();
  /** Fast path: callers usually pass the same labels object for a workload; checking it beats building a key. */
  readonly #byLabelsObject = new WeakMap<object, LabelsCacheEntry>();
  readonly #targetCache = new Map<string, ApplicablePolicies>();

  constructor(rootNamespace: string, workloadPolicies: readonly WorkloadScopedPolicy[], targetedPolicies: readonly TargetedPolicy[]) {
    const root: WorkloadScopedPolicy[] = [];
    for (const scoped of workloadPolicies) {
      if (scoped.namespace === rootNamespace) {
        root.push(scoped);
        continue;
      }
      const list = this.#byNamespace.get(scoped.namespace);
      if (list === undefined) this.#byNamespace.set(scoped.namespace, [scoped]);
      else list.push(scoped);
    }
    this.#root = root;
    for (const { policy, targets } of targetedPolicies) {
      for (const target of targets) {
        const list = this.#byTarget.get(target);
        if (list === undefined) this.#byTarget.set(target, [policy]);
        else list.push(policy);
      }
    }
  }

  /** The policies ztunnel enforces for a workload: root-namespace ones plus its own namespace's, by selector. */
  forWorkload(workload: WorkloadRef): ApplicablePolicies {
    const { namespace, labels } = workload;
    const seen = this.#byLabelsObject.get(labels);
    if (seen !== undefined && seen.namespace === namespace && unchanged(seen.snapshot, labels)) return seen.applicable;
    const applicable = this.#selectForWorkload(workload);
    this.#byLabelsObject.set(labels, { namespace, snapshot: Object.entries(labels), applicable });
    return applicable;
  }

  #selectForWorkload(workload: WorkloadRef): ApplicablePolicies {
    const key = workloadKey(workload);
    const cached = this.#workloadCache.get(key);
    if (cached !== undefined) return cached;
    const candidates = [...this.#root, ...(this.#byNamespace.get(workload.namespace) ?? [])];
    const selected = candidates.filter((scoped) => selects(scoped, workload.labels)).map((scoped) => scoped.policy);
    return remember(this.#workloadCache, key, byAction(selected));
  }

  /** The policies a waypoint enforces for a request: those bound to any of the targets it serves, once each. */
  forTargets(targets: readonly PolicyTarget[]): ApplicablePolicies {
    const keys = targets.map(targetKey);
    const cacheKey = keys.join('\u0000');
    const cached = this.#targetCache.get(cacheKey);
    if (cached !== undefined) return cached;
    const selected = new Set<CompiledPolicy>();
    for (const key of keys) for (const policy of this.#byTarget.get(key) ?? []) selected.add(policy);
    return remember(this.#targetCache, cacheKey, byAction([...selected]));
  }
}
