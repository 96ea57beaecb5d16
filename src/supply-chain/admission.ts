// Image admission as Kyverno's verifyImages rules decide it, as a pure function: policies, the pod's image (as
// written and the digest it resolved to) and the signatures attached to that digest in; a decision out. No I/O, no
// clock: the engine calls it before a pod starts and records what it says.
//
// Kyverno's semantics, kept here:
// - A rule applies to a Pod that its `match` selects (`any`: one filter; `all`: every filter) and its `exclude`
//   does not; a filter selects by kind (Pod) and namespace patterns.
// - A verifyImages entry applies to an image one of its `imageReferences` patterns matches (`*` any run of
//   characters, `?` one character). Kyverno matches its normal form of the reference: `docker.io/` before a
//   reference without a registry, `library/` before a one-component Docker Hub name, and only the digest when
//   there is one (`docker.io/acme-fx/currency-converter:1.0.0`). We also match the reference as written
//   (`acme-fx/*`), and both forms pinned to the resolved digest (`…@sha256:…`). So a policy written for
//   Kyverno behaves the same here; one written with the short form (`acme-fx/*`) matches here but would match
//   nothing on a real cluster, so manifests meant for one should use `docker.io/acme-fx/*`. Kyverno's current
//   matcher also treats `.` as a one-character wildcard; here `.` is only a dot (a narrower match that no
//   realistic pattern notices).
// - Every attestor set of the entry must be satisfied: `count` of its entries (default: all) must verify. A
//   `publicKeys` holding several keys is several entries, one per key (Kyverno's expandStaticKeys), so without
//   `count` every key must have signed; `count: 1` makes them alternatives.
// - A signature verifies when it is by the key over its exact payload, and the payload names the image's digest
//   and repository (see signing.ts). A valid signature of other bytes does not verify this digest.
// - A failing entry blocks the Pod when its failure action (its own `failureAction`, else the policy's
//   `validationFailureAction`, default Audit; either case) is Enforce; under Audit the Pod starts and the failure
//   is reported. No applicable rule: the Pod starts.
// - mutateDigest and required have no effect here: pods always run by digest, and every start is verified.
//   verifyDigest (default true) with mutateDigest false requires the image to be written with a digest, as in Kyverno.
import { keyIdOf, verifyImageSignature, type ImageSignature, type SignatureProblem, type SignatureVerification } from './signing.ts';
import { parseImageReference, type ImageReference } from '../manifests/image-reference.ts';
import { publicKeyBlocks } from '../manifests/kinds/kyverno.ts';
import type { ClusterPolicy, KyvernoAttestorSet, KyvernoImageVerification, KyvernoMatchResources, KyvernoRule } from '../manifests/types.ts';

export interface AdmissionDecision {
  allowed: boolean;
  /** The mode of the rule the decision names: true for Enforce (a failure blocks), false for Audit or when no rule applied. */
  enforced: boolean;
  /** One line naming the image, its digest, the policy and rule, and what happened. */
  reason: string;
  /** The ClusterPolicy and rule the decision is about: the first enforcing failure, else the first audit failure,
   *  else the first rule that verified the image. Absent when no rule applied. */
  policy?: string;
  rule?: string;
  /** The policy key that verified the image (when one did). */
  verified?: { keyId: string };
  /** Failures of rules in Audit mode, one line each: reported, not blocking. */
  audit?: string[];
}

export interface PodImage {
  namespace: string;
  /** The reference as the pod spec writes it, e.g. `acme-fx/currency-converter:1.0.0`. */
  image: string;
  /** The digest it resolved to, the bytes the pod would run. */
  digest: string;
}

export type FailureAction = 'Enforce' | 'Audit';

type Outcome = { ok: true; keyId: string } | { ok: false; reason: string };

interface RuleResult {
  policy: string;
  rule: string;
  mode: FailureAction;
  outcome: Outcome;
}

