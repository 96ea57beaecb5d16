// The AuthorizationPolicy engine: holds the applied policies and answers allow/deny for a ztunnel (L4, per
// destination workload) or a waypoint (L7, per target). Pure: no I/O, no clock, no logging.
import { decide, type ApplicablePolicies } from './decide.ts';
import { loadPolicies } from './load.ts';
import { PolicyIndex } from './policy-index.ts';
import { RequestView } from './request-view.ts';
import type { ConnectionAttributes, Decision, PolicyRef, PolicyTarget, PolicyWarning, WorkloadRef } from './types.ts';

export const DEFAULT_ROOT_NAMESPACE = 'istio-system';

export interface AuthorizationPolicyEngineOptions {
  /** Istio's root namespace (MeshConfig rootNamespace): its policies apply mesh-wide. */
  rootNamespace?: string;
}

function keysOf(applicable: ApplicablePolicies): string[] {
  return [...applicable.custom, ...applicable.deny, ...applicable.allow, ...applicable.audit].map((policy) => policy.key).sort();
}

export class AuthorizationPolicyEngine {
  readonly rootNamespace: string;
  #index: PolicyIndex;

  constructor(options: AuthorizationPolicyEngineOptions = {}) {
    this.rootNamespace = options.rootNamespace ?? DEFAULT_ROOT_NAMESPACE;
    this.#index = new PolicyIndex(this.rootNamespace, [], []);
  }

  /**
   * Replaces every policy at once (the previous set stays in force until the new one is fully built) and returns
   * the warnings to show at apply time.
   */
  setPolicies(policies: readonly PolicyRef[]): PolicyWarning[] {
    const loaded = loadPolicies(policies, this.rootNamespace);
    this.#index = loaded.index;
    return loaded.warnings;
  }

  /** ztunnel's decision for a connection to `workload`: L4 only, so `attributes.http` is never looked at. */
  evaluate(workload: WorkloadRef, attributes: ConnectionAttributes): Decision {
    return decide(this.#index.forWorkload(workload), new RequestView(attributes));
  }

  /**
   * A waypoint's decision for a request to the given targets (typically the destination Service and the waypoint's
   * own Gateway): every policy bound to any of them applies. Without `attributes.http` the waypoint sees plain TCP.
   */
  evaluateAtWaypoint(targets: readonly PolicyTarget[], attributes: ConnectionAttributes): Decision {
    return decide(this.#index.forTargets(targets), new RequestView(attributes));
  }

  /** `<namespace>/<name>` of every policy ztunnel enforces for the workload, sorted. */
  policiesFor(workload: WorkloadRef): string[] {
    return keysOf(this.#index.forWorkload(workload));
  }

  /** `<namespace>/<name>` of every policy a waypoint enforces for the targets, sorted. */
  policiesAtWaypoint(targets: readonly PolicyTarget[]): string[] {
    return keysOf(this.#index.forTargets(targets));
  }
}
