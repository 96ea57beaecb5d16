// The supply chain of the embedded cluster: who signed which image digest, and admission. At start every build is
// signed as its publisher would: the bank's key (deploy/keys/, a committed demo key) signs the bank's own images
// and the vendor build it onboarded; the rug-pulled build carries a signature by the attacker's key (made per data
// directory). Admission runs before every pod is created: first the image's bytes must still be the ones its
// digest names (whatever the policies say: a signature names a digest, and a digest is only as good as the bytes
// behind it), then the Kyverno ClusterPolicies with verifyImages rules decide. A refusal is an event, a metric
// (Kyverno's kyverno_policy_results_total for policies; trustusbank_image_content_verifications_total for the
// bytes) and a log line naming image, digest and reason. The engine keeps the previous pod of a refused rollout.
// Every later start of a pod's process (a restart after a crash) verifies the bytes again: a blob rewritten after
// admission does not start either.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../core/log.ts';
import type { ClusterPolicy } from '../manifests/types.ts';
import { PROJECT_ROOT, type ImageStore } from '../runtime/images.ts';
import { evaluateImageAdmission } from '../supply-chain/admission.ts';
import { KeyStore, SignatureStore, cosignDockerReference, keyIdOf, signImage } from '../supply-chain/signing.ts';
import type { ImageBuild } from './cluster.ts';
import type { PodTemplate } from '../runtime/pod.ts';

export const BANK_KEY_DIR = join(PROJECT_ROOT, 'deploy', 'keys');
export const BANK_SIGNER = 'trustusbank-bank';
export const ATTACKER_SIGNER = 'attacker';

export interface AdmissionEvent {
  time: string;
  type: 'Warning';
  /** PolicyViolation: a ClusterPolicy refused (or audited) the image; ImageContentMismatch: its bytes are not its digest's. */
  reason: 'PolicyViolation' | 'ImageContentMismatch';
  /** `Deployment ns/name` (admission of a new pod), or `Pod ns/name` (a start of an existing pod's process). */
  object: string;
  image: string;
  digest: string;
  policy?: string;
  rule?: string;
  message: string;
}

export class AdmissionRefused extends Error {
  override readonly name = 'AdmissionRefused';
}

export interface SupplyChainOptions {
  dataDir: string;
  images: ImageStore;
  builds: ImageBuild[];
  /** Which build of each image its publisher ships: the default (clean) one. */
  defaultVariant: (image: string) => string | undefined;
  metrics: Registry;
  log: Logger;
  policies: () => ClusterPolicy[];
}

export class SupplyChain {
  readonly signatures: SignatureStore;
  private readonly signers = new Map<string, string>();
  private readonly results: Counter;
  private readonly contentChecks: Counter;
  private readonly recorded: AdmissionEvent[] = [];
  /** The last refusal per object (Deployment or Pod), so a reconciliation or a start retrying it is not a new event. */
  private readonly lastRefusal = new Map<string, string>();

  constructor(private readonly options: SupplyChainOptions) {
    this.signatures = SignatureStore.open(join(options.dataDir, 'images', 'signatures'));
    this.results = new Counter({
      name: 'kyverno_policy_results_total',
      help: 'Admission results per policy rule (Kyverno names and labels): rule_result is pass or fail.',
      labelNames: ['policy_validation_mode', 'policy_type', 'policy_name', 'rule_name', 'rule_result', 'rule_type', 'resource_kind', 'resource_namespace', 'resource_request_operation'],
      registers: [options.metrics],
    });
    this.contentChecks = new Counter({
      name: 'trustusbank_image_content_verifications_total',
      help: 'Image content checks before a pod is admitted (stage admission) or its process starts (stage start): result pass, or fail (counted once per distinct refusal).',
      labelNames: ['stage', 'result', 'resource_namespace', 'workload'],
      registers: [options.metrics],
    });
  }

  /** Sign every build as its publisher would (idempotent: a digest already signed by that key is left alone). */
  signBuilds(): void {
    const bank = { privateKeyPem: readFileSync(join(BANK_KEY_DIR, `${BANK_SIGNER}.key`), 'utf8'), publicKeyPem: readFileSync(join(BANK_KEY_DIR, `${BANK_SIGNER}.pub`), 'utf8') };
    const attacker = KeyStore.open(join(this.options.dataDir, 'keys')).ensure(ATTACKER_SIGNER);
    this.signers.set(keyIdOf(bank.publicKeyPem), BANK_SIGNER);
    this.signers.set(keyIdOf(attacker.publicKeyPem), ATTACKER_SIGNER);
    for (const build of this.options.builds) {
      const key = build.variant === this.options.defaultVariant(build.image) ? bank : attacker;
      const keyId = keyIdOf(key.publicKeyPem);
      if (this.signatures.list(build.digest).some((s) => s.keyId === keyId)) continue;
      this.signatures.add(build.digest, signImage(cosignDockerReference(build.image), build.digest, key.privateKeyPem));
    }
  }

