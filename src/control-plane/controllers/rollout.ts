// The Deployment controller's decision, pure: given a Deployment's pods and the template it wants now, which pods
// to create and which to remove. A rolling update as Kubernetes does it with maxUnavailable 0: the old pods go
// only once every replica of the new template is ready, so a new pod that cannot start (refused at admission,
// crashing) never takes the working ones down with it. The engine carries the plan out and asks again whenever a
// pod's readiness changes.
import { createHash } from 'node:crypto';
import type { Deployment } from '../../manifests/types.ts';

/** What the plan needs to know of a pod. */
export interface RolloutPod {
  templateHash: string;
  ready: boolean;
  phase: string;
}

export interface RolloutPlan<P> {
  /** How many pods of the wanted template to create. */
  create: number;
  /** Pods to remove: surplus ones of the wanted template, then the outdated ones once the new ones are all ready. */
  remove: P[];
}

/** The template hash a Deployment's pods carry: its pod template and the image digest its tag points at now. */
export function templateHashOf(deployment: Deployment, digest: string): string {
  return createHash('sha256').update(JSON.stringify({ template: deployment.spec.template, digest })).digest('hex').slice(0, 10);
}

export function planRollout<P extends RolloutPod>(pods: readonly P[], templateHash: string, replicas: number): RolloutPlan<P> {
  const owned = pods.filter((p) => p.phase !== 'Terminating' && p.phase !== 'Terminated');
  const current = owned.filter((p) => p.templateHash === templateHash);
  const outdated = owned.filter((p) => p.templateHash !== templateHash);
  const remove = current.slice(replicas);
  // Pods about to be created are not ready yet: only those running already count.
  const newReady = current.filter((p) => p.ready).length;
  if (outdated.length > 0 && (replicas === 0 || newReady >= replicas)) remove.push(...outdated);
  return { create: Math.max(0, replicas - current.length), remove };
}
