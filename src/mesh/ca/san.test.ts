import { webcrypto, X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from './authority.ts';
import { CertificateParseError, uriSubjectAltNames } from './san.ts';
import { x509 } from './x509.ts';

async function certificate(extensions: x509.Extension[]): Promise<Buffer> {
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({ name: 'CN=test', keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' }, extensions });
  return Buffer.from(cert.rawData);
}

describe('uriSubjectAltNames', () => {
  let svidDer: Buffer;
  beforeAll(async () => {
    const ca = await CertificateAuthority.open();
    svidDer = new X509Certificate((await ca.issueSvid({ namespace: 'a', serviceAccount: 'b' })).certificateChainPem).raw;
  });

  it('reads the URI SAN of an SVID', () => {
    expect(uriSubjectAltNames(svidDer)).toEqual(['spiffe://cluster.local/ns/a/sa/b']);
  });

  it('agrees with a general ASN.1 parser on mixed, multiple and absent SANs', async () => {
    const cases = [
      [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'a.example' }, { type: 'url', value: 'spiffe://x/ns/a/sa/b' }, { type: 'ip', value: '10.0.0.1' }, { type: 'url', value: 'https://example.org/p' }])],
      [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'only.dns' }])],
      [new x509.BasicConstraintsExtension(false)],
      [],
    ];
    for (const extensions of cases) {
      const der = await certificate(extensions);
      const expected = (new x509.X509Certificate(new Uint8Array(der)).getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [])
        .filter((name) => name.type === 'url')
        .map((name) => name.value);
      expect(uriSubjectAltNames(der)).toEqual(expected);
    }
  });

  it('refuses every truncation of a certificate with a named error', () => {
    for (let length = 0; length < svidDer.length; length++) {
      expect(() => uriSubjectAltNames(svidDer.subarray(0, length)), `prefix of ${length} bytes`).toThrow(CertificateParseError);
    }
  });

  it('never reads out of bounds when bytes are corrupted', () => {
    for (let position = 0; position < svidDer.length; position++) {
      const corrupted = Buffer.from(svidDer);
      corrupted[position] = corrupted[position]! ^ 0xff;
      try {
        const names = uriSubjectAltNames(corrupted);
        expect(Array.isArray(names)).toBe(true);
      } catch (error) {
        expect(error).toBeInstanceOf(CertificateParseError);
      }
    }
  });

  it('refuses a certificate with two subjectAltName extensions', async () => {
    const der = await certificate([
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: 'spiffe://cluster.local/ns/a/sa/b' }]),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: 'spiffe://cluster.local/ns/c/sa/d' }]),
    ]);
    expect(() => uriSubjectAltNames(der)).toThrow(/more than one subjectAltName/);
  });
});
