import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { failureActionOf } from '../../supply-chain/admission.ts';
import { parseManifests } from '../load.ts';
import { kindByName } from '../registry.ts';
import { problemLines, type YamlObject } from '../testdata/support.ts';
import type { ClusterPolicy } from '../types.ts';
import { toYaml } from '../yaml-source.ts';
import { publicKeyBlocks, publicKeysProblem } from './kyverno.ts';

const SUBJECT = 'deploy/x.yaml: document 0 (ClusterPolicy verify-image-signatures)';
const UNSUPPORTED = 'is a Kyverno field TrustUsBank does not support yet';

const ecKey = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const BANK_KEY = ecKey().publicKey.export({ type: 'spki', format: 'pem' }).toString();
const VENDOR_KEY = ecKey().publicKey.export({ type: 'spki', format: 'pem' }).toString();
const PRIVATE_KEY = ecKey().privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const indented = (pem: string, spaces: number) => pem.trim().split('\n').map((line) => `${' '.repeat(spaces)}${line}`);

const POLICY = [
  'apiVersion: kyverno.io/v1',
  'kind: ClusterPolicy',
  'metadata:',
  '  name: verify-image-signatures',
  'spec:',
  '  validationFailureAction: Enforce',
  '  background: false',
  '  webhookTimeoutSeconds: 30',
  '  rules:',
  '    - name: bank-signed-images',
  '      match:',
  '        any:',
  '          - resources:',
  '              kinds: [Pod]',
  '              namespaces: ["trustusbank-*"]',
  '      exclude:',
  '        any:',
  '          - resources:',
  '              kinds: [Pod]',
  '              namespaces: [trustusbank-observability]',
  '      verifyImages:',
  '        - imageReferences: ["docker.io/acme-fx/*", "docker.io/trustusbank/*"]',
  '          mutateDigest: true',
  '          verifyDigest: true',
  '          required: true',
  '          attestors:',
  '            - count: 1',
  '              entries:',
  '                - keys:',
  '                    publicKeys: |-',
  ...indented(BANK_KEY, 22),
  '                    signatureAlgorithm: sha256',
  '                    rekor:',
  '                      ignoreTlog: true',
  '                    ctlog:',
  '                      ignoreSCT: true',
  '',
].join('\n');

/** The policy above, changed by `edit`. */
function policyFile(edit: (policy: YamlObject) => void): string {
  const [loaded] = parseManifests(POLICY, 'policy.yaml');
  const policy = structuredClone(loaded!.resource) as YamlObject;
  edit(policy);
  return toYaml(policy);
}

function loadedPolicy(text: string): ClusterPolicy {
  const loaded = parseManifests(text, 'x.yaml');
  expect(loaded).toHaveLength(1);
  return loaded[0]!.resource as ClusterPolicy;
}

const rule = (p: YamlObject) => p.spec.rules[0];
const verifyImages = (p: YamlObject) => rule(p).verifyImages[0];
const attestorSet = (p: YamlObject) => verifyImages(p).attestors[0];
const entry = (p: YamlObject) => attestorSet(p).entries[0];
const keys = (p: YamlObject) => entry(p).keys;
const filter = (p: YamlObject) => rule(p).match.any[0];