export function evaluateImageAdmission(policies: readonly ClusterPolicy[], pod: PodImage, signatures: readonly ImageSignature[]): AdmissionDecision {
  const subject = `image ${pod.image} (${pod.digest})`;
  const names = imageNamesForMatching(pod.image, pod.digest);
  const results: RuleResult[] = [];
  for (const policy of [...policies].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
    for (const rule of policy.spec.rules) {
      if (!ruleSelectsPod(rule, pod.namespace)) continue;
      for (const verification of rule.verifyImages) {
        if (!verification.imageReferences.some((pattern) => names.some((name) => wildcardMatch(pattern, name)))) continue;
        results.push({ policy: policy.metadata.name, rule: rule.name, mode: failureActionOf(policy, verification), outcome: verifyImage(verification, pod, signatures) });
      }
    }
  }

  if (results.length === 0) return { allowed: true, enforced: false, reason: `${subject}: no ClusterPolicy rule verifies it` };
  const where = (result: RuleResult) => `ClusterPolicy ${result.policy} rule ${result.rule}`;
  const failures = results.filter((result): result is RuleResult & { outcome: { ok: false } } => !result.outcome.ok);
  const audit = failures.filter((result) => result.mode === 'Audit').map((result) => `${subject}: ${where(result)} (Audit): ${result.outcome.reason}`);
  const passed = results.find((result): result is RuleResult & { outcome: { ok: true } } => result.outcome.ok);
  const verified = passed === undefined ? {} : { verified: { keyId: passed.outcome.keyId } };
  const auditField = audit.length === 0 ? {} : { audit };

  const refusal = failures.find((result) => result.mode === 'Enforce');
  if (refusal !== undefined) {
    return { allowed: false, enforced: true, reason: `${subject} refused by ${where(refusal)}: ${refusal.outcome.reason}`, policy: refusal.policy, rule: refusal.rule, ...auditField };
  }
  const reported = failures[0];
  if (reported !== undefined) {
    return { allowed: true, enforced: false, reason: `${subject} admitted in Audit mode despite ${where(reported)}: ${reported.outcome.reason}`, policy: reported.policy, rule: reported.rule, ...verified, ...auditField };
  }
  const first = passed!;
  return { allowed: true, enforced: first.mode === 'Enforce', reason: `${subject} verified by ${where(first)} with key ${first.outcome.keyId}`, policy: first.policy, rule: first.rule, ...verified };
}

/** The entry's own failureAction, else the policy's validationFailureAction (either case), else Audit. */
export function failureActionOf(policy: ClusterPolicy, verification: KyvernoImageVerification): FailureAction {
  const action = verification.failureAction ?? policy.spec.validationFailureAction ?? 'Audit';
  return action.toLowerCase() === 'enforce' ? 'Enforce' : 'Audit';
}

// --- Matching ---------------------------------------------------------------------------------------------

function ruleSelectsPod(rule: KyvernoRule, namespace: string): boolean {
  return resourcesSelect(rule.match, namespace) && !(rule.exclude !== undefined && resourcesSelect(rule.exclude, namespace));
}

/** `any`: one filter selects; `all`: every filter does; neither (an empty exclude): nothing is selected. */
function resourcesSelect(match: KyvernoMatchResources, namespace: string): boolean {
  const selects = (filter: { resources: { kinds: 'Pod'[]; namespaces?: string[] } }) =>
    filter.resources.kinds.includes('Pod') && (filter.resources.namespaces === undefined || filter.resources.namespaces.some((pattern) => wildcardMatch(pattern, namespace)));
  if (match.any !== undefined) return match.any.some(selects);
  if (match.all !== undefined) return match.all.every(selects);
  return false;
}

const compiled = new Map<string, RegExp>();