  signersOf(digest: string): { signer: string; keyId: string }[] {
    return this.signatures.list(digest).map((s) => ({ signer: this.signers.get(s.keyId) ?? 'unknown key', keyId: s.keyId }));
  }

  events(): AdmissionEvent[] {
    return [...this.recorded];
  }

  /** The engine's admission hook: throws AdmissionRefused when the image's bytes or an enforcing policy refuse the pod. */
  admit(template: PodTemplate): void {
    const object = `Deployment ${template.namespace}/${template.deployment}`;
    this.verifyContent(template, object, 'admission');
    const policies = this.options.policies();
    const decision = policies.length === 0 ? undefined : evaluateImageAdmission(policies, { namespace: template.namespace, image: template.image, digest: template.imageDigest }, this.signatures.list(template.imageDigest));
    if (!decision?.policy) {
      this.lastRefusal.delete(object);
      return;
    }
    const labels = {
      policy_validation_mode: decision.enforced ? 'enforce' : 'audit',
      policy_type: 'cluster',
      policy_name: decision.policy,
      rule_name: decision.rule ?? '',
      rule_type: 'imageVerify',
      resource_kind: 'Pod',
      resource_namespace: template.namespace,
      resource_request_operation: 'create',
    };
    const failed = !decision.allowed || (decision.audit?.length ?? 0) > 0;
    if (!failed) {
      this.results.inc({ ...labels, rule_result: 'pass' });
      this.lastRefusal.delete(object);
      return;
    }
    const message = decision.allowed ? `audit: ${decision.audit?.join('; ')}` : decision.reason;
    const reported = this.report(template, object, 'PolicyViolation', message, decision.allowed ? 'admission audit' : 'admission refused', { ...(decision.policy ? { policy: decision.policy } : {}), ...(decision.rule ? { rule: decision.rule } : {}) });
    if (reported) this.results.inc({ ...labels, rule_result: 'fail' });
    if (!decision.allowed) throw new AdmissionRefused(decision.reason);
  }

  /** The pods' start hook, before every start of a pod's process (restarts included): throws AdmissionRefused when the bytes changed. */
  verifyStart(template: PodTemplate): void {
    const object = `Pod ${template.namespace}/${template.name}`;
    this.verifyContent(template, object, 'start');
    this.lastRefusal.delete(object);
  }

  private verifyContent(template: PodTemplate, object: string, stage: 'admission' | 'start'): void {
    const labels = { stage, resource_namespace: template.namespace, workload: template.deployment };
    const content = this.options.images.verify(template.imageDigest);
    if (content.ok) {
      this.contentChecks.inc({ ...labels, result: 'pass' });
      return;
    }
    const reason = `image ${template.image} (${template.imageDigest}) refused: ${content.reason}`;
    if (this.report(template, object, 'ImageContentMismatch', reason, stage === 'admission' ? 'admission refused' : 'pod start refused', {})) this.contentChecks.inc({ ...labels, result: 'fail' });
    throw new AdmissionRefused(reason);
  }

  /** Record a refusal or an audit failure as an event and a log line, once per object and distinct message; true when it was new. */
  private report(template: PodTemplate, object: string, reason: AdmissionEvent['reason'], message: string, logMessage: string, where: { policy?: string; rule?: string }): boolean {
    const key = `${template.imageDigest}|${message}`;
    // A reconciliation retries a refused rollout on every change, a pod its refused start with backoff: the same
    // refusal is one event, counted once.
    if (this.lastRefusal.get(object) === key) return false;
    this.lastRefusal.set(object, key);
    const event: AdmissionEvent = { time: new Date().toISOString(), type: 'Warning', reason, object, image: template.image, digest: template.imageDigest, ...where, message };
    this.recorded.push(event);
    if (this.recorded.length > 500) this.recorded.shift();
    this.options.log.warn(logMessage, { object, image: template.image, digest: template.imageDigest, event_reason: reason, ...where, reason: message });
    return true;
  }
}
