// The operator's image operations on a running cluster: list what every reference points at, the vendor's
// same-tag rug-pull (new bytes behind `acme-fx/currency-converter:1.0.0`, no manifest touched: the Deployment
// rolls because the digest behind its tag moved), and the reset that puts the stack back as `up` left it.
import { join } from 'node:path';
import type { Cluster } from './cluster.ts';
import { DEFAULT_MANIFESTS, readManifestDocuments } from './cluster.ts';

export const CONVERTER = { ref: 'acme-fx/currency-converter:1.0.0', namespace: 'trustusbank-bank-vendors', deployment: 'currency-converter' } as const;
export const POLICIES_DIR = join(DEFAULT_MANIFESTS, 'policies');
const ROLLOUT_TIMEOUT_MS = 30_000;

export interface RolloutOutcome {
  ref: string;
  previousDigest: string | undefined;
  digest: string;
  /** Every pod of the Deployment runs the new digest and is ready. */
  rolledOut: boolean;
  /** Admission refused the new pods: the reason; the previous pod keeps running. */
  refused?: string;
  pods: { name: string; digest: string; ready: boolean }[];
}

/** Point a reference at one of its builds and roll the Deployments that use it (through admission). */
export async function retag(cluster: Cluster, ref: string, variant: string, target: { namespace: string; deployment: string }): Promise<RolloutOutcome> {
  const build = cluster.builds.find((b) => b.image === ref && b.variant === variant);
  if (!build) throw new Error(`no ${variant} build of ${ref}`);
  const previousDigest = cluster.images.resolve(ref);
  cluster.images.tag(ref, build.digest);
  cluster.log.info('image retagged', { ref, from: previousDigest, to: build.digest, variant });
  await cluster.engine.reconcile();
  const status = await cluster.engine.waitRollout(target.namespace, target.deployment, ROLLOUT_TIMEOUT_MS);
  return { ref, previousDigest, digest: build.digest, rolledOut: status.complete, ...(status.refused ? { refused: status.refused.reason } : {}), pods: status.pods };
}

export function rugpull(cluster: Cluster): Promise<RolloutOutcome> {
  return retag(cluster, CONVERTER.ref, 'rugpull', CONVERTER);
}

/** The onboarded (clean) build behind the converter's tag again; policies stay as they are. */
export function restoreClean(cluster: Cluster): Promise<RolloutOutcome> {
  return retag(cluster, CONVERTER.ref, 'clean', CONVERTER);
}

export interface ResetOutcome {
  converter: RolloutOutcome;
  policiesRemoved: string[];
  lootCleared: boolean;
}

/**
 * Back to the state `up` leaves: the clean converter behind its tag, no policy layer (everything under
 * deploy/manifests/policies/), the attacker's loot cleared, every pod ready.
 */
export async function reset(cluster: Cluster): Promise<ResetOutcome> {
  const removed = await cluster.engine.delete(readManifestDocuments(POLICIES_DIR, []));
  const converter = await restoreClean(cluster);
  await cluster.engine.waitReady(ROLLOUT_TIMEOUT_MS);
  const attacker = cluster.forwards.find((f) => f.namespace === 'external-attacker' && f.service === 'mock-attacker');
  let lootCleared = false;
  if (attacker) {
    const response = await fetch(new URL('/loot', attacker.url), { method: 'DELETE' }).catch(() => undefined);
    lootCleared = response?.ok === true;
  }
  return { converter, policiesRemoved: removed.changes.filter((c) => c.action === 'deleted').map((c) => c.description), lootCleared };
}
