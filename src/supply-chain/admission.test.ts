import { beforeAll, describe, expect, it } from 'vitest';
import { parseImageReference } from '../manifests/image-reference.ts';
import { parseManifests } from '../manifests/load.ts';
import type { ClusterPolicy, KyvernoAttestorSet, KyvernoImageVerification, KyvernoMatchResources, KyvernoRule } from '../manifests/types.ts';
import { toYaml } from '../manifests/yaml-source.ts';
import { evaluateImageAdmission, failureActionOf, imageNamesForMatching, kyvernoImageName, wildcardMatch, type PodImage } from './admission.ts';
import { generateSigningKey, keyIdOf, signImage, type ImageSignature, type SigningKeyPair } from './signing.ts';

const VENDOR_IMAGE = 'acme-fx/currency-converter:1.0.0';
const CLEAN = `sha256:${'c'.repeat(64)}`;
const RUGPULL = `sha256:${'e'.repeat(64)}`;
const VENDORS = 'trustusbank-bank-vendors';
const vendorPod = (digest: string, overrides: Partial<PodImage> = {}): PodImage => ({ namespace: VENDORS, image: VENDOR_IMAGE, digest, ...overrides });

let bank: SigningKeyPair & { keyId: string };
let vendor: SigningKeyPair & { keyId: string };
let attacker: SigningKeyPair & { keyId: string };
beforeAll(() => {
  const withId = (pair: SigningKeyPair) => ({ ...pair, keyId: keyIdOf(pair.publicKeyPem) });
  bank = withId(generateSigningKey());
  vendor = withId(generateSigningKey());
  attacker = withId(generateSigningKey());
});

const signed = (by: SigningKeyPair, digest: string, image = VENDOR_IMAGE): ImageSignature => signImage(image, digest, by.privateKeyPem);

interface PolicyOptions {
  name?: string;
  action?: string;
  rule?: string;
  match?: KyvernoMatchResources;
  exclude?: KyvernoMatchResources;
  imageReferences?: string[];
  attestors?: KyvernoAttestorSet[];
  verification?: Partial<KyvernoImageVerification>;
  rules?: KyvernoRule[];
}

const keysOf = (...pairs: SigningKeyPair[]) => pairs.map((pair) => pair.publicKeyPem).join('');
const PODS = { any: [{ resources: { kinds: ['Pod' as const] } }] };

/** A ClusterPolicy as the loader yields it (so every test policy is one Kyverno would accept). */
function policy(options: PolicyOptions = {}): ClusterPolicy {
  const verification = { imageReferences: options.imageReferences ?? ['docker.io/acme-fx/*'], attestors: options.attestors ?? [{ entries: [{ keys: { publicKeys: bank.publicKeyPem } }] }], ...options.verification };
  const rule = { name: options.rule ?? 'verify-vendor', match: options.match ?? PODS, ...(options.exclude ? { exclude: options.exclude } : {}), verifyImages: [verification] };
  const document = {
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name: options.name ?? 'verify-images' },
    spec: { ...(options.action === undefined ? {} : { validationFailureAction: options.action }), rules: options.rules ?? [rule] },
  };
  const [loaded] = parseManifests(toYaml(document), 'policy.yaml');
  return loaded!.resource as ClusterPolicy;
}

const enforcing = (options: PolicyOptions = {}) => policy({ action: 'Enforce', ...options });

