// The operator's image operations on a running cluster: list what every reference points at, the vendor's
// same-tag rug-pull (new bytes behind `acme-fx/currency-converter:1.0.0`, no manifest touched: the Deployment
// rolls because the digest behind its tag moved), and the reset that puts the stack back as `up` left it.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_EXFIL_URL } from '../../apps/currency-converter/rugpull/tool.ts';
import { RUGPULL_VARIANTS, VARIANT_FILE, isRugpullVariant, variantShape, type RugpullVariantConfig, type RugpullVariantName } from '../../apps/currency-converter/rugpull/variants.ts';
import { UserError } from '../core/errors.ts';
import type { Cluster } from './cluster.ts';
import { CONVERTER, POLICIES_DIR } from '../scenario.ts';

export { CONVERTER, POLICIES_DIR };
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

/** The same-tag rug-pull: the default build, or one of its variants (built now, for this node's attacker). */
export async function rugpull(cluster: Cluster, variant?: string): Promise<RolloutOutcome> {
  if (variant === undefined || variant === 'rugpull') return retag(cluster, CONVERTER.ref, 'rugpull', CONVERTER);
  if (!isRugpullVariant(variant)) throw new UserError(`no rug-pull variant "${variant}" (variants: ${RUGPULL_VARIANTS.join(', ')})`);
  await buildVariant(cluster, variant);
  return retag(cluster, CONVERTER.ref, `rugpull-${variant}`, CONVERTER);
}

/** Where each variant sends, on this node: the compromised pipeline built it knowing where the attacker listens. */
export function variantConfig(cluster: Cluster, name: RugpullVariantName): RugpullVariantConfig {
  const shape = variantShape(name);
  switch (name) {
    case 'node-local': {
      const attacker = cluster.forwards.find((f) => f.namespace === 'external-attacker' && f.service === 'mock-attacker');
      if (!attacker) throw new UserError('the node-local variant posts to the mock attacker\'s host port, and it has none');
      return { ...shape, target: `http://127.0.0.1:${attacker.port}/exfil` };
    }
    case 'udp':
      return { ...shape, target: cluster.listeningPost.udp };
    case 'dns':
      return { ...shape, target: cluster.listeningPost.dns };
    default:
      return { ...shape, target: DEFAULT_EXFIL_URL };
  }
}

/** Build a variant's image (the same bytes again give the same digest), record it and sign it as the attacker. */
async function buildVariant(cluster: Cluster, name: RugpullVariantName): Promise<void> {
  const config = variantConfig(cluster, name);
  const here = fileURLToPath(import.meta.url);
  const entry = fileURLToPath(new URL(`../../apps/currency-converter/rugpull/variant-main${extname(here)}`, import.meta.url));
  const digest = await cluster.images.build(entry, { [VARIANT_FILE]: Buffer.from(`${JSON.stringify(config, null, 2)}\n`) });
  const label = `rugpull-${name}`;
  const known = cluster.builds.findIndex((b) => b.image === CONVERTER.ref && b.variant === label);
  if (known >= 0) cluster.builds.splice(known, 1);
  cluster.builds.push({ image: CONVERTER.ref, variant: label, digest });
  cluster.supplyChain.signBuilds();
  cluster.log.info('rug-pull variant built', { variant: name, digest, channel: config.channel, target: config.target, argument: config.argument });
}

/** The onboarded (clean) build behind the converter's tag again; policies stay as they are. */
export function restoreClean(cluster: Cluster): Promise<RolloutOutcome> {
  return retag(cluster, CONVERTER.ref, 'clean', CONVERTER);
}

export interface ResetOutcome {
  converter: RolloutOutcome;
  /** Resources applied since the initial state (the policy layers among them), now deleted. */
  policiesRemoved: string[];
  /** Initial resources changed since, now as the initial manifests say again. */
  restored: string[];
  lootCleared: boolean;
}

/**
 * Back to the state a fresh `up` leaves: the initial manifests as the whole desired state (no policy layer,
 * nothing applied since), the clean converter behind its tag, the attacker's loot cleared, every pod ready.
 */
export async function reset(cluster: Cluster): Promise<ResetOutcome> {
  const replaced = await cluster.engine.replaceAll(cluster.initialDocuments());
  const converter = await restoreClean(cluster);
  await cluster.engine.waitReady(ROLLOUT_TIMEOUT_MS);
  const attacker = cluster.forwards.find((f) => f.namespace === 'external-attacker' && f.service === 'mock-attacker');
  let lootCleared = false;
  if (attacker) {
    const response = await fetch(new URL('/loot', attacker.url), { method: 'DELETE' }).catch(() => undefined);
    lootCleared = response?.ok === true;
  }
  // The SOC starts over too: a new epoch of metrics, no alert state, no mail (logs and the agents' sessions stay).
  await cluster.evidence.reset();
  const described = (action: string) => replaced.changes.filter((c) => c.action === action).map((c) => c.description);
  return { converter, policiesRemoved: described('deleted'), restored: [...described('configured'), ...described('created')], lootCleared };
}
