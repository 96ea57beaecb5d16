// The mesh certificate authority: a root that stays the same across restarts (when given a directory), a
// cluster intermediate under it, and short-lived workload SVIDs under the intermediate.
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import {
  createIntermediateCertificate,
  createLeafCertificate,
  createRootCertificate,
  type KeyedCertificate,
  privateKeyFromPem,
  privateKeyToPem,
} from './certificates.ts';
import { CA_FILES, type CaPems, CaStoreError, readCaPems, writeCaPems } from './ca-store.ts';
import { DEFAULT_TRUST_DOMAIN, spiffeIdFor } from './spiffe-id.ts';
import type { Svid, SvidIssuer, SvidRequest } from './svid.ts';
import { x509 } from './x509.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const ROOT_LIFETIME_MS = 10 * 365 * DAY_MS;
const INTERMEDIATE_LIFETIME_MS = 365 * DAY_MS;
/** An intermediate closer than this to its end is replaced on open, so SVIDs never outlive their issuer. */
const INTERMEDIATE_RENEW_BEFORE_MS = 30 * DAY_MS;
export const DEFAULT_SVID_TTL_MS = 60 * 60 * 1000;
/** notBefore lies this far in the past, so a peer whose clock runs a little behind still accepts a fresh SVID. */
export const SVID_BACKDATE_MS = 60 * 1000;

export interface CertificateAuthorityOptions {
  /** Where the CA keeps its PEM files; in memory only (a new root every time) when not given. */
  directory?: string;
  trustDomain?: string;
  /** Milliseconds since the epoch; injectable so validity windows can be tested. */
  now?: () => number;
}

/** An SVID request that cannot be honoured as asked. */
export class SvidRequestError extends Error {
  override readonly name = 'SvidRequestError';
}

export class CertificateAuthority implements SvidIssuer {
  private constructor(
    readonly trustDomain: string,
    readonly directory: string | undefined,
    private readonly root: KeyedCertificate,
    private readonly intermediate: KeyedCertificate,
    private readonly now: () => number,
  ) {}

  /** Load the CA from `directory` (creating it there on first start), or create one in memory. */
  static async open(options: CertificateAuthorityOptions = {}): Promise<CertificateAuthority> {
    const trustDomain = options.trustDomain ?? DEFAULT_TRUST_DOMAIN;
    const now = options.now ?? Date.now;
    const directory = options.directory;
    const stored = directory === undefined ? undefined : await readCaPems(directory);

    let root: KeyedCertificate;
    let intermediate: KeyedCertificate | undefined;
    if (stored) {
      ({ root, intermediate } = await loadCa(directory!, stored, now()));
    } else {
      root = await createRootCertificate(trustDomain, validityFrom(now(), ROOT_LIFETIME_MS));
      if (directory !== undefined) {
        await writeCaPems(directory, { rootCertificate: root.certificatePem, rootKey: await privateKeyToPem(root.privateKey) });
      }
    }
    if (!intermediate || intermediate.certificate.notAfter.getTime() - now() < INTERMEDIATE_RENEW_BEFORE_MS) {
      const notAfter = Math.min(now() + INTERMEDIATE_LIFETIME_MS, root.certificate.notAfter.getTime());
      intermediate = await createIntermediateCertificate(trustDomain, root, { notBefore: new Date(now() - SVID_BACKDATE_MS), notAfter: new Date(notAfter) });
      if (directory !== undefined) {
        await writeCaPems(directory, {
          intermediateCertificate: intermediate.certificatePem,
          intermediateKey: await privateKeyToPem(intermediate.privateKey),
        });
      }
    }
    return new CertificateAuthority(trustDomain, directory, root, intermediate, now);
  }

  /** The root certificate: what every mesh endpoint trusts. */
  trustBundlePem(): string {
    return this.root.certificatePem;
  }

  intermediateCertificatePem(): string {
    return this.intermediate.certificatePem;
  }

