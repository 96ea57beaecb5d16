// Kyverno ClusterPolicy (kyverno.io/v1, cluster-scoped): the admission policy that checks image signatures before a
// Pod starts. Only what that takes is supported — `verifyImages` rules matching Pods, with static-key attestors
// (cosign key pairs) — and the rest is refused by name: validate/mutate/generate rules, keyless and certificate
// attestors, Secret/KMS keys, attestations. What is accepted is meant to load unchanged into Kyverno (≥ 1.13, for
// verifyImages[].failureAction and spec.webhookConfiguration), so the same file protects a real cluster.
// Both of Kyverno's forms load: the current one (a failureAction per verifyImages entry, the timeout under
// webhookConfiguration) and the deprecated policy-wide fields, with Kyverno's precedence (see failureActionOf).
import { createPublicKey } from 'node:crypto';
import { z } from 'zod';
import { errorMessage } from '../../core/errors.ts';
import { kubeObject, nonEmptyString, positiveInt, supportedValue, type Expect, type SameShape } from '../fields.ts';
import { dns1123SubdomainProblem } from '../names.ts';
import { OBJECT_BOOKKEEPING, objectMeta } from '../object-meta.ts';
import type { ClusterPolicy, KyvernoMatchResources } from '../types.ts';

export const KYVERNO_API_VERSION = 'kyverno.io/v1';

const UPSTREAM = 'Kyverno';
const ONLY_VERIFY_IMAGES = 'only verifyImages rules are supported (TrustUsBank uses Kyverno for image signature admission)';
const NO_SECRET_STORE = 'this cluster has no Secret store: write the PEM public key (cosign.pub) in publicKeys';
const KEYLESS = 'keyless and certificate verification need Fulcio and Rekor, which an offline cluster does not have: sign with a cosign key pair and list its public key in keys.publicKeys';

// --- Public keys ------------------------------------------------------------------------------------------

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;

/**
 * The PEM public keys in a `publicKeys` value, each as its own PEM string (what Kyverno splits a multi-key value
 * into: every key becomes an attestor entry of its own). Call only on a value the schema accepted.
 */
export function publicKeyBlocks(publicKeys: string): string[] {
  return [...publicKeys.matchAll(PEM_BLOCK)].filter((block) => block[1] === 'PUBLIC KEY').map((block) => `${block[0]}\n`);
}

/** What is wrong with a `keys.publicKeys` value, if anything: every block must be a usable PEM public key. */
export function publicKeysProblem(value: string): string | undefined {
  const text = value.trim();
  if (text === '') return 'must hold one or more PEM public keys (-----BEGIN PUBLIC KEY-----, as in cosign.pub)';
  if (text.startsWith('k8s://')) return `is a Secret reference: ${NO_SECRET_STORE}`;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return 'is a KMS key reference: KMS keys are not supported; write the PEM public key (cosign.pub) here';
  if (text.includes('{{')) return 'uses a Kyverno variable: variables are not supported; write the PEM public key (cosign.pub) here';
  const blocks = [...text.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) return 'must hold one or more PEM public keys (-----BEGIN PUBLIC KEY----- … -----END PUBLIC KEY-----, as in cosign.pub)';
  let outside = text;
  for (const block of blocks) outside = outside.replace(block[0], '');
  if (outside.trim() !== '') return `has text outside its PEM blocks (${JSON.stringify(outside.trim().slice(0, 40))}): give only PEM public keys`;
  for (const [i, block] of blocks.entries()) {
    const which = blocks.length === 1 ? 'the key' : `key ${i + 1}`;
    const [pem, label, , endLabel] = block;
    if (label !== endLabel) return `${which} begins as ${label} but ends as ${endLabel}`;
    if (label!.includes('PRIVATE KEY')) return `${which} is a private key (${label}): give the public key (cosign.pub), never the private one`;
    if (label === 'CERTIFICATE') return `${which} is a certificate: certificate attestors are not supported; give the signer's public key (-----BEGIN PUBLIC KEY-----)`;
    if (label !== 'PUBLIC KEY') return `${which} is a ${label} block: expected a PUBLIC KEY (SPKI, as in cosign.pub)`;
    let type: string | undefined;
    try {
      type = createPublicKey(pem).asymmetricKeyType;
    } catch (error) {
      return `${which} is not a valid public key: ${errorMessage(error)}`;
    }
    if (type !== 'ec' && type !== 'rsa') return `${which} is an ${type ?? 'unknown'} key: only ECDSA and RSA keys are supported (cosign generate-key-pair makes ECDSA P-256)`;
  }
  return undefined;
}

