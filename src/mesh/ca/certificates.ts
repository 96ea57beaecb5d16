// The three kinds of certificate the mesh CA makes, as functions of their inputs: a self-signed root, a cluster
// intermediate under it, and workload leaves (X.509-SVIDs) under the intermediate. No I/O here.
import { generateKeyPairSync, webcrypto } from 'node:crypto';
import { x509 } from './x509.ts';

type CryptoKey = webcrypto.CryptoKey;

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** A certificate with the private key that matches it. */
export interface KeyedCertificate {
  certificate: x509.X509Certificate;
  certificatePem: string;
  privateKey: CryptoKey;
}

export interface Validity {
  notBefore: Date;
  notAfter: Date;
}

export async function generateKeyPair(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  return withFinalNewline(x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY'));
}

// @peculiar/x509 ends PEM without a newline; concatenated into a chain, "-----END…-----BEGIN" on one line
// is not PEM any more, so every block we hand out ends with one.
function pemOf(certificate: x509.X509Certificate): string {
  return withFinalNewline(certificate.toString('pem'));
}

function withFinalNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : pem + '\n';
}

export async function privateKeyFromPem(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  return webcrypto.subtle.importKey('pkcs8', der, KEY_ALGORITHM, true, ['sign']);
}

export async function createRootCertificate(trustDomain: string, validity: Validity): Promise<KeyedCertificate> {
  const keys = await generateKeyPair();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: [{ O: [trustDomain] }, { CN: ['TrustUsBank mesh root CA'] }],
    ...validity,
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate, certificatePem: pemOf(certificate), privateKey: keys.privateKey };
}

/** The cluster CA. pathLen 0: it signs workloads only, never another CA. */
export async function createIntermediateCertificate(trustDomain: string, root: KeyedCertificate, validity: Validity): Promise<KeyedCertificate> {
  const keys = await generateKeyPair();
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: [{ O: [trustDomain] }, { CN: ['TrustUsBank cluster CA'] }],
    issuer: root.certificate.subjectName,
    ...validity,
    publicKey: keys.publicKey,
    signingKey: root.privateKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(root.certificate.publicKey),
    ],
  });
  return { certificate, certificatePem: pemOf(certificate), privateKey: keys.privateKey };
}

export interface LeafCertificate {
  certificatePem: string;
  privateKeyPem: string;
  serialNumber: string;
}

/**
 * An X.509-SVID: the SPIFFE id as the only URI SAN and an empty subject, as Istio issues them, so nothing can
 * mistake a common name for the identity. An empty subject makes the SAN extension critical (RFC 5280 §4.2.1.6).
 * EC keys do not encipher, so keyUsage is digitalSignature alone.
 */
export async function createLeafCertificate(spiffeId: string, issuer: KeyedCertificate, validity: Validity): Promise<LeafCertificate> {
  // node:crypto's synchronous EC key generation (~0.3 ms) instead of WebCrypto's: the leaf key never signs
  // here, and skipping WebCrypto's thread-pool round trips for generate and export halves issuance time.
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const serialNumber = randomSerialNumber();
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber,
    subject: '',
    issuer: issuer.certificate.subjectName,
    ...validity,
    publicKey: keys.publicKey.export({ type: 'spki', format: 'der' }),
    signingKey: issuer.privateKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId }], true),
      await authorityKeyIdentifierOf(issuer),
    ],
  });
  const privateKeyPem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  return { certificatePem: pemOf(certificate), privateKeyPem, serialNumber };
}

// The issuer's key identifier is the same for every leaf it signs; hashing its public key once per issuer
// rather than once per leaf is a measurable part of issuance time.
const authorityKeyIdentifiers = new WeakMap<KeyedCertificate, Promise<x509.AuthorityKeyIdentifierExtension>>();

function authorityKeyIdentifierOf(issuer: KeyedCertificate): Promise<x509.AuthorityKeyIdentifierExtension> {
  let extension = authorityKeyIdentifiers.get(issuer);
  if (!extension) {
    extension = x509.AuthorityKeyIdentifierExtension.create(issuer.certificate.publicKey);
    authorityKeyIdentifiers.set(issuer, extension);
  }
  return extension;
}

/** 128 random bits with the top bit clear: a positive INTEGER that is unique without keeping state. */
function randomSerialNumber(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return Buffer.from(bytes).toString('hex');
}