  async issueSvid(request: SvidRequest): Promise<Svid> {
    const ttlMs = request.ttlMs ?? DEFAULT_SVID_TTL_MS;
    if (!Number.isFinite(ttlMs) || ttlMs < 1000) throw new SvidRequestError(`SVID ttlMs must be at least 1000, got ${ttlMs}`);
    const spiffeId = spiffeIdFor(request.namespace, request.serviceAccount, this.trustDomain);
    const issuedAt = this.now();
    const notBefore = new Date(issuedAt - SVID_BACKDATE_MS);
    // An SVID valid past its issuer's end would be refused by every verifier anyway; say so in the certificate.
    const notAfter = new Date(Math.min(issuedAt + ttlMs, this.intermediate.certificate.notAfter.getTime()));
    const leaf = await createLeafCertificate(spiffeId, this.intermediate, { notBefore, notAfter });
    return {
      spiffeId,
      certificateChainPem: leaf.certificatePem + this.intermediate.certificatePem,
      privateKeyPem: leaf.privateKeyPem,
      serialNumber: leaf.serialNumber,
      notBefore,
      notAfter,
    };
  }
}

function validityFrom(now: number, lifetimeMs: number): { notBefore: Date; notAfter: Date } {
  return { notBefore: new Date(now - SVID_BACKDATE_MS), notAfter: new Date(now + lifetimeMs) };
}

/** Parse and cross-check what is on disk: each key matches its certificate, and the root signed the intermediate. */
async function loadCa(directory: string, pems: CaPems, now: number): Promise<{ root: KeyedCertificate; intermediate: KeyedCertificate }> {
  const path = (file: keyof CaPems) => join(directory, CA_FILES[file]);
  const rootCertificate = parseCertificate(path('rootCertificate'), pems.rootCertificate);
  const intermediateCertificate = parseCertificate(path('intermediateCertificate'), pems.intermediateCertificate);
  checkKeyMatches(path('rootKey'), pems.rootKey, rootCertificate);
  checkKeyMatches(path('intermediateKey'), pems.intermediateKey, intermediateCertificate);
  if (!rootCertificate.ca || !rootCertificate.verify(rootCertificate.publicKey)) {
    throw new CaStoreError(path('rootCertificate'), 'not a self-signed CA certificate');
  }
  if (Date.parse(rootCertificate.validTo) <= now) throw new CaStoreError(path('rootCertificate'), `root expired on ${rootCertificate.validTo}`);
  if (!intermediateCertificate.checkIssued(rootCertificate) || !intermediateCertificate.verify(rootCertificate.publicKey)) {
    throw new CaStoreError(path('intermediateCertificate'), `not signed by the root in ${CA_FILES.rootCertificate}`);
  }
  const root: KeyedCertificate = {
    certificate: new x509.X509Certificate(pems.rootCertificate),
    certificatePem: pems.rootCertificate,
    privateKey: await importKey(path('rootKey'), pems.rootKey),
  };
  const intermediate: KeyedCertificate = {
    certificate: new x509.X509Certificate(pems.intermediateCertificate),
    certificatePem: pems.intermediateCertificate,
    privateKey: await importKey(path('intermediateKey'), pems.intermediateKey),
  };
  // An expired or expiring intermediate is not an error: open() issues a fresh one under the same root.
  return { root, intermediate };
}

function parseCertificate(path: string, pem: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw new CaStoreError(path, `not a PEM certificate (${(error as Error).message})`);
  }
}

function checkKeyMatches(path: string, keyPem: string, certificate: X509Certificate): void {
  let publicKeyDer: Buffer;
  try {
    publicKeyDer = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
  } catch (error) {
    throw new CaStoreError(path, `not a PEM private key (${(error as Error).message})`);
  }
  if (!publicKeyDer.equals(certificate.publicKey.export({ type: 'spki', format: 'der' }))) {
    throw new CaStoreError(path, 'private key does not match its certificate');
  }
}

async function importKey(path: string, pem: string): Promise<Awaited<ReturnType<typeof privateKeyFromPem>>> {
  try {
    return await privateKeyFromPem(pem);
  } catch (error) {
    throw new CaStoreError(path, `not a PKCS#8 ECDSA P-256 key (${(error as Error).message})`);
  }
}