describe('evaluateImageAdmission', () => {
  it("admits the vendor's clean build, signed by the bank's key, naming the key", () => {
    expect(evaluateImageAdmission([enforcing()], vendorPod(CLEAN), [signed(bank, CLEAN)])).toEqual({
      allowed: true,
      enforced: true,
      reason: `image ${VENDOR_IMAGE} (${CLEAN}) verified by ClusterPolicy verify-images rule verify-vendor with key ${bank.keyId}`,
      policy: 'verify-images',
      rule: 'verify-vendor',
      verified: { keyId: bank.keyId },
    });
  });

  it("refuses the rug-pull signed by the attacker's key, naming the keys found and the policy's", () => {
    expect(evaluateImageAdmission([enforcing()], vendorPod(RUGPULL), [signed(attacker, RUGPULL)])).toEqual({
      allowed: false,
      enforced: true,
      reason: `image ${VENDOR_IMAGE} (${RUGPULL}) refused by ClusterPolicy verify-images rule verify-vendor: signed by key ${attacker.keyId}; none verifies with the policy's key ${bank.keyId}`,
      policy: 'verify-images',
      rule: 'verify-vendor',
    });
  });

  it("refuses the rug-pull carrying the bank's signature copied from the clean digest: it is for other bytes", () => {
    const decision = evaluateImageAdmission([enforcing()], vendorPod(RUGPULL), [signed(attacker, RUGPULL), signed(bank, CLEAN)]);
    expect(decision).toMatchObject({ allowed: false, enforced: true, policy: 'verify-images', rule: 'verify-vendor' });
    expect(decision.reason).toBe(`image ${VENDOR_IMAGE} (${RUGPULL}) refused by ClusterPolicy verify-images rule verify-vendor: signature is for digest ${CLEAN}, image is ${RUGPULL}`);
  });

  it('refuses an unsigned image', () => {
    expect(evaluateImageAdmission([enforcing()], vendorPod(RUGPULL), []).reason).toBe(`image ${VENDOR_IMAGE} (${RUGPULL}) refused by ClusterPolicy verify-images rule verify-vendor: no signature`);
  });

  it("says so when a signature names the policy's key but was altered", () => {
    const sig = signed(bank, CLEAN);
    const bytes = Buffer.from(sig.signature, 'base64');
    bytes[bytes.length - 1]! ^= 0x01;
    const decision = evaluateImageAdmission([enforcing()], vendorPod(CLEAN), [{ ...sig, signature: bytes.toString('base64') }]);
    expect(decision.reason).toBe(`image ${VENDOR_IMAGE} (${CLEAN}) refused by ClusterPolicy verify-images rule verify-vendor: signature by key ${bank.keyId} does not verify: its payload or signature was altered`);
  });

  it('refuses a signature of the same digest made for another repository', () => {
    const decision = evaluateImageAdmission([enforcing()], vendorPod(CLEAN), [signed(bank, CLEAN, 'evil-corp/currency-converter:1.0.0')]);
    expect(decision.reason).toContain('signature is for repository index.docker.io/evil-corp/currency-converter, image is index.docker.io/acme-fx/currency-converter');
  });

  describe('Enforce and Audit', () => {
    it('Audit (the default) admits a failing image and reports the failure', () => {
      for (const audit of [policy(), policy({ action: 'Audit' }), policy({ action: 'audit' })]) {
        expect(evaluateImageAdmission([audit], vendorPod(RUGPULL), [signed(attacker, RUGPULL)])).toEqual({
          allowed: true,
          enforced: false,
          reason: `image ${VENDOR_IMAGE} (${RUGPULL}) admitted in Audit mode despite ClusterPolicy verify-images rule verify-vendor: signed by key ${attacker.keyId}; none verifies with the policy's key ${bank.keyId}`,
          policy: 'verify-images',
          rule: 'verify-vendor',
          audit: [`image ${VENDOR_IMAGE} (${RUGPULL}): ClusterPolicy verify-images rule verify-vendor (Audit): signed by key ${attacker.keyId}; none verifies with the policy's key ${bank.keyId}`],
        });
      }
    });

    it('Audit admits a verified image without complaint', () => {
      expect(evaluateImageAdmission([policy()], vendorPod(CLEAN), [signed(bank, CLEAN)])).toMatchObject({ allowed: true, enforced: false, verified: { keyId: bank.keyId } });
      expect(evaluateImageAdmission([policy()], vendorPod(CLEAN), [signed(bank, CLEAN)]).audit).toBeUndefined();
    });

    it('takes Enforce in either case, and a per-entry failureAction over the policy action', () => {
      expect(evaluateImageAdmission([policy({ action: 'enforce' })], vendorPod(RUGPULL), []).allowed).toBe(false);
      expect(evaluateImageAdmission([enforcing({ verification: { failureAction: 'Audit' } })], vendorPod(RUGPULL), [])).toMatchObject({ allowed: true, enforced: false });
      expect(evaluateImageAdmission([policy({ action: 'Audit', verification: { failureAction: 'Enforce' } })], vendorPod(RUGPULL), [])).toMatchObject({ allowed: false, enforced: true });
      const withOverride = policy({ verification: { failureAction: 'Enforce' } });
      expect(failureActionOf(withOverride, withOverride.spec.rules[0]!.verifyImages[0]!)).toBe('Enforce');
      expect(failureActionOf(policy(), policy().spec.rules[0]!.verifyImages[0]!)).toBe('Audit');
    });

    it('an enforcing failure refuses even when another policy verifies the image, and audit failures ride along', () => {
      const policies = [
        policy({ name: 'a-audit-vendor-key', attestors: [{ entries: [{ keys: { publicKeys: vendor.publicKeyPem } }] }] }),
        enforcing({ name: 'b-bank-verifies' }),
        enforcing({ name: 'c-vendor-must-sign', attestors: [{ entries: [{ keys: { publicKeys: vendor.publicKeyPem } }] }] }),
      ];
      const decision = evaluateImageAdmission(policies, vendorPod(CLEAN), [signed(bank, CLEAN)]);
      expect(decision).toMatchObject({ allowed: false, enforced: true, policy: 'c-vendor-must-sign', rule: 'verify-vendor' });
      expect(decision.audit).toEqual([`image ${VENDOR_IMAGE} (${CLEAN}): ClusterPolicy a-audit-vendor-key rule verify-vendor (Audit): signed by key ${bank.keyId}; none verifies with the policy's key ${vendor.keyId}`]);
    });

    it('evaluates policies in name order, whatever order they come in', () => {
      const first = enforcing({ name: 'a-first', rule: 'one' });
      const second = enforcing({ name: 'b-second', rule: 'two' });
      expect(evaluateImageAdmission([second, first], vendorPod(RUGPULL), [])).toMatchObject({ policy: 'a-first', rule: 'one' });
      expect(evaluateImageAdmission([second, first], vendorPod(CLEAN), [signed(bank, CLEAN)])).toMatchObject({ policy: 'a-first', rule: 'one' });
    });
  });

  describe('which pods a rule selects', () => {
    const inNamespaces = (...namespaces: string[]) => ({ resources: { kinds: ['Pod' as const], namespaces } });

    it('admits pods no rule selects, saying so', () => {
      const onlyMcp = enforcing({ match: { any: [inNamespaces('trustusbank-bank-mcp')] } });
      expect(evaluateImageAdmission([onlyMcp], vendorPod(RUGPULL), [])).toEqual({ allowed: true, enforced: false, reason: `image ${VENDOR_IMAGE} (${RUGPULL}): no ClusterPolicy rule verifies it` });
      expect(evaluateImageAdmission([], vendorPod(RUGPULL), []).allowed).toBe(true);
    });

    it('matches namespaces with wildcards', () => {
      for (const pattern of ['trustusbank-*', 'trustusbank-bank-vendor?', '*', VENDORS]) {
        expect(evaluateImageAdmission([enforcing({ match: { any: [inNamespaces(pattern)] } })], vendorPod(RUGPULL), []).allowed).toBe(false);
      }
      for (const pattern of ['trustusbank-bank-vendor', 'trustusbank-bank-vendors?', 'bank-*']) {
        expect(evaluateImageAdmission([enforcing({ match: { any: [inNamespaces(pattern)] } })], vendorPod(RUGPULL), []).allowed).toBe(true);
      }
    });

    it('any: one filter selects; all: every filter must', () => {
      const any = enforcing({ match: { any: [inNamespaces('trustusbank-bank-mcp'), inNamespaces(VENDORS)] } });
      const allBoth = enforcing({ match: { all: [inNamespaces('trustusbank-*'), inNamespaces('*-vendors')] } });
      const allOne = enforcing({ match: { all: [inNamespaces('trustusbank-*'), inNamespaces('*-mcp')] } });
      expect(evaluateImageAdmission([any], vendorPod(RUGPULL), []).allowed).toBe(false);
      expect(evaluateImageAdmission([allBoth], vendorPod(RUGPULL), []).allowed).toBe(false);
      expect(evaluateImageAdmission([allOne], vendorPod(RUGPULL), []).allowed).toBe(true);
    });

    it('exclude takes pods out of a matching rule', () => {
      const excludeVendors = enforcing({ match: { any: [inNamespaces('trustusbank-*')] }, exclude: { any: [inNamespaces('*-vendors', 'kube-system')] } });
      expect(evaluateImageAdmission([excludeVendors], vendorPod(RUGPULL), []).allowed).toBe(true);
      expect(evaluateImageAdmission([excludeVendors], vendorPod(RUGPULL, { namespace: 'trustusbank-bank-mcp' }), []).allowed).toBe(false);
      // all: excluded only when every filter selects the pod.
      const excludeAll = enforcing({ exclude: { all: [inNamespaces('*-vendors'), inNamespaces('other-*')] } });
      expect(evaluateImageAdmission([excludeAll], vendorPod(RUGPULL), []).allowed).toBe(false);
      // An empty exclude excludes nothing.
      expect(evaluateImageAdmission([enforcing({ exclude: {} })], vendorPod(RUGPULL), []).allowed).toBe(false);
    });
  });

  describe('which images a rule verifies', () => {
    it.each([
      'docker.io/acme-fx/*',
      'acme-fx/*',
      'acme-fx/currency-converter:*',
      '*/currency-converter:1.0.?',
      'docker.io/acme-fx/currency-converter:1.0.0',
      `acme-fx/currency-converter:1.0.0@${RUGPULL}`,
      `docker.io/acme-fx/currency-converter@${RUGPULL}`,
      '*',
    ])('verifies the vendor image under the pattern %s', (pattern) => {
      expect(evaluateImageAdmission([enforcing({ imageReferences: [pattern] })], vendorPod(RUGPULL), []).allowed).toBe(false);
    });

    it.each(['trustusbank/*', 'docker.io/acme-fx/currency-converter:2.*', 'acme-fx/currency-converter', 'acme-fx/currency-converter:1.0.0?', `acme-fx/currency-converter:1.0.0@${CLEAN}`, 'ghcr.io/acme-fx/*'])(
      'does not verify it under the pattern %s',
      (pattern) => {
        expect(evaluateImageAdmission([enforcing({ imageReferences: [pattern] })], vendorPod(RUGPULL), []).allowed).toBe(true);
      },
    );

    it('verifies an image when any of its patterns matches', () => {
      expect(evaluateImageAdmission([enforcing({ imageReferences: ['trustusbank/*', 'acme-fx/*'] })], vendorPod(RUGPULL), []).allowed).toBe(false);
    });

    it('with mutateDigest off and verifyDigest on, needs the image written with a digest, as Kyverno does', () => {
      const pinned = enforcing({ verification: { mutateDigest: false } });
      expect(evaluateImageAdmission([pinned], vendorPod(CLEAN), [signed(bank, CLEAN)]).reason).toContain('the image is not written with a digest (verifyDigest is on and mutateDigest is off');
      expect(evaluateImageAdmission([pinned], vendorPod(CLEAN, { image: `acme-fx/currency-converter@${CLEAN}` }), [signed(bank, CLEAN)]).allowed).toBe(true);
      expect(evaluateImageAdmission([enforcing({ verification: { mutateDigest: false, verifyDigest: false } })], vendorPod(CLEAN), [signed(bank, CLEAN)]).allowed).toBe(true);
    });
  });

  describe('attestors', () => {
    it('several keys in one publicKeys are several entries: without count, every key must have signed (Kyverno)', () => {
      const both = enforcing({ attestors: [{ entries: [{ keys: { publicKeys: keysOf(bank, vendor) } }] }] });
      const onlyBank = evaluateImageAdmission([both], vendorPod(CLEAN), [signed(bank, CLEAN)]);
      expect(onlyBank.allowed).toBe(false);
      expect(onlyBank.reason).toContain(`1 of the 2 required keys verified; signed by key ${bank.keyId}; none verifies with the policy's key ${vendor.keyId}`);
      expect(evaluateImageAdmission([both], vendorPod(CLEAN), [signed(bank, CLEAN), signed(vendor, CLEAN)])).toMatchObject({ allowed: true, verified: { keyId: bank.keyId } });
    });

    it('with count 1, one of several keys suffices', () => {
      const either = enforcing({ attestors: [{ count: 1, entries: [{ keys: { publicKeys: keysOf(bank, vendor) } }] }] });
      expect(evaluateImageAdmission([either], vendorPod(CLEAN), [signed(vendor, CLEAN)])).toMatchObject({ allowed: true, verified: { keyId: vendor.keyId } });
      expect(evaluateImageAdmission([either], vendorPod(CLEAN), [signed(bank, CLEAN)])).toMatchObject({ allowed: true, verified: { keyId: bank.keyId } });
      const refused = evaluateImageAdmission([either], vendorPod(RUGPULL), [signed(attacker, RUGPULL)]);
      expect(refused.reason).toContain(`0 of the 1 required key verified; signed by key ${attacker.keyId}; none verifies with the policy's keys ${bank.keyId}, ${vendor.keyId}`);
    });

    it('count applies across entries', () => {
      const entries = [{ keys: { publicKeys: bank.publicKeyPem } }, { keys: { publicKeys: vendor.publicKeyPem } }];
      const oneOfTwo = enforcing({ attestors: [{ count: 1, entries }] });
      const twoOfTwo = enforcing({ attestors: [{ count: 2, entries }] });
      const all = enforcing({ attestors: [{ entries }] });
      expect(evaluateImageAdmission([oneOfTwo], vendorPod(CLEAN), [signed(vendor, CLEAN)]).allowed).toBe(true);
      expect(evaluateImageAdmission([twoOfTwo], vendorPod(CLEAN), [signed(vendor, CLEAN)]).allowed).toBe(false);
      expect(evaluateImageAdmission([all], vendorPod(CLEAN), [signed(vendor, CLEAN)]).allowed).toBe(false);
      expect(evaluateImageAdmission([all], vendorPod(CLEAN), [signed(vendor, CLEAN), signed(bank, CLEAN)]).allowed).toBe(true);
    });

    it('every attestor set must be satisfied, and a failure names its set', () => {
      const bankAndVendor = enforcing({ attestors: [{ entries: [{ keys: { publicKeys: bank.publicKeyPem } }] }, { entries: [{ keys: { publicKeys: vendor.publicKeyPem } }] }] });
      const decision = evaluateImageAdmission([bankAndVendor], vendorPod(CLEAN), [signed(bank, CLEAN)]);
      expect(decision.allowed).toBe(false);
      expect(decision.reason).toContain(`verify-vendor: attestors[1]: signed by key ${bank.keyId}; none verifies with the policy's key ${vendor.keyId}`);
      expect(evaluateImageAdmission([bankAndVendor], vendorPod(CLEAN), [signed(vendor, CLEAN), signed(bank, CLEAN)]).allowed).toBe(true);
    });
  });
});