/** Kyverno's wildcards: `*` any run of characters (`/` included), `?` exactly one; everything else literal. */
export function wildcardMatch(pattern: string, value: string): boolean {
  let regex = compiled.get(pattern);
  if (regex === undefined) {
    const source = [...pattern].map((char) => (char === '*' ? '[\\s\\S]*' : char === '?' ? '[\\s\\S]' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
    regex = new RegExp(`^${source}$`);
    if (compiled.size > 1000) compiled.clear();
    compiled.set(pattern, regex);
  }
  return regex.test(value);
}

/**
 * The names `imageReferences` patterns are matched against: as written, as written pinned to the digest, Kyverno's
 * normal form (`docker.io/acme-fx/currency-converter:1.0.0`) and that form pinned to the digest.
 */
export function imageNamesForMatching(image: string, digest: string): string[] {
  const names = new Set([image]);
  const parsed = parseImageReference(image).reference;
  if (parsed?.digest === undefined) names.add(`${image}@${digest}`);
  if (parsed !== undefined) {
    names.add(kyvernoImageName(parsed));
    names.add(kyvernoImageName({ repository: parsed.repository, digest }));
  }
  return [...names];
}

/** Kyverno's `ImageInfo.String()` with its default registry (docker.io) and registry mutation on. */
export function kyvernoImageName(reference: ImageReference): string {
  const { repository } = reference;
  const slash = repository.indexOf('/');
  const first = slash === -1 ? '' : repository.slice(0, slash);
  const hasRegistry = slash !== -1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.toLowerCase() !== first);
  const registry = hasRegistry ? first : 'docker.io';
  const path = hasRegistry ? repository.slice(slash + 1) : repository;
  const name = `${registry}/${path.includes('/') ? path : `library/${path}`}`;
  return reference.digest !== undefined ? `${name}@${reference.digest}` : `${name}:${reference.tag ?? 'latest'}`;
}

// --- Verification -----------------------------------------------------------------------------------------

function verifyImage(verification: KyvernoImageVerification, pod: PodImage, signatures: readonly ImageSignature[]): Outcome {
  if (verification.mutateDigest === false && verification.verifyDigest !== false && parseImageReference(pod.image).reference?.digest === undefined) {
    return { ok: false, reason: 'the image is not written with a digest (verifyDigest is on and mutateDigest is off, so the pod spec must pin it)' };
  }
  let keyId: string | undefined;
  for (const [i, set] of verification.attestors.entries()) {
    const outcome = verifyAttestorSet(set, pod, signatures);
    if (!outcome.ok) return verification.attestors.length === 1 ? outcome : { ok: false, reason: `attestors[${i}]: ${outcome.reason}` };
    keyId ??= outcome.keyId;
  }
  return { ok: true, keyId: keyId! };
}

/** Problems of a signature that did verify with the key: what it signs is not this image. */
const CLAIM_PROBLEMS = new Set<SignatureProblem>(['digest-mismatch', 'identity-mismatch', 'wrong-type', 'malformed']);

function verifyAttestorSet(set: KyvernoAttestorSet, pod: PodImage, signatures: readonly ImageSignature[]): Outcome {
  // One entry per key, as Kyverno expands a multi-key publicKeys; count applies across them.
  const keys = set.entries.flatMap((entry) => publicKeyBlocks(entry.keys.publicKeys)).map((pem) => ({ pem, keyId: safeKeyId(pem) }));
  const required = set.count ?? keys.length;
  if (keys.length === 0) return { ok: false, reason: 'the attestor set lists no public key' };
  if (signatures.length === 0) return { ok: false, reason: 'no signature' };

  const verifiedKeys: string[] = [];
  const failures: { keyId: string; sig: ImageSignature; result: SignatureVerification & { ok: false } }[] = [];
  for (const key of keys) {
    const results = signatures.map((sig) => ({ sig, result: verifyImageSignature(sig, { dockerReference: pod.image, digest: pod.digest }, key.pem) }));
    if (results.some(({ result }) => result.ok)) {
      verifiedKeys.push(key.keyId);
      if (verifiedKeys.length >= required) return { ok: true, keyId: verifiedKeys[0]! };
    } else {
      for (const { sig, result } of results) if (!result.ok) failures.push({ keyId: key.keyId, sig, result });
    }
  }

  const unverified = keys.filter((key) => !verifiedKeys.includes(key.keyId)).map((key) => key.keyId);
  const partial = verifiedKeys.length > 0 || required < keys.length ? `${verifiedKeys.length} of the ${required} required key${required === 1 ? '' : 's'} verified; ` : '';
  // The most telling failure first: a valid signature by a policy key that is for other bytes (the rug-pull with a
  // copied signature), then a signature naming a policy key that does not verify (altered), then other signers.
  const claim = failures.find(({ result }) => CLAIM_PROBLEMS.has(result.problem));
  if (claim !== undefined) return { ok: false, reason: `${partial}${claim.result.reason}` };
  const altered = failures.find(({ keyId, sig, result }) => result.problem === 'bad-signature' && sig.keyId === keyId);
  if (altered !== undefined) return { ok: false, reason: `${partial}signature by key ${altered.keyId} does not verify: its payload or signature was altered` };
  const badKey = failures.find(({ result }) => result.problem === 'bad-key');
  if (badKey !== undefined) return { ok: false, reason: `${partial}the policy's key does not load: ${badKey.result.reason}` };
  const signers = [...new Set(signatures.map((sig) => sig.keyId || '(unnamed)'))];
  return {
    ok: false,
    reason: `${partial}signed by key${signers.length === 1 ? '' : 's'} ${signers.join(', ')}; none verifies with the policy's key${unverified.length === 1 ? '' : 's'} ${unverified.join(', ')}`,
  };
}

function safeKeyId(pem: string): string {
  try {
    return keyIdOf(pem);
  } catch {
    return '(invalid key)';
  }
}