describe('ClusterPolicy', () => {
  it('loads a verifyImages policy for the bank and vendor images, keeping every field as written', () => {
    expect(loadedPolicy(POLICY)).toEqual<ClusterPolicy>({
      apiVersion: 'kyverno.io/v1',
      kind: 'ClusterPolicy',
      metadata: { name: 'verify-image-signatures' },
      spec: {
        validationFailureAction: 'Enforce',
        background: false,
        webhookTimeoutSeconds: 30,
        rules: [
          {
            name: 'bank-signed-images',
            match: { any: [{ resources: { kinds: ['Pod'], namespaces: ['trustusbank-*'] } }] },
            exclude: { any: [{ resources: { kinds: ['Pod'], namespaces: ['trustusbank-observability'] } }] },
            verifyImages: [
              {
                imageReferences: ['docker.io/acme-fx/*', 'docker.io/trustusbank/*'],
                mutateDigest: true,
                verifyDigest: true,
                required: true,
                attestors: [{ count: 1, entries: [{ keys: { publicKeys: BANK_KEY.trim(), signatureAlgorithm: 'sha256', rekor: { ignoreTlog: true }, ctlog: { ignoreSCT: true } } }] }],
              },
            ],
          },
        ],
      },
    });
  });

  it('adds no defaults: a minimal policy stays minimal', () => {
    const minimal = loadedPolicy(
      policyFile((p) => {
        p.spec = { rules: [{ name: 'r', match: { all: [{ resources: { kinds: ['Pod'] } }] }, verifyImages: [{ imageReferences: ['*'], attestors: [{ entries: [{ keys: { publicKeys: BANK_KEY } }] }] }] }] };
      }),
    );
    expect(Object.keys(minimal.spec)).toEqual(['rules']);
    expect(Object.keys(minimal.spec.rules[0]!)).toEqual(['name', 'match', 'verifyImages']);
    expect(Object.keys(minimal.spec.rules[0]!.verifyImages[0]!)).toEqual(['imageReferences', 'attestors']);
    expect(minimal.spec.rules[0]!.match).toEqual({ all: [{ resources: { kinds: ['Pod'] } }] });
  });

  it.each(['Enforce', 'Audit', 'enforce', 'audit'])('accepts validationFailureAction %s as written (Kyverno takes both cases)', (action) => {
    expect(loadedPolicy(policyFile((p) => (p.spec.validationFailureAction = action))).spec.validationFailureAction).toBe(action);
  });

  it('accepts a per-entry failureAction, type Cosign, several keys, several entries with a count, and an empty exclude', () => {
    const policy = loadedPolicy(
      policyFile((p) => {
        Object.assign(verifyImages(p), { type: 'Cosign', failureAction: 'Audit' });
        keys(p).publicKeys = `${BANK_KEY}${VENDOR_KEY}`;
        attestorSet(p).entries.push({ keys: { publicKeys: VENDOR_KEY } });
        attestorSet(p).count = 2;
        rule(p).exclude = {};
      }),
    );
    const verification = policy.spec.rules[0]!.verifyImages[0]!;
    expect(verification).toMatchObject({ type: 'Cosign', failureAction: 'Audit', attestors: [{ count: 2 }] });
    expect(verification.attestors[0]!.entries).toHaveLength(2);
    expect(publicKeyBlocks(verification.attestors[0]!.entries[0]!.keys.publicKeys)).toEqual([BANK_KEY, VENDOR_KEY]);
    expect(policy.spec.rules[0]!.exclude).toEqual({});
  });

  it('is cluster-scoped, and kubectl names it clusterpolicy, clusterpolicies or cpol', () => {
    expect(loadedPolicy(POLICY).metadata.namespace).toBeUndefined();
    expect(problemLines(policyFile((p) => (p.metadata.namespace = 'default')))).toEqual([`${SUBJECT}: metadata.namespace: must not be set: ClusterPolicy is cluster-scoped`]);
    expect(['clusterpolicy', 'clusterpolicies', 'cpol', 'clusterpolicies.kyverno.io', 'clusterpolicies.v1.kyverno.io'].map(kindByName)).toEqual(Array(5).fill('ClusterPolicy'));
  });

  const KEYLESS = 'keyless and certificate verification need Fulcio and Rekor, which an offline cluster does not have: sign with a cosign key pair and list its public key in keys.publicKeys';
  // Kyverno 1.13 deprecated spec.validationFailureAction and spec.webhookTimeoutSeconds for a failureAction per
  // verifyImages entry and spec.webhookConfiguration.timeoutSeconds. POLICY above is the deprecated form.
  const currentForm = (p: YamlObject) => {
    delete p.spec.validationFailureAction;
    delete p.spec.webhookTimeoutSeconds;
    p.spec.webhookConfiguration = { timeoutSeconds: 30 };
    verifyImages(p).failureAction = 'Enforce';
  };

  it('loads the current form (failureAction per entry, webhookConfiguration.timeoutSeconds) as written', () => {
    const current = loadedPolicy(policyFile(currentForm));
    expect(current.spec.validationFailureAction).toBeUndefined();
    expect(current.spec.webhookTimeoutSeconds).toBeUndefined();
    expect(current.spec.webhookConfiguration).toEqual({ timeoutSeconds: 30 });
    expect(current.spec.rules[0]!.verifyImages[0]!.failureAction).toBe('Enforce');
  });

  it('gives both forms the same meaning, and the entry\'s failureAction wins over the policy\'s, as in Kyverno', () => {
    const action = (policy: ClusterPolicy) => failureActionOf(policy, policy.spec.rules[0]!.verifyImages[0]!);
    expect(action(loadedPolicy(POLICY))).toBe('Enforce');
    expect(action(loadedPolicy(policyFile(currentForm)))).toBe('Enforce');
    expect(action(loadedPolicy(policyFile((p) => (verifyImages(p).failureAction = 'Audit'))))).toBe('Audit');
    expect(action(loadedPolicy(policyFile((p) => ((p.spec.validationFailureAction = 'Audit'), (verifyImages(p).failureAction = 'Enforce')))))).toBe('Enforce');
    expect(action(loadedPolicy(policyFile((p) => (delete p.spec.validationFailureAction))))).toBe('Audit');
  });

  it('ships the bank\'s admission policy in the current form only', () => {
    const file = join(import.meta.dirname, '../../../deploy/manifests/policies/admission/verify-images.yaml');
    const shipped = loadedPolicy(readFileSync(file, 'utf8'));
    expect(shipped.spec).not.toHaveProperty('validationFailureAction');
    expect(shipped.spec).not.toHaveProperty('webhookTimeoutSeconds');
    expect(shipped.spec.webhookConfiguration?.timeoutSeconds).toBe(15);
    for (const r of shipped.spec.rules) for (const v of r.verifyImages) expect(failureActionOf(shipped, v)).toBe('Enforce');
    for (const r of shipped.spec.rules) for (const v of r.verifyImages) expect(v.failureAction).toBe('Enforce');
  });

  const NO_TLOG = 'the embedded cluster consults no transparency log, so signatures are verified with the keys alone (write the same on a real cluster for key pairs signed without --tlog-upload)';
  const ONLY_VERIFY = 'only verifyImages rules are supported (TrustUsBank uses Kyverno for image signature admission)';
  const RULE = 'spec.rules[0]';
  const VERIFY = `${RULE}.verifyImages[0]`;
  const ENTRY = `${VERIFY}.attestors[0].entries[0]`;

  it.each<[string, (p: YamlObject) => void, string]>([
    ['another apiVersion', (p) => (p.apiVersion = 'kyverno.io/v2beta1'), 'apiVersion: kyverno.io/v2beta1 is not a supported apiVersion for ClusterPolicy (supported: kyverno.io/v1)'],
    ['no spec', (p) => delete p.spec, 'spec: is required'],
    ['an unknown validationFailureAction', (p) => (p.spec.validationFailureAction = 'Block'), 'spec.validationFailureAction: must be one of Enforce, Audit, enforce, audit (got "Block")'],
    ['a non-boolean background', (p) => (p.spec.background = 'no'), 'spec.background: expected true or false, got the string "no"'],
    ['a webhook timeout of 0', (p) => (p.spec.webhookTimeoutSeconds = 0), 'spec.webhookTimeoutSeconds: must be from 1 to 30 seconds'],
    ['a webhook timeout of 31', (p) => (p.spec.webhookTimeoutSeconds = 31), 'spec.webhookTimeoutSeconds: must be from 1 to 30 seconds'],
    ['a fractional webhook timeout', (p) => (p.spec.webhookTimeoutSeconds = 1.5), 'spec.webhookTimeoutSeconds: expected an integer, got the fraction 1.5'],
    ['failurePolicy', (p) => (p.spec.failurePolicy = 'Fail'), `spec.failurePolicy: ${UNSUPPORTED}`],
    ['a webhookConfiguration timeout of 0', (p) => (currentForm(p), (p.spec.webhookConfiguration.timeoutSeconds = 0)), 'spec.webhookConfiguration.timeoutSeconds: must be from 1 to 30 seconds'],
    ['a webhookConfiguration timeout of 31', (p) => (currentForm(p), (p.spec.webhookConfiguration.timeoutSeconds = 31)), 'spec.webhookConfiguration.timeoutSeconds: must be from 1 to 30 seconds'],
    ['a webhookConfiguration timeout as a string', (p) => (currentForm(p), (p.spec.webhookConfiguration.timeoutSeconds = '15s')), 'spec.webhookConfiguration.timeoutSeconds: expected a number, got the string "15s"'],
    ['a webhookConfiguration that is not a map', (p) => (currentForm(p), (p.spec.webhookConfiguration = 15)), 'spec.webhookConfiguration: expected a mapping, got the number 15'],
    [
      'both timeouts (Kyverno refuses the deprecated one beside the current one)',
      (p) => (p.spec.webhookConfiguration = { timeoutSeconds: 10 }),
      'spec.webhookTimeoutSeconds: must not be set together with webhookConfiguration.timeoutSeconds (Kyverno refuses both): remove this deprecated field',
    ],
    ['webhookConfiguration.failurePolicy', (p) => (currentForm(p), (p.spec.webhookConfiguration.failurePolicy = 'Ignore')), `spec.webhookConfiguration.failurePolicy: ${UNSUPPORTED}`],
    ['webhookConfiguration.matchConditions', (p) => (currentForm(p), (p.spec.webhookConfiguration.matchConditions = [{ name: 'x', expression: 'true' }])), `spec.webhookConfiguration.matchConditions: ${UNSUPPORTED}`],
    ['a misspelt webhookConfiguration field', (p) => (currentForm(p), (p.spec.webhookConfiguration.timeoutSecond = 5)), 'spec.webhookConfiguration.timeoutSecond: '],
    ['an entry failureAction of Block in the current form', (p) => (currentForm(p), (verifyImages(p).failureAction = 'Block')), `spec.rules[0].verifyImages[0].failureAction: must be one of Enforce, Audit (got "Block")`],
    ['validationFailureActionOverrides', (p) => (p.spec.validationFailureActionOverrides = [{ action: 'Audit', namespaces: ['dev'] }]), `spec.validationFailureActionOverrides: ${UNSUPPORTED}`],
    ['no rules', (p) => delete p.spec.rules, 'spec.rules: is required'],
    ['empty rules', (p) => (p.spec.rules = []), 'spec.rules: must list at least one rule'],
    ['a rule without a name', (p) => delete rule(p).name, `${RULE}.name: is required`],
    ['a rule with an empty name', (p) => (rule(p).name = ''), `${RULE}.name: must not be empty`],
    ['two rules with one name', (p) => p.spec.rules.push(structuredClone(rule(p))), 'spec.rules[1].name: duplicates the name of rules[0]: rule names must be unique'],
    ['a validate rule', (p) => (rule(p).validate = { message: 'no latest', pattern: {} }), `${RULE}.validate: ${UNSUPPORTED}; ${ONLY_VERIFY}`],
    ['a mutate rule', (p) => (rule(p).mutate = { foreach: [{ list: 'request.object.spec.containers' }] }), `${RULE}.mutate: ${UNSUPPORTED}; ${ONLY_VERIFY}`],
    ['a generate rule', (p) => (rule(p).generate = { kind: 'NetworkPolicy' }), `${RULE}.generate: ${UNSUPPORTED}; ${ONLY_VERIFY}`],
    ['preconditions', (p) => (rule(p).preconditions = { all: [{ key: 'a', operator: 'Equals', value: 'a' }] }), `${RULE}.preconditions: ${UNSUPPORTED}`],
    ['a rule without verifyImages', (p) => delete rule(p).verifyImages, `${RULE}.verifyImages: is required: ${ONLY_VERIFY}`],
    ['an empty verifyImages', (p) => (rule(p).verifyImages = []), `${RULE}.verifyImages: must list at least one image verification`],
    ['a rule without match', (p) => delete rule(p).match, `${RULE}.match: is required`],
    ['a match with neither any nor all', (p) => (rule(p).match = {}), `${RULE}.match: needs any or all (e.g. any: [{resources: {kinds: [Pod]}}])`],
    ['a match with both any and all', (p) => (rule(p).match.all = rule(p).match.any), `${RULE}.match.all: must not be set together with any (Kyverno refuses both)`],
    ['an exclude with both any and all', (p) => (rule(p).exclude.all = rule(p).exclude.any), `${RULE}.exclude.all: must not be set together with any (Kyverno refuses both)`],
    ['an empty match.any', (p) => (rule(p).match.any = []), `${RULE}.match.any: must not be empty`],
    [
      'the legacy match.resources',
      (p) => (rule(p).match = { resources: { kinds: ['Pod'] } }),
      `${RULE}.match.resources: ${UNSUPPORTED}; write the filter as a list under any (e.g. any: [{resources: {kinds: [Pod]}}])`,
    ],
    ['match subjects', (p) => (filter(p).subjects = [{ kind: 'User', name: 'alice' }]), `${RULE}.match.any[0].subjects: ${UNSUPPORTED}`],
    ['a filter without resources', (p) => delete filter(p).resources, `${RULE}.match.any[0].resources: is required`],
    ['a filter without kinds', (p) => delete filter(p).resources.kinds, `${RULE}.match.any[0].resources.kinds: is required`],
    ['a filter with no kinds', (p) => (filter(p).resources.kinds = []), `${RULE}.match.any[0].resources.kinds: must list the kind Pod`],
    [
      'a Deployment kind',
      (p) => (filter(p).resources.kinds = ['Deployment']),
      `${RULE}.match.any[0].resources.kinds[0]: Deployment is not supported: image verification runs on Pods; match kind Pod and the pods a Deployment starts are verified as they start (Kyverno generates the rules for Pod controllers from a Pod rule itself)`,
    ],
    ['a ConfigMap kind', (p) => (filter(p).resources.kinds = ['Pod', 'ConfigMap']), `${RULE}.match.any[0].resources.kinds[1]: must be Pod (got "ConfigMap"): only Pods are verified`],
    ['an exclude with a Deployment kind', (p) => (rule(p).exclude.any[0].resources.kinds = ['Deployment']), `${RULE}.exclude.any[0].resources.kinds[0]: Deployment is not supported: image verification runs on Pods; match kind Pod and the pods a Deployment starts are verified as they start (Kyverno generates the rules for Pod controllers from a Pod rule itself)`],
    ['resource names', (p) => (filter(p).resources.names = ['account-*']), `${RULE}.match.any[0].resources.names: ${UNSUPPORTED}`],
    ['a namespaceSelector', (p) => (filter(p).resources.namespaceSelector = { matchLabels: { a: 'b' } }), `${RULE}.match.any[0].resources.namespaceSelector: ${UNSUPPORTED}`],
    ['operations', (p) => (filter(p).resources.operations = ['CREATE']), `${RULE}.match.any[0].resources.operations: ${UNSUPPORTED}`],
    ['an empty namespaces list', (p) => (filter(p).resources.namespaces = []), `${RULE}.match.any[0].resources.namespaces: must not be empty (leave it out for every namespace)`],
    [
      'a namespace pattern with capitals',
      (p) => (filter(p).resources.namespaces = ['Trustusbank-*']),
      `${RULE}.match.any[0].resources.namespaces[0]: invalid namespace pattern "Trustusbank-*": lower-case letters, digits, '-' and the wildcards * and ? (e.g. "trustusbank-*")`,
    ],
    ['no imageReferences', (p) => delete verifyImages(p).imageReferences, `${VERIFY}.imageReferences: is required`],
    ['empty imageReferences', (p) => (verifyImages(p).imageReferences = []), `${VERIFY}.imageReferences: must list at least one image reference pattern`],
    ['an empty image pattern', (p) => (verifyImages(p).imageReferences = ['']), `${VERIFY}.imageReferences[0]: must not be empty`],
    [
      'an image pattern with a space',
      (p) => (verifyImages(p).imageReferences = ['docker.io/acme-fx/* ']),
      `${VERIFY}.imageReferences[0]: invalid image reference pattern "docker.io/acme-fx/* ": no spaces; \`*\` and \`?\` are wildcards (e.g. "docker.io/acme-fx/*")`,
    ],
    ['the deprecated image field', (p) => (verifyImages(p).image = 'docker.io/acme-fx/*'), `${VERIFY}.image: ${UNSUPPORTED}; write the pattern in imageReferences (image is deprecated)`],
    ['attestations', (p) => (verifyImages(p).attestations = [{ predicateType: 'https://slsa.dev/provenance/v1' }]), `${VERIFY}.attestations: ${UNSUPPORTED}`],
    ['skipImageReferences', (p) => (verifyImages(p).skipImageReferences = ['docker.io/trustusbank/*']), `${VERIFY}.skipImageReferences: ${UNSUPPORTED}`],
    ['a Notary verification', (p) => (verifyImages(p).type = 'Notary'), `${VERIFY}.type: Notary is a Kyverno image verification type TrustUsBank does not support yet (supported: Cosign)`],
    ['an unknown failureAction', (p) => (verifyImages(p).failureAction = 'enforce'), `${VERIFY}.failureAction: must be one of Enforce, Audit (got "enforce")`],
    ['a non-boolean mutateDigest', (p) => (verifyImages(p).mutateDigest = 'true'), `${VERIFY}.mutateDigest: expected true or false, got the string "true"`],
    ['no attestors', (p) => delete verifyImages(p).attestors, `${VERIFY}.attestors: is required`],
    ['empty attestors', (p) => (verifyImages(p).attestors = []), `${VERIFY}.attestors: must list at least one attestor set`],
    ['an attestor set without entries', (p) => delete attestorSet(p).entries, `${VERIFY}.attestors[0].entries: is required`],
    ['an attestor set with no entries', (p) => (attestorSet(p).entries = []), `${VERIFY}.attestors[0].entries: must list at least one attestor (keys.publicKeys)`],
    ['a count of 0', (p) => (attestorSet(p).count = 0), `${VERIFY}.attestors[0].count: must be 1 or more`],
    [
      'a count above the entries (several keys in one entry count once, as Kyverno checks it)',
      (p) => ((attestorSet(p).count = 2), (keys(p).publicKeys = `${BANK_KEY}${VENDOR_KEY}`)),
      `${VERIFY}.attestors[0].count: must be at most the number of entries (1); several keys in one publicKeys still count as one entry here, as Kyverno checks it`,
    ],
    ['a keyless attestor', (p) => (entry(p).keyless = { subject: 'ci@bank', issuer: 'https://token.actions.githubusercontent.com' }), `${ENTRY}.keyless: ${UNSUPPORTED}; ${KEYLESS}`],
    ['a certificates attestor', (p) => (entry(p).certificates = { cert: '-----BEGIN CERTIFICATE-----' }), `${ENTRY}.certificates: ${UNSUPPORTED}; ${KEYLESS}`],
    ['a nested attestor', (p) => (entry(p).attestor = { entries: [] }), `${ENTRY}.attestor: ${UNSUPPORTED}; nested attestor sets are not supported: list the keys as entries of one set and use count`],
    ['an entry without keys', (p) => delete entry(p).keys, `${ENTRY}.keys: is required`],
    ['keys without publicKeys', (p) => delete keys(p).publicKeys, `${ENTRY}.keys.publicKeys: is required`],
    ['a Secret key', (p) => (keys(p).secret = { name: 'cosign', namespace: 'kyverno' }), `${ENTRY}.keys.secret: ${UNSUPPORTED}; this cluster has no Secret store: write the PEM public key (cosign.pub) in publicKeys`],
    ['a KMS key', (p) => (keys(p).kms = 'awskms:///alias/cosign'), `${ENTRY}.keys.kms: ${UNSUPPORTED}; KMS keys are not supported: write the PEM public key (cosign.pub) in publicKeys`],
    ['sha512 signatures', (p) => (keys(p).signatureAlgorithm = 'sha512'), `${ENTRY}.keys.signatureAlgorithm: sha512 is a Kyverno signature algorithm TrustUsBank does not support yet (supported: sha256)`],
    ['a Rekor URL', (p) => (keys(p).rekor.url = 'https://rekor.sigstore.dev'), `${ENTRY}.keys.rekor.url: ${UNSUPPORTED}; ${NO_TLOG}`],
    ['an empty rekor (the public log)', (p) => (keys(p).rekor = {}), `${ENTRY}.keys.rekor.ignoreTlog: is required`],
    ['ignoreTlog false', (p) => (keys(p).rekor.ignoreTlog = false), `${ENTRY}.keys.rekor.ignoreTlog: must be true: ${NO_TLOG}`],
    ['ignoreSCT false', (p) => (keys(p).ctlog.ignoreSCT = false), `${ENTRY}.keys.ctlog.ignoreSCT: must be true: ${NO_TLOG}`],
    ['an empty publicKeys', (p) => (keys(p).publicKeys = ' '), `${ENTRY}.keys.publicKeys: must hold one or more PEM public keys (-----BEGIN PUBLIC KEY-----, as in cosign.pub)`],
    ['a Secret reference in publicKeys', (p) => (keys(p).publicKeys = 'k8s://kyverno/cosign-pub'), `${ENTRY}.keys.publicKeys: is a Secret reference: this cluster has no Secret store: write the PEM public key (cosign.pub) in publicKeys`],
    ['a variable in publicKeys', (p) => (keys(p).publicKeys = '{{ keys.data.bank }}'), `${ENTRY}.keys.publicKeys: uses a Kyverno variable: variables are not supported; write the PEM public key (cosign.pub) here`],
    ['text that is not PEM', (p) => (keys(p).publicKeys = 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE'), `${ENTRY}.keys.publicKeys: must hold one or more PEM public keys (-----BEGIN PUBLIC KEY----- … -----END PUBLIC KEY-----, as in cosign.pub)`],
    ['a private key', (p) => (keys(p).publicKeys = PRIVATE_KEY), `${ENTRY}.keys.publicKeys: the key is a private key (PRIVATE KEY): give the public key (cosign.pub), never the private one`],
    ['a private key after a public one', (p) => (keys(p).publicKeys = `${BANK_KEY}${PRIVATE_KEY}`), `${ENTRY}.keys.publicKeys: key 2 is a private key (PRIVATE KEY): give the public key (cosign.pub), never the private one`],
    [
      'a corrupted key',
      (p) => (keys(p).publicKeys = BANK_KEY.replace(/\n[A-Za-z0-9+/]{10}/, '\nAAAAAAAAAA')),
      `${ENTRY}.keys.publicKeys: the key is not a valid public key: `,
    ],
    ['text around the keys', (p) => (keys(p).publicKeys = `bank key:\n${BANK_KEY}`), `${ENTRY}.keys.publicKeys: has text outside its PEM blocks ("bank key:"): give only PEM public keys`],
  ])('refuses %s', (_description, edit, expected) => {
    const lines = problemLines(policyFile(edit));
    expect(lines).toHaveLength(1);
    if (expected.endsWith(': ')) expect(lines[0]).toContain(`${SUBJECT}: ${expected}`);
    else expect(lines).toEqual([`${SUBJECT}: ${expected}`]);
  });

  it('reports a keyless-only entry twice: the unsupported attestor and the missing keys', () => {
    const lines = problemLines(policyFile((p) => (attestorSet(p).entries = [{ keyless: { subject: 'ci@bank' } }])));
    expect(lines).toEqual([`${SUBJECT}: ${ENTRY}.keys: is required`, `${SUBJECT}: ${ENTRY}.keyless: ${UNSUPPORTED}; ${KEYLESS}`]);
  });
});

describe('publicKeysProblem', () => {
  it('accepts ECDSA and RSA public keys, one or several, and refuses other key types and certificates', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const ed25519 = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(publicKeysProblem(BANK_KEY)).toBeUndefined();
    expect(publicKeysProblem(`${BANK_KEY}\n${rsa}`)).toBeUndefined();
    expect(publicKeysProblem(ed25519)).toBe('the key is an ed25519 key: only ECDSA and RSA keys are supported (cosign generate-key-pair makes ECDSA P-256)');
    expect(publicKeysProblem('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----')).toBe(
      "the key is a certificate: certificate attestors are not supported; give the signer's public key (-----BEGIN PUBLIC KEY-----)",
    );
    expect(publicKeysProblem('-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PRIVATE KEY-----')).toBe('the key begins as PUBLIC KEY but ends as PRIVATE KEY');
    expect(publicKeysProblem('-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----')).toBe('the key is a EC PARAMETERS block: expected a PUBLIC KEY (SPKI, as in cosign.pub)');
  });

  it('splits several keys as Kyverno does, one PEM string each', () => {
    expect(publicKeyBlocks(`${BANK_KEY}${VENDOR_KEY}`)).toEqual([BANK_KEY, VENDOR_KEY]);
    expect(publicKeyBlocks(BANK_KEY.trim())).toEqual([BANK_KEY]);
  });
});