describe('wildcardMatch', () => {
  it.each<[string, string, boolean]>([
    ['docker.io/acme-fx/*', 'docker.io/acme-fx/currency-converter:1.0.0', true],
    ['*/currency-converter:*', 'docker.io/acme-fx/currency-converter:1.0.0', true],
    ['acme-fx/currency-converter:1.0.?', 'acme-fx/currency-converter:1.0.0', true],
    ['acme-fx/currency-converter:1.0.?', 'acme-fx/currency-converter:1.0.10', false],
    ['acme-fx/*', 'docker.io/acme-fx/currency-converter:1.0.0', false],
    ['docker.io/*', 'dockerXio/x:1', false],
    ['a+b(c)[d]$', 'a+b(c)[d]$', true],
    ['', '', true],
    ['', 'x', false],
  ])('%j against %j: %s', (pattern, value, expected) => {
    expect(wildcardMatch(pattern, value)).toBe(expected);
  });
});

describe('the names patterns are matched against', () => {
  it("are the reference as written, Kyverno's normal form, and both pinned to the digest", () => {
    expect(imageNamesForMatching(VENDOR_IMAGE, RUGPULL)).toEqual([VENDOR_IMAGE, `${VENDOR_IMAGE}@${RUGPULL}`, 'docker.io/acme-fx/currency-converter:1.0.0', `docker.io/acme-fx/currency-converter@${RUGPULL}`]);
    expect(imageNamesForMatching(`acme-fx/currency-converter@${CLEAN}`, CLEAN)).toEqual([`acme-fx/currency-converter@${CLEAN}`, `docker.io/acme-fx/currency-converter@${CLEAN}`]);
  });

  it.each([
    ['acme-fx/currency-converter:1.0.0', 'docker.io/acme-fx/currency-converter:1.0.0'],
    ['acme-fx/currency-converter', 'docker.io/acme-fx/currency-converter:latest'],
    ['nginx', 'docker.io/library/nginx:latest'],
    ['docker.io/nginx:1.27', 'docker.io/library/nginx:1.27'],
    [`acme-fx/currency-converter:1.0.0@${CLEAN}`, `docker.io/acme-fx/currency-converter@${CLEAN}`],
    ['ghcr.io/trustusbank/account-mcp:1.0.0', 'ghcr.io/trustusbank/account-mcp:1.0.0'],
    ['localhost:5000/acme-fx/currency-converter:1.0.0', 'localhost:5000/acme-fx/currency-converter:1.0.0'],
  ])("Kyverno's form of %s is %s", (reference, expected) => {
    expect(kyvernoImageName(parseImageReference(reference).reference!)).toBe(expected);
    expect(imageNamesForMatching(reference, CLEAN)).toContain(expected);
  });
});
