import { webcrypto, X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from './authority.ts';
import { PeerIdentityError, spiffeIdOfPeerCertificate } from './peer-identity.ts';
import { x509 } from './x509.ts';

/** A self-signed certificate with exactly the SANs given: the shapes a CA of ours would never issue. */
async function certificateWithSans(names: { type: 'url' | 'dns'; value: string }[]): Promise<X509Certificate> {
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=spiffe://cluster.local/ns/forged/sa/by-common-name',
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : [],
  });
  return new X509Certificate(certificate.toString('pem'));
}

describe('spiffeIdOfPeerCertificate', () => {
  let ca: CertificateAuthority;
  beforeAll(async () => {
    ca = await CertificateAuthority.open();
  });

  it('reads the URI SAN of an SVID, from a Node X509Certificate or a legacy PeerCertificate shape', async () => {
    const svid = await ca.issueSvid({ namespace: 'trustusbank-bank-vendors', serviceAccount: 'currency-converter' });
    const leaf = new X509Certificate(svid.certificateChainPem);
    expect(spiffeIdOfPeerCertificate(leaf)).toBe('spiffe://cluster.local/ns/trustusbank-bank-vendors/sa/currency-converter');
    expect(spiffeIdOfPeerCertificate({ raw: leaf.raw })).toBe(svid.spiffeId);
  });

  it('refuses a certificate without a URI SAN, even with a SPIFFE-looking common name', async () => {
    const result = spiffeIdOfPeerCertificate(await certificateWithSans([{ type: 'dns', value: 'account-mcp.example' }]));
    expect(result).toBeInstanceOf(PeerIdentityError);
    expect((result as PeerIdentityError).problem).toMatch(/no URI subject alternative name/);
    expect(spiffeIdOfPeerCertificate(await certificateWithSans([]))).toBeInstanceOf(PeerIdentityError);
  });

  it('refuses a certificate with several URI SANs', async () => {
    const result = spiffeIdOfPeerCertificate(
      await certificateWithSans([
        { type: 'url', value: 'spiffe://cluster.local/ns/a/sa/b' },
        { type: 'url', value: 'spiffe://cluster.local/ns/c/sa/d' },
      ]),
    );
    expect(result).toBeInstanceOf(PeerIdentityError);
    expect((result as PeerIdentityError).problem).toMatch(/2 URI subject alternative names/);
  });

  it('refuses a URI SAN that is not a well-formed SPIFFE id', async () => {
    const result = spiffeIdOfPeerCertificate(await certificateWithSans([{ type: 'url', value: 'spiffe://cluster.local/ns/a/sa/b/extra' }]));
    expect(result).toBeInstanceOf(PeerIdentityError);
    expect((result as PeerIdentityError).message).toMatch(/malformed SPIFFE id/);
  });

  it('returns an error value for bytes that are not a certificate', () => {
    expect(spiffeIdOfPeerCertificate({ raw: Buffer.from('not a certificate') })).toBeInstanceOf(PeerIdentityError);
  });
});