const publicKeys = z.string().superRefine((value, ctx) => {
  const problem = publicKeysProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** `true` is the only value: this cluster consults no transparency log, and the policy must say so for a real one. */
function mustBeTrue(why: string) {
  return z.literal(true, { error: (issue) => (issue.input === undefined ? 'is required' : `must be true: ${why}`) });
}

const NO_TLOG = 'the embedded cluster consults no transparency log, so signatures are verified with the keys alone (write the same on a real cluster for key pairs signed without --tlog-upload)';

const rekor = kubeObject({ ignoreTlog: mustBeTrue(NO_TLOG) }, { unsupported: ['url', 'pubkey'], upstream: UPSTREAM, hints: { url: NO_TLOG, pubkey: NO_TLOG } });
const ctlog = kubeObject({ ignoreSCT: mustBeTrue(NO_TLOG) }, { unsupported: ['pubkey', 'tsaCertChain'], upstream: UPSTREAM, hints: { pubkey: NO_TLOG, tsaCertChain: NO_TLOG } });

const staticKeyAttestor = kubeObject(
  {
    publicKeys,
    signatureAlgorithm: supportedValue(['sha256'], { what: 'signature algorithm', unsupported: ['sha512'], upstream: UPSTREAM }).optional(),
    rekor: rekor.optional(),
    ctlog: ctlog.optional(),
  },
  { unsupported: ['kms', 'secret'], upstream: UPSTREAM, hints: { secret: NO_SECRET_STORE, kms: 'KMS keys are not supported: write the PEM public key (cosign.pub) in publicKeys' } },
);

const attestor = kubeObject(
  { keys: staticKeyAttestor },
  {
    unsupported: ['keyless', 'certificates', 'attestor', 'annotations', 'repository'],
    upstream: UPSTREAM,
    hints: { keyless: KEYLESS, certificates: KEYLESS, attestor: 'nested attestor sets are not supported: list the keys as entries of one set and use count' },
  },
);

const attestorSet = kubeObject({
  count: positiveInt.optional(),
  entries: z.array(attestor).min(1, { error: 'must list at least one attestor (keys.publicKeys)' }),
}).superRefine((set, ctx) => {
  // Kyverno checks count against the entries as written, before it splits a multi-key publicKeys into entries.
  if (set.count !== undefined && set.count > set.entries.length) {
    ctx.addIssue({ code: 'custom', path: ['count'], message: `must be at most the number of entries (${set.entries.length}); several keys in one publicKeys still count as one entry here, as Kyverno checks it` });
  }
});

// --- Rules ------------------------------------------------------------------------------------------------

/** Kyverno's image and namespace patterns: `*` any run of characters, `?` one character. */
function patternProblem(noun: string, allowed: RegExp, example: string) {
  return (value: string): string | undefined => {
    if (value === '') return 'must not be empty';
    if (!allowed.test(value)) return `invalid ${noun} ${JSON.stringify(value)}: ${example}`;
    return undefined;
  };
}

const imagePattern = z.string().superRefine((value, ctx) => {
  const problem = patternProblem('image reference pattern', /^[^\s]+$/, 'no spaces; `*` and `?` are wildcards (e.g. "docker.io/acme-fx/*")')(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const namespacePattern = z.string().superRefine((value, ctx) => {
  const problem = patternProblem('namespace pattern', /^[a-z0-9*?-]+$/, "lower-case letters, digits, '-' and the wildcards * and ? (e.g. \"trustusbank-*\")")(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const POD_CONTROLLERS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob'];

const podKind = z
  .string()
  .superRefine((kind, ctx) => {
    if (kind === 'Pod') return;
    const message = POD_CONTROLLERS.includes(kind)
      ? `${kind} is not supported: image verification runs on Pods; match kind Pod and the pods a ${kind} starts are verified as they start (Kyverno generates the rules for Pod controllers from a Pod rule itself)`
      : `must be Pod (got ${JSON.stringify(kind)}): only Pods are verified`;
    ctx.addIssue({ code: 'custom', message });
  })
  .transform(() => 'Pod' as const);

const resourceDescription = kubeObject(
  {
    kinds: z.array(podKind).min(1, { error: 'must list the kind Pod' }),
    namespaces: z.array(namespacePattern).min(1, { error: 'must not be empty (leave it out for every namespace)' }).optional(),
  },
  { unsupported: ['name', 'names', 'selector', 'namespaceSelector', 'annotations', 'operations'], upstream: UPSTREAM },
);

const resourceFilter = kubeObject({ resources: resourceDescription }, { unsupported: ['subjects', 'roles', 'clusterRoles'], upstream: UPSTREAM });

const ANY_EXAMPLE = 'e.g. any: [{resources: {kinds: [Pod]}}]';

function matchResources(role: 'match' | 'exclude') {
  return kubeObject(
    {
      any: z.array(resourceFilter).min(1, { error: 'must not be empty' }).optional(),
      all: z.array(resourceFilter).min(1, { error: 'must not be empty' }).optional(),
    },
    { unsupported: ['resources', 'subjects', 'roles', 'clusterRoles'], upstream: UPSTREAM, hints: { resources: `write the filter as a list under any (${ANY_EXAMPLE})` } },
  ).superRefine((match: KyvernoMatchResources, ctx) => {
    if (match.any !== undefined && match.all !== undefined) ctx.addIssue({ code: 'custom', path: ['all'], message: 'must not be set together with any (Kyverno refuses both)' });
    if (role === 'match' && match.any === undefined && match.all === undefined) ctx.addIssue({ code: 'custom', message: `needs any or all (${ANY_EXAMPLE})` });
  });
}

const imageVerification = kubeObject(
  {
    type: supportedValue(['Cosign'], { what: 'image verification type', unsupported: ['Notary', 'SigstoreBundle'], upstream: UPSTREAM }).optional(),
    imageReferences: z.array(imagePattern).min(1, { error: 'must list at least one image reference pattern' }),
    attestors: z.array(attestorSet).min(1, { error: 'must list at least one attestor set' }),
    mutateDigest: z.boolean().optional(),
    verifyDigest: z.boolean().optional(),
    required: z.boolean().optional(),
    failureAction: supportedValue(['Enforce', 'Audit'], { what: 'failure action' }).optional(),
  },
  {
    unsupported: ['image', 'key', 'roots', 'subject', 'issuer', 'additionalExtensions', 'skipImageReferences', 'attestations', 'annotations', 'repository', 'imageRegistryCredentials', 'useCache', 'cosignOCI11', 'validate'],
    upstream: UPSTREAM,
    hints: { image: 'write the pattern in imageReferences (image is deprecated)', key: 'write the key in attestors[].entries[].keys.publicKeys (key is deprecated)' },
  },
);

const rule = kubeObject(
  {
    name: nonEmptyString,
    match: matchResources('match'),
    exclude: matchResources('exclude').optional(),
    verifyImages: z.array(imageVerification, { error: (issue) => (issue.input === undefined ? `is required: ${ONLY_VERIFY_IMAGES}` : undefined) }).min(1, { error: 'must list at least one image verification' }),
  },
  {
    unsupported: ['validate', 'mutate', 'generate', 'preconditions', 'context', 'celPreconditions', 'imageExtractors', 'skipBackgroundRequests', 'reportProperties'],
    upstream: UPSTREAM,
    hints: { validate: ONLY_VERIFY_IMAGES, mutate: ONLY_VERIFY_IMAGES, generate: ONLY_VERIFY_IMAGES },
  },
);

const webhookTimeoutSeconds = z.int().min(1, { error: 'must be from 1 to 30 seconds' }).max(30, { error: 'must be from 1 to 30 seconds' });

const webhookConfiguration = kubeObject(
  { timeoutSeconds: webhookTimeoutSeconds.optional() },
  { unsupported: ['failurePolicy', 'matchConditions'], upstream: UPSTREAM },
);

const clusterPolicySpec = kubeObject(
  {
    /** Deprecated by Kyverno (1.13) for a failureAction per verifyImages entry, which wins where both are set. */
    validationFailureAction: supportedValue(['Enforce', 'Audit', 'enforce', 'audit'], { what: 'validation failure action' }).optional(),
    background: z.boolean().optional(),
    /** Deprecated by Kyverno (1.13) for webhookConfiguration.timeoutSeconds. */
    webhookTimeoutSeconds: webhookTimeoutSeconds.optional(),
    webhookConfiguration: webhookConfiguration.optional(),
    rules: z.array(rule).min(1, { error: 'must list at least one rule' }),
  },
  {
    unsupported: [
      'admission',
      'applyRules',
      'failurePolicy',
      'generateExisting',
      'generateExistingOnPolicyUpdate',
      'mutateExistingOnPolicyUpdate',
      'schemaValidation',
      'useServerSideApply',
      'validationFailureActionOverrides',
      'emitWarning',
    ],
    upstream: UPSTREAM,
  },
).superRefine((spec, ctx) => {
  // Kyverno refuses the deprecated timeout beside the current one rather than choosing between them.
  if (spec.webhookTimeoutSeconds !== undefined && spec.webhookConfiguration?.timeoutSeconds !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['webhookTimeoutSeconds'], message: 'must not be set together with webhookConfiguration.timeoutSeconds (Kyverno refuses both): remove this deprecated field' });
  }
  const seen = new Map<string, number>();
  spec.rules.forEach((entry, i) => {
    const first = seen.get(entry.name);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['rules', i, 'name'], message: `duplicates the name of rules[${first}]: rule names must be unique` });
    else seen.set(entry.name, i);
  });
});

export const clusterPolicySchema = kubeObject(
  { apiVersion: z.literal(KYVERNO_API_VERSION), kind: z.literal('ClusterPolicy'), metadata: objectMeta(dns1123SubdomainProblem), spec: clusterPolicySpec },
  { bookkeeping: OBJECT_BOOKKEEPING },
);

type _ClusterPolicySchemaMatchesType = Expect<SameShape<z.output<typeof clusterPolicySchema>, ClusterPolicy>>;
